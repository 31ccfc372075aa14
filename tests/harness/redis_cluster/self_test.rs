//! The harness's own drill: a cluster starts, spreads its slots, fails over
//! after a crash, takes its old master back and swaps roles on request.

use super::nodes::url;
use std::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_starts_spreads_slots_and_fails_over() {
    let started = Instant::now();
    // Through the re-export the suites use.
    let mut cluster = crate::harness::RedisCluster::start().await;
    eprintln!("cluster started in {:?}", started.elapsed());
    assert!(
        cluster
            .ports()
            .iter()
            .all(|p| cluster.url().contains(&url(*p)))
    );
    let nodes = cluster.nodes();
    let masters: Vec<u16> = nodes
        .iter()
        .filter(|n| n.is_master)
        .map(|n| n.port)
        .collect();
    assert_eq!(masters.len(), 3, "{nodes:#?}");
    let sizes = nodes
        .iter()
        .flat_map(|n| n.slots.clone())
        .map(|(a, b)| b - a + 1);
    assert_eq!(
        sizes.map(u32::from).sum::<u32>(),
        16384,
        "every slot is served once"
    );
    assert!(masters.iter().all(|m| cluster.replica_of(*m) != *m));

    let key = "{p0}x";
    let mut any = cluster.connection(masters[0]);
    let slot: u16 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query(&mut any)
        .expect("KEYSLOT");
    let master = cluster.master_of_slot(slot);
    let replica = cluster.replica_of(master);
    let mut writer = cluster.connection(master);
    redis::cmd("SET")
        .arg(key)
        .arg(1)
        .exec(&mut writer)
        .expect("SET on the slot's master");
    let acked: i64 = redis::cmd("WAIT")
        .arg(1)
        .arg(1000)
        .query(&mut writer)
        .expect("WAIT");
    assert_eq!(acked, 1, "the replica acknowledged the write");

    let crashed = Instant::now();
    cluster.kill(master);
    cluster.wait_for_promotion(master, replica).await;
    eprintln!(
        "{replica} took over {:?} after {master} crashed",
        crashed.elapsed()
    );
    assert_eq!(cluster.master_of_slot(slot), replica);
    let mut reader = cluster.connection(replica);
    let value: Option<String> = redis::cmd("GET").arg(key).query(&mut reader).expect("GET");
    assert_eq!(value.as_deref(), Some("1"));

    let restarted = Instant::now();
    cluster.restart(master);
    cluster.wait_healthy().await;
    eprintln!("{master} rejoined in {:?}", restarted.elapsed());
    assert_eq!(
        cluster.replica_of(replica),
        master,
        "the old master follows"
    );

    let other = *masters
        .iter()
        .find(|&&p| p != master)
        .expect("another master");
    let other_replica = cluster.replica_of(other);
    let switched = Instant::now();
    cluster.manual_failover(other_replica).await;
    eprintln!("manual failover took {:?}", switched.elapsed());
    assert_eq!(cluster.replica_of(other_replica), other, "roles swapped");
    eprintln!("the whole test took {:?}", started.elapsed());
}
