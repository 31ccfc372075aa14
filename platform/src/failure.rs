//! What a failed Redis call says: whether to try again, and whether the
//! command it carried ran. One classification for both services and every
//! adapter (redis-rs's errors, and the raw reader's error replies by code).

use redis::RedisError;

/// Error codes with which Redis says "not now": refused credentials, a
/// server still loading its AOF, a replica cut off from its primary, a
/// cluster failing over (slots unserved, moving, a node turned replica), a
/// script running too long, or memory full. Retrying later may work.
const NOT_SERVING: [&str; 10] = [
    "NOAUTH",
    "WRONGPASS",
    "LOADING",
    "MASTERDOWN",
    "BUSY",
    "CLUSTERDOWN",
    "TRYAGAIN",
    "READONLY",
    "MOVED",
    OUT_OF_MEMORY,
];

/// The code of Redis's refusal of a write past `maxmemory` under `noeviction`.
pub const OUT_OF_MEMORY: &str = "OOM";

/// Whether an error reply starting with `message` means Redis cannot serve
/// now (retry later) rather than that it refused this command for good.
#[must_use]
pub fn is_transient_reply(message: &str) -> bool {
    let code = message.split(' ').next().unwrap_or_default();
    NOT_SERVING.contains(&code)
}

/// Whether `error` means "Redis is away, slow or full" (retry later, 503)
/// rather than "Redis refused this" (a bug or a foreign write).
#[must_use]
pub fn is_transient(error: &RedisError) -> bool {
    error.kind() == redis::ErrorKind::AuthenticationFailed
        || error.kind() == redis::ErrorKind::ClusterConnectionNotFound
        || server_code(error).is_some_and(|code| NOT_SERVING.contains(&code.as_str()))
        || error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_unrecoverable_error()
}

/// The code of Redis's error reply in `error`: of the reply itself, or of
/// the first failed command of a pipeline (redis-rs gives a pipeline's
/// failures no code of their own).
#[must_use]
pub fn server_code(error: &RedisError) -> Option<String> {
    if let Some(code) = error.code() {
        return Some(code.to_owned());
    }
    let failures = error.clone().into_server_errors()?;
    failures
        .first()
        .map(|(_, failure)| failure.code().to_owned())
}

/// Whether `error` is Redis refusing a write for want of memory.
#[must_use]
pub fn is_out_of_memory(error: &RedisError) -> bool {
    server_code(error).as_deref() == Some(OUT_OF_MEMORY)
}

/// What became of a command that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It did not run: no connection could be made, or Redis answered
    /// with an error (our scripts fail before their first write).
    NotRun,
    /// It did not run: Redis is out of memory (`maxmemory` under `noeviction`).
    OutOfMemory,
    /// It was sent and no answer came (the connection dropped, the reply
    /// timed out): it may have run.
    Unknown,
}

/// What became of the command that failed with `error`, sent on a cluster
/// connection if `cluster`.
///
/// On one endpoint redis-rs never resends a command, so a refused
/// connection or an error reply means it did not run. redis-rs's cluster
/// client resends a command after an I/O error or a redirect, so there an
/// error reply or a refused connection may follow an attempt that ran: only
/// an out-of-memory refusal (Redis checks memory before a script's first
/// write, and a resend would have found the first attempt's write token)
/// is taken as "did not run"; everything else is unknown.
#[must_use]
pub fn outcome(error: &RedisError, cluster: bool) -> Outcome {
    if is_out_of_memory(error) {
        return Outcome::OutOfMemory;
    }
    if cluster {
        return Outcome::Unknown;
    }
    if error.is_connection_refusal() || server_code(error).is_some() {
        return Outcome::NotRun;
    }
    Outcome::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error redis-rs makes of the error reply `message`.
    fn reply(message: &str) -> RedisError {
        let wire = format!("-{message}\r\n");
        match redis::parse_redis_value(wire.as_bytes()) {
            Ok(redis::Value::ServerError(error)) => error.into(),
            other => panic!("not an error reply: {other:?}"),
        }
    }

    fn io(kind: std::io::ErrorKind) -> RedisError {
        std::io::Error::from(kind).into()
    }

    #[test]
    fn error_replies_are_sorted_by_their_code() {
        assert!(is_transient_reply(
            "LOADING Redis is loading the dataset in memory"
        ));
        assert!(is_transient_reply(
            "OOM command not allowed when used memory > 'maxmemory'."
        ));
        assert!(!is_transient_reply("WRONGTYPE Operation against a key"));
        assert!(!is_transient_reply("OOMPH not a code"));
        assert!(is_transient(&reply("LOADING Redis is loading")));
        assert!(!is_transient(&reply("WRONGTYPE Operation against a key")));
    }

    #[test]
    fn out_of_memory_did_not_run_on_any_deployment() {
        let oom = reply("OOM command not allowed when used memory > 'maxmemory'.");
        assert!(is_out_of_memory(&oom));
        assert!(is_transient(&oom));
        assert_eq!(outcome(&oom, false), Outcome::OutOfMemory);
        assert_eq!(outcome(&oom, true), Outcome::OutOfMemory);
    }

    #[test]
    fn a_lost_reply_is_unknown_and_a_refusal_did_not_run_on_one_endpoint() {
        assert_eq!(
            outcome(&io(std::io::ErrorKind::TimedOut), false),
            Outcome::Unknown
        );
        assert_eq!(
            outcome(&io(std::io::ErrorKind::ConnectionReset), false),
            Outcome::Unknown
        );
        let refused = io(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(outcome(&refused, false), Outcome::NotRun);
        assert_eq!(outcome(&reply("LOADING loading"), false), Outcome::NotRun);
    }

    /// A connection whose every pipeline answers `replies`.
    struct Answers(Vec<redis::Value>);

    impl redis::aio::ConnectionLike for Answers {
        fn req_packed_command<'a>(
            &'a mut self,
            _: &'a redis::Cmd,
        ) -> redis::RedisFuture<'a, redis::Value> {
            Box::pin(async { Ok(redis::Value::Nil) })
        }

        fn req_packed_commands<'a>(
            &'a mut self,
            _: &'a redis::Pipeline,
            _: usize,
            _: usize,
        ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
            let replies = self.0.clone();
            Box::pin(async move { Ok(replies) })
        }

        fn get_db(&self) -> i64 {
            0
        }
    }

    #[tokio::test]
    async fn a_pipeline_failure_has_its_first_command_code() {
        let oom = match redis::parse_redis_value(b"-OOM command not allowed\r\n") {
            Ok(value) => value,
            Err(error) => panic!("{error}"),
        };
        let mut connection = Answers(vec![oom, redis::Value::Int(1)]);
        let error = redis::pipe()
            .cmd("EVALSHA")
            .cmd("WAIT")
            .query_async::<Vec<redis::Value>>(&mut connection)
            .await
            .unwrap_err();
        assert_eq!(error.code(), None, "redis-rs gives it no code");
        assert!(is_out_of_memory(&error));
        assert_eq!(outcome(&error, false), Outcome::OutOfMemory);
    }

    #[test]
    fn on_a_cluster_only_out_of_memory_is_known_not_to_have_run() {
        let refused = io(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(outcome(&refused, true), Outcome::Unknown);
        assert_eq!(outcome(&reply("CLUSTERDOWN down"), true), Outcome::Unknown);
    }
}
