//! Adapters: Redis behind the ports.

pub mod redis;
