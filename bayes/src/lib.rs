//! The `bayes` service: consumes the event log (and forwards the legacy
//! pub/sub channel into it), keeps the model's counts in Redis exactly once
//! per observation, and draws the posterior.
//!
//! Layers: [`application`] holds the consumer loop, the ingress forwarding
//! and the ports they need (as traits); [`infrastructure`] holds the Redis
//! adapters; [`startup`] wires them. Nothing in `application` names Redis.

pub mod application;
pub mod commands;
pub mod configuration;
pub mod infrastructure;
pub mod startup;
