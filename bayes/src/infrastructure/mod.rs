//! Adapters: Redis and plotters behind the ports.

pub mod plot;
pub mod redis;
