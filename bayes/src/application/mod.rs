//! The subscriber's use cases and the ports they need.

pub mod batch;
pub mod forwarder;
pub mod operate;
pub mod ownership;
pub mod plot;
pub mod ports;
pub mod referee;
pub mod render;
pub mod retry;
pub mod worker;

#[cfg(test)]
mod fakes;

pub use batch::{Batch, BatchBuilder, DeadLetter, Op};
pub use forwarder::Forwarder;
pub use ownership::{Assignment, Ownership};
pub use ports::{
    ApplyOutcome, Cause, ChannelMessage, ChannelMessages, ExperimentStore, ForwardLog, Forwarded,
    Leases, LogReaders, ModelChange, ModelObserver, PartitionLog, PartitionStore, PortError, Read,
};
pub use worker::{WorkerStop, Workers};
