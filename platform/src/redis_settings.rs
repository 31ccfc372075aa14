//! Redis configuration shared by both services, and the connections built from it.

use clap::Args;
use redis::aio::ConnectionManagerConfig;
use redis::cluster::{ClusterClient, ClusterClientBuilder, ClusterConfig};
use redis::{Client, ConnectionInfo, IntoConnectionInfo};
use std::time::Duration;

use crate::RedisKeys;
use crate::configuration::positive_millis;
use crate::connection::RedisConnection;
use crate::partition::hash_tag;

/// The Redis flags both binaries take.
#[derive(Debug, Clone, Args)]
pub struct RedisArgs {
    /// Redis to use: `redis://[:password@]host:port[/db]`, or `rediss://` for TLS.
    /// For a Redis Cluster, seed nodes separated by commas.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,

    /// Connect to a Redis Cluster (implied when REDIS_URL lists more than one node).
    #[arg(long, env = "REDIS_CLUSTER", default_value_t = false, action = clap::ArgAction::Set)]
    pub redis_cluster: bool,

    /// Every Redis key starts with this (use a hash tag like `{bayes}` on Redis Cluster).
    #[arg(long, env = "KEY_PREFIX", default_value = "bayes", value_parser = parse_prefix)]
    pub key_prefix: String,

    /// Longest wait for one Redis reply, in milliseconds.
    #[arg(long = "redis-timeout-ms", env = "REDIS_TIMEOUT_MS", default_value = "2000", value_parser = positive_millis)]
    pub redis_timeout: Duration,

    /// Replicas that must confirm a write (`WAIT`) before the api answers 202
    /// or bayes counts an apply done; 0: Redis's acknowledgement is enough.
    #[arg(long, env = "REPLICAS_ACK", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=16))]
    pub replicas_ack: u32,

    /// Run on a Redis whose maxmemory-policy may evict any key (`allkeys-*`),
    /// which could drop counts, cursors and the log when it fills (logged as a warning).
    #[arg(long, env = "ALLOW_EVICTION", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_eviction: bool,

    /// Partitions of the event log (fixed per deployment; recorded in Redis at the first start).
    #[arg(long, env = "PARTITIONS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub partitions: u32,
}

fn parse_prefix(prefix: &str) -> Result<String, String> {
    if prefix.is_empty() || prefix.chars().any(char::is_whitespace) {
        Err("must be non-empty and contain no whitespace".to_owned())
    } else {
        Ok(prefix.to_owned())
    }
}

/// Validated Redis settings: a client for the URL and the keys.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// A client per node given: the one endpoint, or a cluster's seeds (no
    /// connection is made until one is asked for).
    pub nodes: Vec<Client>,
    /// The cluster client, on a Redis Cluster.
    pub cluster: Option<ClusterClient>,
    /// The keys under the configured prefix.
    pub keys: RedisKeys,
    /// Longest wait for one reply.
    pub timeout: Duration,
    /// The URL with any password replaced by `***`, for logs.
    pub masked_url: String,
    /// Replicas that must confirm a write (`WAIT`); 0: none.
    pub replicas_ack: u32,
    /// Run on an `allkeys-*` eviction policy all the same.
    pub allow_eviction: bool,
}

/// Why Redis settings are refused.
#[derive(Debug, thiserror::Error)]
pub enum RedisSettingsError {
    /// A hash-tagged prefix would put every partition in one slot.
    #[error(
        "KEY_PREFIX {prefix} holds the hash tag {{{tag}}}, which would put every one of the \
         PARTITIONS={partitions} partitions in one Redis Cluster slot; drop the braces (each \
         partition's keys carry a tag of their own)"
    )]
    TaggedPrefix {
        /// The prefix.
        prefix: String,
        /// Its tag.
        tag: String,
        /// The partition count.
        partitions: u32,
    },
    /// Redis Cluster with the v1 key names, which lie in different slots.
    #[error(
        "a Redis Cluster needs each partition's keys in one slot: with PARTITIONS=1 give \
         KEY_PREFIX a hash tag (KEY_PREFIX={{{prefix}}}), or use PARTITIONS of 2 or more"
    )]
    UntaggedSinglePartition {
        /// The prefix.
        prefix: String,
    },
    /// The URL does not parse.
    #[error("invalid REDIS_URL {url}: {reason}")]
    Url {
        /// The URL, masked.
        url: String,
        /// What the client said.
        reason: String,
    },
}

impl RedisArgs {
    /// Checks the URL (without connecting) and derives the keys.
    ///
    /// # Errors
    /// [`RedisSettingsError::Url`] for a URL the client cannot use,
    /// [`RedisSettingsError::TaggedPrefix`] for a prefix whose hash tag
    /// would defeat the partitions.
    pub fn settings(&self) -> Result<RedisSettings, RedisSettingsError> {
        let tag = hash_tag(&self.key_prefix);
        if self.partitions > 1
            && let Some(tag) = tag
        {
            return Err(RedisSettingsError::TaggedPrefix {
                prefix: self.key_prefix.clone(),
                tag: tag.to_owned(),
                partitions: self.partitions,
            });
        }
        // `rediss://` URLs use rustls; it needs one process-wide crypto
        // provider. Installing fails only if one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let masked_url = mask_password(&self.redis_url);
        let invalid = |reason: String| RedisSettingsError::Url {
            url: masked_url.clone(),
            reason,
        };
        let infos = self
            .redis_url
            .split(',')
            .map(|url| url.trim().into_connection_info())
            .collect::<Result<Vec<ConnectionInfo>, _>>()
            .map_err(|e| invalid(e.to_string()))?;
        let nodes = infos
            .iter()
            .map(|info| Client::open(info.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(e.to_string()))?;
        let cluster = if self.redis_cluster || infos.len() > 1 {
            if self.partitions == 1 && tag.is_none() {
                return Err(RedisSettingsError::UntaggedSinglePartition {
                    prefix: self.key_prefix.clone(),
                });
            }
            let client = ClusterClientBuilder::new(infos)
                .connection_timeout(self.redis_timeout)
                .response_timeout(self.redis_timeout)
                .build()
                .map_err(|e| invalid(e.to_string()))?;
            Some(client)
        } else {
            None
        };
        Ok(RedisSettings {
            nodes,
            cluster,
            keys: RedisKeys::new(&self.key_prefix, self.partitions),
            timeout: self.redis_timeout,
            masked_url,
            replicas_ack: self.replicas_ack,
            allow_eviction: self.allow_eviction,
        })
    }
}

impl RedisSettings {
    /// A shared connection: on one endpoint multiplexed and self-reconnecting,
    /// on a cluster redis-rs's cluster connection. It connects lazily, so a
    /// service starts (and reports itself unready) while Redis is down.
    /// Commands from concurrent tasks pipeline on its sockets.
    ///
    /// A command fails fast while Redis is away (one quick retry, bounded
    /// connect and reply times) so callers can answer 503 at once; the
    /// connection reconnects by itself on the next command.
    ///
    /// # Errors
    /// Only for a client configuration redis-rs rejects.
    pub fn connection(&self) -> redis::RedisResult<RedisConnection> {
        self.blocking_connection(Duration::ZERO)
    }

    /// As [`RedisSettings::connection`], for a connection of its own whose
    /// commands may block in Redis for up to `block` (a blocking `XREAD`):
    /// replies may take that much longer.
    ///
    /// # Errors
    /// Only for a client configuration redis-rs rejects.
    pub fn blocking_connection(&self, block: Duration) -> redis::RedisResult<RedisConnection> {
        if let Some(cluster) = &self.cluster {
            let config = ClusterConfig::new()
                .set_connection_timeout(self.timeout)
                .set_response_timeout(self.timeout + block);
            return Ok(RedisConnection::Cluster(
                cluster.get_pending_async_connection_with_config(config),
            ));
        }
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500))
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout + block));
        self.client()
            .get_connection_manager_lazy(config)
            .map(RedisConnection::Single)
    }

    /// The longest `WAIT` for replicas: half the reply timeout, so the
    /// write and its `WAIT` are answered within it.
    #[must_use]
    pub fn replicas_timeout(&self) -> Duration {
        self.timeout / 2
    }

    /// Whether the deployment is a Redis Cluster.
    #[must_use]
    pub fn is_cluster(&self) -> bool {
        self.cluster.is_some()
    }

    /// The client of the first node given: the one endpoint, or a cluster's
    /// first seed.
    #[must_use]
    pub fn client(&self) -> &Client {
        // `settings` parses at least one URL (splitting never yields none).
        &self.nodes[0]
    }
}

/// The URL with its password replaced by `***`, for logs and errors.
#[must_use]
pub fn mask_password(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Only fails for URLs that cannot have credentials, which this one has.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => text.to_owned(),
        // Unparseable: show the scheme and host part only, never what could be a secret.
        Err(_) => text
            .rsplit_once('@')
            .map_or_else(|| text.to_owned(), |(_, host)| format!("***@{host}")),
    }
}

#[cfg(test)]
mod tests;
