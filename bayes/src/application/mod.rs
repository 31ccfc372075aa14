//! The subscriber's use cases and the ports they need.

pub mod batch;
pub mod ingress;
pub mod operate;
pub mod ownership;
pub mod plot;
pub mod ports;
pub mod render;
pub mod retry;
pub mod worker;

#[cfg(test)]
mod fakes;

pub use batch::{Batch, BatchBuilder, DeadLetter, Op};
pub use ingress::Ingress;
pub use ownership::{Assignment, Ownership};
pub use ports::{
    ApplyOutcome, ChannelMessage, ChannelMessages, Forwarded, IngressLog, Leases, LogReaders,
    ModelChange, ModelObserver, PartitionLog, PartitionStore, PortError, Read,
};
pub use worker::{WorkerStop, Workers};
