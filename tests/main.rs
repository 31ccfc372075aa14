//! End-to-end suites. Every test starts its own redis-server on a free
//! loopback port and the real `api` and `bayes` binaries against it, with a
//! unique key prefix; nothing touches a Redis on the default port.
//!
//! The binaries must be built first (`cargo build --bins`; `scripts/test`
//! does it). A missing redis-server fails the test with how to get one.

mod harness;

mod access;
mod answers;
mod apply_script;
mod bad_input;
mod bandit;
mod cluster;
mod configuration;
mod dashboard;
mod defaults;
mod delivery;
mod drifting_bandit;
mod drills;
mod experiments;
mod graphs;
mod history;
mod idempotency;
mod memory;
mod models;
mod operations;
mod operator;
mod outages;
mod partitions;
mod pipeline;
mod redis_access;
mod redis_users;
mod replay;
mod soak;
