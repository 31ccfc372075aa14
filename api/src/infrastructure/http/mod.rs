//! The HTTP interface: the router, its handlers by concern, and the one
//! error type that decides statuses.

mod auth;
mod curves;
mod dashboard;
mod decisions;
mod error;
mod events;
mod experiments;
mod extract;
mod history;
mod models;
mod observations;
mod operations;
mod routes;
mod session;
mod state;

pub use error::{ApiError, ErrorBody, Stored};
pub use routes::app;
pub use state::{AppState, UseCases};
