//! What the suites share: a private Redis, the service processes, and a
//! `TestApp` that wires them together.

mod app;
mod browser;
mod load;
mod redis_cluster;
mod redis_server;
mod redis_view;
mod service;
mod wait;

pub use app::{SETTLE, TestApp};
pub use browser::Browser;
pub use load::{TimedLoad, send_load, send_load_for};
pub use redis_cluster::RedisCluster;
pub use redis_server::RedisServer;
pub use redis_server::free_port;
pub use service::{Service, binary_path, run_to_exit};
pub use wait::{eventually, metric};
