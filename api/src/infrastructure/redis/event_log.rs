//! The event log as a Redis Stream: one `XADD` per observation.

use super::port_error;
use crate::application::{EventId, EventLog, PortError, Readiness};
use async_trait::async_trait;
use domain::Observation;
use platform::keys::TRIAL_FIELD;
use redis::aio::ConnectionManager;

/// Appends to `<prefix>:events`, trimming it to about `maxlen` entries.
#[derive(Clone)]
pub struct RedisEventLog {
    connection: ConnectionManager,
    key: String,
    maxlen: u64,
}

impl RedisEventLog {
    /// A log at `key`; `maxlen = 0` never trims.
    pub fn new(connection: ConnectionManager, key: String, maxlen: u64) -> Self {
        Self {
            connection,
            key,
            maxlen,
        }
    }

    fn xadd(&self, observation: Observation) -> redis::Cmd {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(&self.key);
        if self.maxlen > 0 {
            // `~` lets Redis trim whole nodes only: O(1) amortised per append.
            cmd.arg("MAXLEN").arg("~").arg(self.maxlen);
        }
        cmd.arg("*").arg(TRIAL_FIELD).arg(observation.as_str());
        cmd
    }
}

#[async_trait]
impl EventLog for RedisEventLog {
    async fn append(&self, observation: Observation) -> Result<EventId, PortError> {
        let id: String = self
            .xadd(observation)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(|e| port_error(&e))?;
        Ok(EventId(id))
    }

    async fn append_all(&self, observations: &[Observation]) -> Result<Vec<EventId>, PortError> {
        // MULTI/EXEC: Redis applies all the XADDs or, if EXEC never arrives, none.
        let mut pipeline = redis::pipe();
        pipeline.atomic();
        for observation in observations {
            pipeline.add_command(self.xadd(*observation));
        }
        let ids: Vec<String> = pipeline
            .query_async(&mut self.connection.clone())
            .await
            .map_err(|e| port_error(&e))?;
        Ok(ids.into_iter().map(EventId).collect())
    }
}

#[async_trait]
impl Readiness for RedisEventLog {
    async fn check(&self) -> Result<(), PortError> {
        redis::cmd("PING")
            .query_async::<()>(&mut self.connection.clone())
            .await
            .map_err(|e| port_error(&e))
    }
}
