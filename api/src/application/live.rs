//! What a live view hears: the notices the Redis subscription passes on to
//! every open `/events` stream. Its own module so the HTTP layer (the
//! reader) and the Redis adapter (the source) both name it without one
//! depending on the other.

/// What a live view hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A batch was applied: the notice's JSON.
    Applied(String),
    /// Notices may have been missed: read everything again.
    Resync,
}
