//! Adapters: Redis behind the ports, axum in front of the use cases.

pub mod http;
pub mod redis;
