//! Delivery v2 on a real Redis and the real binaries: partitions, leases
//! and the cursor's compare-and-set ([`ownership`]), the upgrade from v1 and
//! the partition count fixed per deployment ([`upgrade`]), loss per
//! partition and the bounded ingest queue ([`limits`]), and tasks that die
//! stopping their process ([`supervision`]).

mod limits;
mod ownership;
mod supervision;
mod upgrade;

use crate::harness::TestApp;

/// Appends `per_model` single-trial entries (`w`, `w`, `l`, …) for each of
/// `models` to their partitions' streams, as an outside producer would.
pub(super) async fn preload(app: &TestApp, models: &[String], per_model: u64) -> (u64, u64) {
    let keys = app.keys();
    let mut connection = app.redis.connection().await;
    let (mut w, mut n) = (0, 0);
    for chunk in 0..per_model.div_ceil(500) {
        let mut pipeline = redis::pipe();
        for model in models {
            let name = domain::ModelName::parse(model).expect("valid name");
            let stream = &keys.partition_for(&name).events;
            for i in chunk * 500..((chunk + 1) * 500).min(per_model) {
                let trial = if i % 3 == 2 { "l" } else { "w" };
                pipeline
                    .cmd("XADD")
                    .arg(stream)
                    .arg("*")
                    .arg("model")
                    .arg(model)
                    .arg("trial")
                    .arg(trial)
                    .ignore();
                w += u64::from(trial == "w");
                n += 1;
            }
        }
        let () = pipeline.query_async(&mut connection).await.expect("XADD");
    }
    (w, n)
}

pub(super) async fn total_applied(app: &TestApp, models: &[String]) -> u64 {
    let mut n = 0;
    for model in models {
        n += app.model_counts(model).await.1;
    }
    n
}
