//! The apply script where duplicates are removed: on a real Redis, through
//! the real repository. A resent apply is a no-op that reports success; an
//! apply from a position someone else moved past changes nothing.

use crate::harness::RedisServer;
use bayes::application::{ApplyOutcome, Batch, Op, PartitionStore};
use bayes::infrastructure::redis::RedisPartitionStore;
use domain::DefaultDefinitions;
use platform::redis_settings::RedisArgs;
use std::time::Duration;

fn store(redis: &RedisServer, applier: &str) -> RedisPartitionStore {
    let settings = RedisArgs {
        redis_url: redis.url(),
        redis_cluster: false,
        replicas_ack: 0,
        allow_eviction: false,
        key_prefix: "apply".to_owned(),
        redis_timeout: Duration::from_secs(2),
        partitions: 1,
    }
    .settings()
    .expect("valid settings");
    let connection = settings.connection().expect("connection");
    RedisPartitionStore::new(
        connection,
        settings.keys,
        applier.to_owned(),
        DefaultDefinitions::default(),
        100,
    )
}

fn batch(after: &str, last: &str, wins: u64, trials: u64) -> Batch {
    Batch {
        after: after.to_owned(),
        last: last.to_owned(),
        entries: trials,
        ops: vec![Op::Add {
            model: "default".to_owned(),
            wins,
            trials,
            at: 0,
        }],
        ..Batch::default()
    }
}

async fn counts(redis: &RedisServer) -> (u64, u64) {
    let mut connection = redis.connection().await;
    let (w, n): (Option<u64>, Option<u64>) = redis::cmd("HMGET")
        .arg("apply:model")
        .arg("w")
        .arg("n")
        .query_async(&mut connection)
        .await
        .unwrap();
    (w.unwrap_or(0), n.unwrap_or(0))
}

#[tokio::test]
async fn the_same_batch_applied_twice_is_counted_once_and_a_stale_one_not_at_all() {
    let redis = RedisServer::start();
    let (first, second) = (store(&redis, "a"), store(&redis, "b"));
    assert_eq!(first.open(0).await.unwrap(), "0-0");

    let one = batch("0-0", "5-2", 2, 3);
    assert_eq!(first.apply(0, &one).await.unwrap(), ApplyOutcome::Applied);
    // redis-rs resends a request after a reconnect: the same apply again.
    assert_eq!(first.apply(0, &one).await.unwrap(), ApplyOutcome::Replayed);
    assert_eq!(counts(&redis).await, (2, 3), "counted once");

    // Another owner that read the same batch from the same cursor.
    assert_eq!(
        second.apply(0, &one).await.unwrap(),
        ApplyOutcome::Fenced {
            cursor: "5-2".into()
        }
    );
    assert_eq!(
        second.apply(0, &batch("0-0", "6-0", 1, 1)).await.unwrap(),
        ApplyOutcome::Fenced {
            cursor: "5-2".into()
        }
    );
    assert_eq!(
        counts(&redis).await,
        (2, 3),
        "a stale owner changes nothing"
    );

    // Where the cursor is, anyone may go on.
    assert_eq!(
        second.apply(0, &batch("5-2", "6-0", 1, 1)).await.unwrap(),
        ApplyOutcome::Applied
    );
    assert_eq!(counts(&redis).await, (3, 4));
    let mut connection = redis.connection().await;
    let read: u64 = redis::cmd("HGET")
        .arg("apply:cursor")
        .arg("read")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(read, 4, "entries applied so far");
}

/// The owner caches its models as of its cursor and writes absolute
/// counts: when another owner moved the cursor meanwhile, the stale
/// owner's batch is fenced, it forgets what it knew, and its next batch
/// (from where the cursor really is) starts from the stored counts.
#[tokio::test]
async fn a_fenced_owner_forgets_its_cached_counts_and_neither_loses_nor_doubles() {
    let redis = RedisServer::start();
    let (first, second) = (store(&redis, "a"), store(&redis, "b"));
    first.open(0).await.unwrap();
    second.open(0).await.unwrap();
    // The first owner caches default at (2, 3) as of 1-0.
    assert_eq!(
        first.apply(0, &batch("0-0", "1-0", 2, 3)).await.unwrap(),
        ApplyOutcome::Applied
    );
    // The other takes over and moves the cursor on: (7, 13) as of 2-0.
    assert_eq!(
        second.apply(0, &batch("1-0", "2-0", 5, 10)).await.unwrap(),
        ApplyOutcome::Applied
    );
    assert_eq!(counts(&redis).await, (7, 13));
    // The stale owner's next batch, from its own cursor, would write
    // (2, 3) + its counts over (7, 13): fenced, nothing written.
    assert_eq!(
        first.apply(0, &batch("1-0", "3-0", 1, 1)).await.unwrap(),
        ApplyOutcome::Fenced {
            cursor: "2-0".into()
        }
    );
    assert_eq!(counts(&redis).await, (7, 13), "nothing lost");
    // Read again from the stored cursor, the same entries apply on (7, 13).
    assert_eq!(
        first.apply(0, &batch("2-0", "3-0", 1, 1)).await.unwrap(),
        ApplyOutcome::Applied
    );
    assert_eq!(counts(&redis).await, (8, 14), "nothing doubled");
    // And the other owner, now stale in turn, learns the same way.
    assert_eq!(
        second.apply(0, &batch("2-0", "4-0", 1, 1)).await.unwrap(),
        ApplyOutcome::Fenced {
            cursor: "3-0".into()
        }
    );
    assert_eq!(
        second.apply(0, &batch("3-0", "4-0", 0, 2)).await.unwrap(),
        ApplyOutcome::Applied
    );
    assert_eq!(counts(&redis).await, (8, 16));
}

/// A batch applied and then sent again (bayes retries an apply whose
/// replicas did not confirm it, or redis-rs resends it) is `Replayed`: the
/// owner's cache must not take the replayed plan, made from counts that
/// already held the batch, for the truth.
#[tokio::test]
async fn a_replayed_batch_leaves_the_owner_s_counts_exact() {
    let redis = RedisServer::start();
    let owner = store(&redis, "a");
    owner.open(0).await.unwrap();
    let first = batch("0-0", "1-0", 2, 3);
    assert_eq!(owner.apply(0, &first).await.unwrap(), ApplyOutcome::Applied);
    assert_eq!(
        owner.apply(0, &first).await.unwrap(),
        ApplyOutcome::Replayed
    );
    assert_eq!(counts(&redis).await, (2, 3));
    assert_eq!(
        owner.apply(0, &batch("1-0", "2-0", 1, 1)).await.unwrap(),
        ApplyOutcome::Applied
    );
    assert_eq!(
        counts(&redis).await,
        (3, 4),
        "nothing doubled after the replay"
    );
}

/// A failover can promote a replica that never received a partition's
/// start (replication is asynchronous): the cursor is gone. The apply
/// starts the partition again and answers "fenced" at its new cursor, so
/// the worker reads from there, instead of retrying a refused apply forever.
#[tokio::test]
async fn a_partition_whose_cursor_was_lost_is_started_again() {
    let redis = RedisServer::start();
    let owner = store(&redis, "a");
    owner.open(0).await.unwrap();
    let mut connection = redis.connection().await;
    let _: () = redis::cmd("DEL")
        .arg("apply:cursor")
        .arg("apply:events")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(
        owner.apply(0, &batch("5-0", "6-0", 1, 1)).await.unwrap(),
        ApplyOutcome::Fenced {
            cursor: "0-0".into()
        }
    );
    assert_eq!(
        owner.apply(0, &batch("0-0", "6-0", 1, 1)).await.unwrap(),
        ApplyOutcome::Applied
    );
    assert_eq!(counts(&redis).await, (1, 1));
}
