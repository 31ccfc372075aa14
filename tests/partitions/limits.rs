//! What is bounded: the log's retention, per partition, and the ingest
//! queue, which answers 503 when full.

use crate::harness::{SETTLE, TestApp, eventually};

#[tokio::test]
async fn loss_to_retention_is_detected_per_partition() {
    let mut app = TestApp::builder()
        .bayes_instances(0)
        .env("PARTITIONS", "2")
        .spawn()
        .await;
    let keys = app.keys();
    // One model in each partition.
    let (mut trimmed, mut kept) = (None, None);
    for i in 0.. {
        let name = domain::ModelName::parse(&format!("m{i}")).unwrap();
        let slot = if keys.partition_for(&name).index == 0 {
            &mut trimmed
        } else {
            &mut kept
        };
        slot.get_or_insert(name);
        if trimmed.is_some() && kept.is_some() {
            break;
        }
    }
    let (trimmed, kept) = (trimmed.unwrap(), kept.unwrap());
    let mut connection = app.redis.connection().await;
    for (name, count, maxlen) in [(&trimmed, 3_000, 200), (&kept, 50, 0)] {
        let stream = &keys.partition_for(name).events;
        let mut pipeline = redis::pipe();
        for _ in 0..count {
            let xadd = pipeline.cmd("XADD").arg(stream);
            if maxlen > 0 {
                xadd.arg("MAXLEN").arg(maxlen);
            }
            xadd.arg("*")
                .arg("model")
                .arg(name.as_str())
                .arg("trial")
                .arg("w")
                .ignore();
        }
        let () = pipeline.query_async(&mut connection).await.unwrap();
    }
    app.start_bayes();
    let lost_of = |partition: u32| {
        let cursor = keys.partition(partition).unwrap().cursor.clone();
        let client = app.redis.client();
        async move {
            let mut connection = client.get_multiplexed_async_connection().await.ok()?;
            redis::cmd("HGET")
                .arg(cursor)
                .arg("lost")
                .query_async::<Option<u64>>(&mut connection)
                .await
                .ok()
                .flatten()
        }
    };
    let lost = eventually("the loss in partition 0", SETTLE, || async {
        lost_of(0).await.filter(|l| *l > 0)
    })
    .await;
    assert_eq!(lost, 2_800, "3000 appended, 200 kept");
    assert_eq!(
        eventually("partition 1 applied", SETTLE, || async {
            let counts = app.model_counts(kept.as_str()).await;
            (counts.1 == 50).then_some(counts)
        })
        .await,
        (50, 50)
    );
    assert_eq!(app.model_counts(trimmed.as_str()).await, (200, 200));
    assert_eq!(
        lost_of(1).await,
        Some(0),
        "nothing lost where nothing was trimmed"
    );
}

#[tokio::test]
async fn a_full_ingest_queue_answers_503_with_retry_after_and_stores_nothing_of_it() {
    let app = TestApp::builder().env("INGEST_QUEUE", "2").spawn().await;
    let mut connection = app.redis.connection().await;
    // Writes stall for a second: requests pile up in the bounded queue.
    let () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(1_000)
        .arg("WRITE")
        .query_async(&mut connection)
        .await
        .unwrap();
    let requests: Vec<_> = (0..64)
        .map(|_| {
            let (http, url) = (app.http.clone(), format!("{}/update_model/w", app.api_url));
            tokio::spawn(async move {
                let response = http.get(url).send().await.expect("api answers");
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap_or("").to_owned());
                (response.status().as_u16(), retry_after)
            })
        })
        .collect();
    let (mut accepted, mut refused) = (0, 0);
    for request in requests {
        match request.await.unwrap() {
            (202, _) => accepted += 1,
            (503, Some(retry_after)) => {
                assert_eq!(retry_after, "1");
                refused += 1;
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert!(
        refused > 0,
        "the bounded queue refused some of 64 concurrent requests"
    );
    assert_eq!(accepted + refused, 64);
    assert_eq!(app.wait_for_n(accepted).await.1, accepted);
    assert_eq!(
        app.log_observations().await,
        accepted,
        "nothing of a 503 was stored"
    );
    eprintln!("overload: {accepted} accepted, {refused} answered 503 with Retry-After");
}
