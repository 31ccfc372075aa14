//! Reading a partition's log over a raw connection, decoding replies in
//! place: measured against redis-rs's `Value` in BENCHMARKS.md.

mod connection;
mod resp;

pub use connection::{RawConnection, RawError};
pub use resp::{Frame, RespError, encode};
