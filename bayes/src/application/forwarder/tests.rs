use super::*;
use crate::application::fakes::{MemoryIngressLog, ScriptedChannel};
use std::sync::Mutex;

fn message(channel: &str, payload: &[u8]) -> ChannelMessage {
    ChannelMessage {
        channel: channel.to_owned(),
        payload: payload.to_vec(),
    }
}

async fn run(leader: bool, messages: Vec<ChannelMessage>) -> (Arc<MemoryIngressLog>, usize) {
    let log = Arc::new(MemoryIngressLog::default());
    *log.leader.lock().unwrap() = leader;
    let shutdown = CancellationToken::new();
    let subscriptions = Arc::new(Mutex::new(0));
    let channel = ScriptedChannel {
        queue: messages.into(),
        subscriptions: subscriptions.clone(),
        drained: shutdown.clone(),
    };
    let forwarder = Forwarder::new(
        log.clone(),
        channel,
        "update_model".into(),
        Duration::from_millis(20),
    );
    if !leader {
        let stop = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            stop.cancel();
        });
    }
    forwarder.run(shutdown).await;
    let subscribed = *subscriptions.lock().unwrap();
    (log, subscribed)
}

#[tokio::test]
async fn the_leader_forwards_observations_per_model_and_dead_letters_the_rest() {
    let messages = vec![
        message("update_model", b"w"),
        message("update_model:b", b"l"),
        message("update_model", b"x"),
        message("update_model:b", b"w"),
        message("update_model:a/b", b"w"),
        message("update_modelx", b"w"),
        message("update_model", b"W"),
    ];
    let (log, subscribed) = run(true, messages).await;
    assert_eq!(subscribed, 1);
    let appended = log.appended.lock().unwrap().clone();
    assert_eq!(
        appended,
        [
            ("default".to_owned(), Observation::Win),
            ("b".to_owned(), Observation::Loss),
            ("b".to_owned(), Observation::Win),
        ]
    );
    let dead = log.dead.lock().unwrap().clone();
    assert_eq!(dead.len(), 4, "{dead:?}");
    assert!(
        dead.iter().any(|r| r.contains("invalid model name")),
        "{dead:?}"
    );
    assert!(
        !*log.leader.lock().unwrap(),
        "the lease is given up at shutdown"
    );
}

#[tokio::test]
async fn an_instance_without_the_lease_never_subscribes() {
    let (log, subscribed) = run(false, vec![message("update_model", b"w")]).await;
    assert_eq!(subscribed, 0);
    assert!(log.appended.lock().unwrap().is_empty());
}
