//! Infrastructure the `api` and `bayes` services share, so that the contract
//! between them (Redis key names, the model hash's fields, connection
//! settings) is written once.
//!
//! This crate is infrastructure: it may name Redis and tokio. The
//! application layers of the services never import it directly, only their
//! own adapters and `main` do.

pub mod cause;
pub mod configuration;
pub mod connection;
pub mod exit;
pub mod failure;
pub mod keys;
pub mod log_entry;
pub mod log_time;
pub mod memory;
pub mod notice;
pub mod partition;
pub mod partition_count;
pub mod redis_settings;
pub mod scripts;
pub mod shutdown;
pub mod stored_experiment;
pub mod stored_history;
pub mod stored_model;
pub mod supervisor;
pub mod telemetry;

pub use cause::Cause;
pub use connection::RedisConnection;
pub use keys::{PartitionKeys, RedisKeys};
pub use redis_settings::{RedisArgs, RedisSettings};
pub use stored_model::{StoredModel, StoredModelError};
