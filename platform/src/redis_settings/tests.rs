use super::*;

/// Arguments for `url` with `prefix` and `partitions`, the rest as the defaults.
fn args(url: &str, prefix: &str, partitions: u32) -> RedisArgs {
    RedisArgs {
        redis_url: url.to_owned(),
        redis_cluster: false,
        replicas_ack: 0,
        allow_eviction: false,
        key_prefix: prefix.to_owned(),
        redis_timeout: Duration::from_millis(100),
        partitions,
    }
}

#[test]
fn passwords_are_masked() {
    assert_eq!(
        mask_password("redis://:s3cret@host:6379/0"),
        "redis://:***@host:6379/0"
    );
    assert_eq!(
        mask_password("rediss://user:s3cret@host"),
        "rediss://user:***@host"
    );
    assert_eq!(
        mask_password("redis://127.0.0.1:6379"),
        "redis://127.0.0.1:6379"
    );
}

#[test]
fn a_malformed_url_is_refused_with_the_url_masked() {
    let args = args("http://:pw@localhost", "bayes", 1);
    let message = args.settings().unwrap_err().to_string();
    assert!(
        message.starts_with("invalid REDIS_URL http://:***@localhost"),
        "{message}"
    );
    assert!(!message.contains("pw"), "{message}");
}

#[test]
fn a_tagged_prefix_is_refused_with_partitions() {
    let args = args("redis://127.0.0.1", "{bayes}", 4);
    let message = args.settings().unwrap_err().to_string();
    assert!(
        message.contains("{bayes}") && message.contains("PARTITIONS=4"),
        "{message}"
    );
    let one = RedisArgs {
        partitions: 1,
        ..args
    };
    assert!(one.settings().is_ok());
}

#[test]
fn a_cluster_needs_each_partition_in_one_slot() {
    let args = args("redis://127.0.0.1:7000,redis://127.0.0.1:7001", "bayes", 1);
    let message = args.settings().unwrap_err().to_string();
    assert!(message.contains("KEY_PREFIX={bayes}"), "{message}");
    let tagged = RedisArgs {
        key_prefix: "{bayes}".to_owned(),
        ..args.clone()
    };
    assert!(tagged.settings().unwrap().is_cluster());
    let partitioned = RedisArgs {
        partitions: 6,
        ..args.clone()
    };
    let settings = partitioned.settings().unwrap();
    assert!(settings.is_cluster());
    assert_eq!(settings.nodes.len(), 2);
    let one_seed = RedisArgs {
        redis_url: "redis://127.0.0.1:7000".to_owned(),
        redis_cluster: true,
        ..partitioned
    };
    assert!(one_seed.settings().unwrap().is_cluster());
    let single = RedisArgs {
        redis_url: "redis://127.0.0.1:7000".to_owned(),
        ..args
    };
    assert!(!single.settings().unwrap().is_cluster());
}
