//! Redis's memory limits: the eviction policy checked at start (refused,
//! warned, silent), and Redis filled to `maxmemory` under `noeviction`
//! while bayes has a backlog and keyed clients keep writing.

use crate::harness::{RedisServer, SETTLE, TestApp, eventually, metric, run_to_exit};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// Both binaries, against `redis`, exit non-zero naming the policy and the fix.
#[tokio::test]
async fn an_allkeys_policy_is_refused_by_both_services() {
    let redis = RedisServer::start_with(&[
        "--appendonly",
        "no",
        "--maxmemory",
        "100mb",
        "--maxmemory-policy",
        "allkeys-lru",
    ]);
    let url = redis.url();
    let port = crate::harness::free_port().to_string();
    let api_addr = format!("127.0.0.1:{port}");
    for binary in ["api", "bayes"] {
        let env = [
            ("REDIS_URL", url.as_str()),
            ("KEY_PREFIX", "evict"),
            ("API_ADDR", api_addr.as_str()),
            ("METRICS_ADDR", "127.0.0.1:0"),
        ];
        let (status, stderr) = run_to_exit(binary, &env);
        assert!(!status.success(), "{binary} ran on allkeys-lru: {stderr}");
        assert!(
            stderr.contains("maxmemory-policy allkeys-lru") && stderr.contains("noeviction"),
            "{binary} names the policy and the fix: {stderr}"
        );
        assert!(stderr.contains("ALLOW_EVICTION"), "{binary}: {stderr}");
    }
}

#[tokio::test]
async fn an_allkeys_policy_runs_with_the_override_and_says_so() {
    let app = TestApp::builder()
        .redis_args(&["--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lfu"])
        .env("ALLOW_EVICTION", "true")
        .spawn()
        .await;
    let (w, n) = app.load(20, 4).await;
    assert_eq!(app.wait_for_n(n).await, (w, n));
    let (status, ready) = app.call("GET", "/readyz", None).await;
    assert_eq!(status, 200, "{ready}");
    assert!(
        ready["warnings"][0]
            .as_str()
            .unwrap()
            .contains("allkeys-lfu"),
        "{ready}"
    );
    assert!(app.api_log().contains("ALLOW_EVICTION=true"));
    assert!(app.bayes_logs().contains("ALLOW_EVICTION=true"));
}

#[tokio::test]
async fn a_volatile_policy_is_warned_and_noeviction_is_silent() {
    let volatile = TestApp::builder()
        .redis_args(&["--maxmemory", "100mb", "--maxmemory-policy", "volatile-lru"])
        .spawn()
        .await;
    let quiet = TestApp::builder()
        .redis_args(&["--maxmemory", "100mb", "--maxmemory-policy", "noeviction"])
        .spawn()
        .await;
    for app in [&volatile, &quiet] {
        let (w, n) = app.load(20, 4).await;
        assert_eq!(app.wait_for_n(n).await, (w, n), "both run");
    }
    let (status, ready) = volatile.call("GET", "/readyz", None).await;
    assert_eq!(status, 200, "{ready}");
    let warning = ready["warnings"][0].as_str().unwrap_or_default().to_owned();
    assert!(
        warning.contains("volatile-lru") && warning.contains("Idempotency-Key"),
        "{ready}"
    );
    assert_eq!(ready["memory"][0]["policy"], "volatile-lru", "{ready}");
    assert!(volatile.api_log().contains("maxmemory-policy volatile-lru"));
    assert!(
        volatile
            .bayes_logs()
            .contains("maxmemory-policy volatile-lru")
    );

    let (status, ready) = quiet.call("GET", "/readyz", None).await;
    assert_eq!(status, 200, "{ready}");
    assert!(ready.get("warnings").is_none(), "{ready}");
    assert_eq!(
        ready["memory"][0]["max_bytes"],
        100 * 1024 * 1024,
        "{ready}"
    );
    for log in [quiet.api_log(), quiet.bayes_logs()] {
        assert!(
            !log.contains("maxmemory-policy"),
            "noeviction is silent: {log}"
        );
    }
}

/// A client without a care for the answer's kind: sends `body` under `key`
/// until it is accepted; every answer's status and `stored` field, in order.
async fn post_until_accepted(app: &TestApp, model: &str, key: &str) -> Vec<(u16, Value)> {
    let mut answers = Vec::new();
    loop {
        let response = app
            .http
            .post(format!("{}/models/{model}/observations", app.api_url))
            .header("Idempotency-Key", key)
            .json(&json!({"trials": "wwl"}))
            .send()
            .await
            .expect("api answers");
        let status = response.status().as_u16();
        let retry_after = response.headers().contains_key("retry-after");
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status == 202 || status == 503, "{status} {body}");
        assert!(
            status == 202 || retry_after,
            "a 503 says when to retry: {body}"
        );
        answers.push((status, body));
        if status == 202 {
            return answers;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Writes junk into database 1 until Redis is past its `maxmemory`.
async fn fill(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(format!("{}/1", redis.url())).expect("db 1");
    let mut junk = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    // Scripts of 1,000 values until Redis refuses one for want of memory.
    for chunk in 0.. {
        let filled: redis::RedisResult<()> = redis::cmd("EVAL")
            .arg("for i = 1, 1000 do redis.call('SET', 'junk:' .. ARGV[1] .. ':' .. i, string.rep('x', 1000)) end")
            .arg(0)
            .arg(chunk)
            .query_async(&mut junk)
            .await;
        match filled {
            Ok(()) => assert!(chunk < 1_000, "Redis never filled"),
            Err(error) if error.code() == Some("OOM") => break,
            Err(error) => panic!("fill database 1: {error}"),
        }
    }
    junk
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_memory_answers_503_naming_memory_and_loses_nothing() {
    let mut app = TestApp::builder()
        .redis_args(&["--maxmemory", "24mb", "--maxmemory-policy", "noeviction"])
        .env("PARTITIONS", "2")
        .spawn()
        .await;
    // A backlog: observations stored while bayes is down.
    app.bayes[0].kill();
    let models = ["m0", "m1", "m2", "m3"];
    let mut accepted = HashMap::<&str, u64>::new();
    for (i, model) in models.iter().enumerate() {
        for j in 0..25 {
            let answers = post_until_accepted(&app, model, &format!("before-{i}-{j}")).await;
            assert_eq!(answers.len(), 1);
            *accepted.entry(model).or_default() += 1;
        }
    }
    let mut junk = fill(&app.redis).await;
    app.start_bayes();

    // Keyed clients keep writing: refused with 503 while Redis is full.
    let clients = models.iter().enumerate().map(|(i, model)| {
        let app = &app;
        async move {
            let mut answers = Vec::new();
            for j in 0..5 {
                answers.extend(post_until_accepted(app, model, &format!("during-{i}-{j}")).await);
            }
            answers
        }
    });
    let during = async {
        eventually("a 503 naming memory", SETTLE, || async {
            let (status, body) = app
                .call(
                    "POST",
                    "/models/probe/observations",
                    Some(json!({"trials": "w"})),
                )
                .await;
            (status == 503).then_some(body)
        })
        .await
    };
    let refused = during.await;
    assert!(
        refused["error"].as_str().unwrap().contains("out of memory"),
        "{refused}"
    );
    assert_eq!(refused["stored"], "no", "{refused}");
    let (status, ready) = app.call("GET", "/readyz", None).await;
    assert_eq!(status, 503, "{ready}");
    assert!(
        ready["error"].as_str().unwrap().contains("out of memory"),
        "{ready}"
    );
    let writes = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let _: () = redis::cmd("FLUSHDB")
            .query_async(&mut junk)
            .await
            .expect("flush");
    });
    let answers: Vec<(u16, Value)> = futures_util::future::join_all(clients)
        .await
        .into_iter()
        .flatten()
        .collect();
    writes.await.expect("flush task");
    let refusals = answers.iter().filter(|(status, _)| *status == 503).count();
    assert!(refusals > 0, "clients met Redis full");
    for (status, body) in &answers {
        if *status == 503 {
            assert_eq!(body["stored"], "no", "{body}");
        }
    }
    assert!(
        !app.api.has_exited() && !app.bayes[1].has_exited(),
        "no process exits"
    );
    assert!(metric(&app.api_url, "api_redis_oom_total").await > 0.0);

    // Once the junk is gone: every acknowledged observation counted once.
    for model in models {
        let expected = 3 * (accepted[model] + 5);
        let w = eventually("the backlog and the retries applied", SETTLE, || async {
            let (w, n) = app.model_counts(model).await;
            assert!(n <= expected, "{model} counted twice: {n} > {expected}");
            (n == expected).then_some(w)
        })
        .await;
        assert_eq!(w, 2 * expected / 3, "{model}'s wins");
    }
    // bayes retried all along, and said so once per episode, not per attempt.
    let attempts = metric(&app.bayes_metrics[1], "bayes_redis_oom_total").await;
    let logs = app.bayes[1].log();
    let warnings = logs
        .matches("retrying (logged again when it recovers)")
        .count();
    assert!(warnings >= 1 && logs.contains("recovered"), "{logs}");
    eprintln!(
        "out of memory: {refusals} answers 503 out of memory, {} accepted; bayes: {attempts} \
         refused attempts, {warnings} warnings",
        answers.len() - refusals
    );
    assert!(
        (warnings as f64) < attempts,
        "{warnings} warnings for {attempts} refused attempts: {logs}"
    );
}
