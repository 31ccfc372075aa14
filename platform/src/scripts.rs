//! Every Lua script the services run, one file each under `scripts/`, so
//! the Redis contract is read in one place. Each is loaded once and run by
//! its SHA (`EVALSHA`, falling back to `EVAL` after a Redis restart).

pub mod announce;
pub mod append;
pub mod apply;

use redis::Script;
use std::sync::LazyLock;

macro_rules! scripts {
    ($($(#[$doc:meta])* $name:ident => $file:literal;)*) => {
        $(
            $(#[$doc])*
            pub static $name: LazyLock<Script> =
                LazyLock::new(|| Script::new(include_str!(concat!("scripts/", $file))));
        )*
    };
}

scripts! {
    /// The api's group-commit write: entries, idempotency keys, a replay guard.
    APPEND => "append.lua";
    /// Applies a batch of a partition's log, fenced by its cursor.
    APPLY => "apply.lua";
    /// Announces a change of an experiment's decision, fenced by the cursor and its record.
    ANNOUNCE => "announce.lua";
    /// Reads model hashes (the fields of `stored_model::FIELDS`), read-only.
    LOAD_MODELS => "load_models.lua";
    /// Counts entries retention trimmed before they were applied.
    LOSS_CHECK => "loss_check.lua";
    /// Prepares a partition's cursor, taking over a v1 consumer group.
    INIT_PARTITION => "init_partition.lua";
    /// Takes or renews a lease.
    LEASE_ACQUIRE => "lease_acquire.lua";
    /// Gives a lease up if it is ours.
    LEASE_RELEASE => "lease_release.lua";
    /// Appends to a stream while holding a lease.
    LEASE_APPEND => "lease_append.lua";
    /// Appends forwarded pub/sub observations while holding the lease.
    LEASE_FORWARD => "lease_forward.lua";
    /// Registers a live bayes instance; answers how many are alive.
    HEARTBEAT => "heartbeat.lua";
    /// Resets a partition (models and cursor) for a rebuild from its log.
    RESET_PARTITION => "reset_partition.lua";
}

/// The source of [`APPEND`], for a pipeline that runs it with `EVAL`
/// followed by `WAIT` on the same connection.
pub const APPEND_SOURCE: &str = include_str!("scripts/append.lua");

/// The source of [`APPLY`], for its `EVAL` when Redis lost the script.
pub const APPLY_SOURCE: &str = include_str!("scripts/apply.lua");

/// The source of [`LOSS_CHECK`], for a `MULTI` that runs it with `EVAL`
/// beside a plain `XREAD` (a script's reply would be converted to Lua and
/// back, which doubled the read's cost).
pub const LOSS_CHECK_SOURCE: &str = include_str!("scripts/loss_check.lua");
