//! Infrastructure the `api` and `bayes` services share, so that the contract
//! between them (Redis key names, the model hash's fields, connection
//! settings) is written once.
//!
//! This crate is infrastructure: it may name Redis and tokio. The
//! application layers of the services never import it directly, only their
//! own adapters and `main` do.

pub mod exit;
pub mod keys;
pub mod redis_conn;
pub mod shutdown;
pub mod stored_model;
pub mod telemetry;

pub use keys::RedisKeys;
pub use redis_conn::{RedisArgs, RedisSettings};
pub use stored_model::StoredModelError;

// glibc malloc showed up at ~13% of the api's CPU under load; mimalloc's
// thread-local free lists make the many small per-request allocations
// cheap. Declared here, it serves every binary that links this crate.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
