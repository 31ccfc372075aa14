//! The apply's two script calls: reading the models the cache lacks, and
//! the apply itself, built from the plan.

use super::{RedisPartitionStore, stored};
use crate::application::{Batch, Op, PortError};
use crate::infrastructure::redis::model_cache::Plan;
use crate::infrastructure::redis::port_error;
use platform::log_entry::ExperimentChange;
use platform::notice::Notice;
use platform::scripts::LOAD_MODELS;
use platform::scripts::apply::{ApplyCall, DeadEntry, ExperimentOp, ExperimentWrite, ModelUpdate};
use platform::stored_model::FIELDS;
use platform::{PartitionKeys, StoredModel};
use redis::{ErrorKind, ServerErrorKind, Value};

impl RedisPartitionStore {
    /// The stored state of each of `models` (one read-only script).
    pub(super) async fn load_all(
        &self,
        keys: &PartitionKeys,
        models: &[&str],
    ) -> Result<Vec<Option<StoredModel>>, PortError> {
        if models.is_empty() {
            return Ok(Vec::new());
        }
        let mut load = LOAD_MODELS.prepare_invoke();
        for model in models {
            load.key(keys.model_key(model));
        }
        load.arg(&FIELDS);
        let values: Vec<[Option<String>; 6]> = load
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(port_error)?;
        if values.len() != models.len() {
            return Err(PortError::Failed(
                format!(
                    "{} model hashes read for {} models",
                    values.len(),
                    models.len()
                )
                .into(),
            ));
        }
        values.into_iter().map(stored).collect()
    }

    /// Runs the apply script for `batch` as `plan` writes it.
    pub(super) async fn call(
        &self,
        keys: &PartitionKeys,
        partition: u32,
        batch: &Batch,
        plan: &Plan,
    ) -> redis::RedisResult<Value> {
        let writes: Vec<ModelUpdate<'_>> = plan
            .writes
            .iter()
            .map(|w| ModelUpdate {
                model: &w.model,
                write: w.write,
                changed: w.changed,
                start: w.start,
                points: &w.points,
            })
            .collect();
        let created: Vec<&str> = plan.created.iter().map(String::as_str).collect();
        let removed: Vec<&str> = plan.removed.iter().map(String::as_str).collect();
        let dead: Vec<DeadEntry<'_>> = batch
            .dead
            .iter()
            .map(|d| DeadEntry {
                id: &d.id,
                reason: &d.reason,
                raw: &d.raw,
            })
            .collect();
        // Each op's text (a definition's JSON, a stop's variant) first, then borrowed.
        let texts: Vec<String> = batch
            .experiments
            .iter()
            .map(|op| match &op.event.change {
                ExperimentChange::Defined(e) => platform::log_entry::experiments::spec(e),
                ExperimentChange::Stopped(variant) => variant.to_string(),
                ExperimentChange::Deleted => String::new(),
            })
            .collect();
        let experiments: Vec<ExperimentWrite<'_>> = batch
            .experiments
            .iter()
            .zip(&texts)
            .map(|(op, text)| ExperimentWrite {
                name: op.event.name.as_str(),
                op: match op.event.change {
                    ExperimentChange::Defined(_) => ExperimentOp::Define {
                        spec: text,
                        at: op.at,
                    },
                    ExperimentChange::Stopped(_) => ExperimentOp::Stop {
                        variant: text,
                        at: op.at,
                    },
                    ExperimentChange::Deleted => ExperimentOp::Delete,
                },
            })
            .collect();
        let notice = Notice::of(partition, batch.ops.iter().map(Op::model)).to_json();
        let call = ApplyCall {
            keys,
            after: &batch.after,
            last: &batch.last,
            entries: batch.entries,
            applier: &self.applier,
            dead_maxlen: self.dead_maxlen,
            writes: &writes,
            retention: self.history.map_or(0, |h| h.retention),
            created: &created,
            removed: &removed,
            dead: &dead,
            experiments: &experiments,
            notice: Some((&self.keys.applied, &notice)),
        };
        let mut connection = self.connection.clone();
        match call.command(false).query_async(&mut connection).await {
            Err(error) if error.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                // Redis lost the script (a restart, a failover): send its source.
                call.command(true).query_async(&mut connection).await
            }
            reply => reply,
        }
    }
}
