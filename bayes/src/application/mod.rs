//! The subscriber's use cases and the ports they need.

pub mod batch;
pub mod consumer;
pub mod ingress;
pub mod plot;
pub mod ports;
pub mod render;
pub mod retry;

pub use batch::{ApplyBatch, DeadEntry, StreamEntry};
pub use consumer::Consumer;
pub use ingress::Ingress;
pub use ports::{
    Applied, ChannelMessages, Claimed, EventSource, Forwarded, IngressLog, ModelObserver,
    ModelRepository, PortError, ReadOutcome,
};
