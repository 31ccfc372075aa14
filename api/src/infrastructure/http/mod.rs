//! The HTTP interface: the router, its handlers by concern, and the one
//! error type that decides statuses.

mod auth;
mod dashboard;
mod decisions;
mod error;
mod events;
mod extract;
mod models;
mod observations;
mod operations;
mod routes;
mod session;

pub use error::ApiError;
pub use routes::{AppState, ErrorBody, app};
