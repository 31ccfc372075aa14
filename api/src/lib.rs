//! The `api` service: HTTP ingress for observations and read access to the
//! model. Observations are appended to the durable Redis event log; the
//! `bayes` service applies them.
//!
//! Layers: [`application`] holds the use cases and the ports they need (as
//! traits); [`infrastructure`] holds the Redis and HTTP adapters; [`startup`]
//! wires them together. Nothing in `application` names Redis or axum.

pub mod application;
pub mod configuration;
pub mod infrastructure;
pub mod startup;
mod tasks;
