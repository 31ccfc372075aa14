use super::*;
use crate::application::fakes::{Changes, MemoryLeases, MemoryLog, MemoryStore};
use std::sync::Mutex;

#[tokio::test]
async fn two_instances_split_four_partitions_two_each_and_release_them_at_shutdown() {
    let holders = Arc::new(Mutex::new(BTreeMap::new()));
    let alive = vec!["a".to_owned(), "b".to_owned()];
    let shutdown = CancellationToken::new();
    let mut runs = Vec::new();
    for name in ["a", "b"] {
        let leases = MemoryLeases {
            instance: name.to_owned(),
            alive: Mutex::new(alive.clone()),
            holders: holders.clone(),
        };
        let log = MemoryLog::of(&[], CancellationToken::new());
        let workers = Workers::new(
            Arc::new(log),
            Arc::new(MemoryStore::default()),
            Arc::new(Changes::default()),
        );
        let ownership = Ownership::new(Arc::new(leases), workers, 4, name.to_owned());
        let assignment = Assignment::Leased {
            renew_every: Duration::from_millis(10),
        };
        runs.push(tokio::spawn(ownership.run(assignment, shutdown.clone())));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let owners: Vec<String> = holders.lock().unwrap().values().cloned().collect();
        let a = owners.iter().filter(|o| *o == "a").count();
        if owners.len() == 4 && a == 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no even split: {owners:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    shutdown.cancel();
    for run in runs {
        run.await.unwrap().unwrap();
    }
    assert!(holders.lock().unwrap().is_empty(), "every lease given up");
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("i{i}")).collect()
}

#[test]
fn shares_add_up_and_differ_by_at_most_one() {
    for partitions in 1..20 {
        for alive in 1..6 {
            let names = names(alive);
            let shares: Vec<usize> = names.iter().map(|n| share(partitions, &names, n)).collect();
            assert_eq!(shares.iter().sum::<usize>(), partitions as usize);
            let (lo, hi) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
            assert!(hi - lo <= 1, "{partitions} over {alive}: {shares:?}");
        }
    }
}
