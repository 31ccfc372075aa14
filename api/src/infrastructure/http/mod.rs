//! The HTTP interface: routes, handlers and the one error type that decides statuses.

mod error;
mod routes;

pub use error::ApiError;
pub use routes::{AppState, app};
