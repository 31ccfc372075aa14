//! The referee's CPU: each experiment's decision from its variants'
//! evidence (exact sweeps of their grids), over the cores.

use super::Tracked;
use crate::application::PortError;
use domain::ModelName;
use platform::stored_experiment::{DecisionEvent, Status};

/// [`changes`] over the cores: the evaluations are exact sweeps of the
/// variants' grids, the referee's CPU.
pub(super) async fn evaluate_in_parallel(
    tracked: &[(String, Tracked)],
    evidence: Vec<Vec<(domain::ModelDefinition, domain::Evidence)>>,
    at: u64,
) -> Result<Vec<(String, u64, DecisionEvent)>, PortError> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let chunk = tracked.len().div_ceil(cores).max(1);
    let mut evidence = evidence.into_iter();
    let tasks: Vec<_> = tracked
        .chunks(chunk)
        .map(|part| {
            let part = part.to_vec();
            let of_part: Vec<_> = evidence.by_ref().take(part.len()).collect();
            tokio::task::spawn_blocking(move || changes(&part, &of_part, at))
        })
        .collect();
    let mut events = Vec::new();
    for task in tasks {
        events.extend(task.await.map_err(|e| {
            PortError::Failed(crate::application::Cause::context(
                "evaluation task failed",
                e,
            ))
        })?);
    }
    Ok(events)
}

/// The changes of decision among `tracked` given their `evidence` at `at`:
/// each with the record's `seq` it was found against.
fn changes(
    tracked: &[(String, Tracked)],
    evidence: &[Vec<(domain::ModelDefinition, domain::Evidence)>],
    at: u64,
) -> Vec<(String, u64, DecisionEvent)> {
    let mut events = Vec::new();
    for ((name, t), evidence) in tracked.iter().zip(evidence) {
        let verdict = match t.experiment.decide(evidence) {
            Ok(verdict) => verdict,
            Err(error) => {
                tracing::warn!(experiment = %name, %error, "cannot evaluate the experiment");
                continue;
            }
        };
        let winner = verdict.as_ref().map(|v| v.winner.to_string());
        if winner == t.record.decision {
            continue;
        }
        let order: Vec<&ModelName> = t.experiment.order().collect();
        let counts = t
            .experiment
            .variants()
            .iter()
            .filter_map(|v| {
                let k = order.iter().position(|o| *o == v)?;
                let (_, e) = evidence.get(k)?;
                Some((v.to_string(), [e.w(), e.n()]))
            })
            .collect();
        events.push((
            name.clone(),
            t.record.seq,
            DecisionEvent {
                experiment: name.clone(),
                seq: 0,
                status: if winner.is_some() {
                    Status::Decided
                } else {
                    Status::Running
                },
                from: t.record.decision.clone(),
                to: winner,
                p_best: verdict.as_ref().map(|v| v.p_best),
                expected_loss: verdict.as_ref().map(|v| v.expected_loss),
                at,
                counts,
            },
        ));
    }
    events
}
