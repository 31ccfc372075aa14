//! A plain TCP connection to Redis that hands back replies as bytes, for
//! the reader that decodes them in place. It authenticates and selects the
//! database as the URL says; TLS URLs use redis-rs's connection instead.

use super::resp::{Frame, RespError, encode, frame_end};
use redis::{ConnectionAddr, ConnectionInfo};
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Why a raw request failed.
#[derive(Debug, thiserror::Error)]
pub enum RawError {
    /// The connection failed or timed out: reconnect and retry.
    #[error("connection: {0}")]
    Io(#[from] io::Error),
    /// Redis answered something unusable.
    #[error(transparent)]
    Resp(#[from] RespError),
}

/// A connection whose replies are read into one reused buffer.
pub struct RawConnection {
    stream: TcpStream,
    request: Vec<u8>,
    reply: Vec<u8>,
    timeout: Duration,
}

impl RawConnection {
    /// Connects as `info` says; `None` for an address this connection does
    /// not speak (TLS, Unix sockets).
    ///
    /// # Errors
    /// The connection, authentication or database selection failed.
    pub async fn connect(
        info: &ConnectionInfo,
        timeout: Duration,
    ) -> Result<Option<Self>, RawError> {
        let ConnectionAddr::Tcp(host, port) = info.addr() else {
            return Ok(None);
        };
        let stream = tokio::time::timeout(timeout, TcpStream::connect((host.as_str(), *port)))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        stream.set_nodelay(true)?;
        let mut connection = Self {
            stream,
            request: Vec::with_capacity(512),
            reply: Vec::with_capacity(1 << 20),
            timeout,
        };
        let settings = info.redis_settings();
        if let Some(password) = settings.password() {
            let user = settings.username().unwrap_or("default");
            connection
                .simple(&[b"AUTH", user.as_bytes(), password.as_bytes()])
                .await?;
        }
        if settings.db() != 0 {
            connection
                .simple(&[b"SELECT", settings.db().to_string().as_bytes()])
                .await?;
        }
        Ok(Some(connection))
    }

    async fn simple(&mut self, command: &[&[u8]]) -> Result<(), RawError> {
        self.request.clear();
        encode(&mut self.request, command);
        self.round_trip(1, Duration::ZERO).await?;
        Frame::new(&self.reply, 0).simple()?;
        Ok(())
    }

    /// Sends the commands encoded in [`Self::request`], then reads `frames`
    /// complete replies into [`Self::reply`], waiting up to the timeout
    /// plus `block` (the time a blocking command may wait in Redis).
    ///
    /// # Errors
    /// I/O, a timeout, or bytes that are not RESP2.
    pub async fn round_trip(&mut self, frames: usize, block: Duration) -> Result<(), RawError> {
        let exchange = async {
            self.stream.write_all(&self.request).await?;
            self.reply.clear();
            let mut complete = 0;
            let mut at = 0;
            loop {
                while complete < frames {
                    match frame_end(&self.reply, at)? {
                        Some(end) => {
                            at = end;
                            complete += 1;
                        }
                        None => break,
                    }
                }
                if complete == frames {
                    return Ok(());
                }
                if self.reply.capacity() - self.reply.len() < 64 * 1024 {
                    self.reply.reserve(256 * 1024);
                }
                let read = self.stream.read_buf(&mut self.reply).await?;
                if read == 0 {
                    return Err(RawError::Io(io::ErrorKind::UnexpectedEof.into()));
                }
            }
        };
        tokio::time::timeout(self.timeout + block, exchange)
            .await
            .map_err(|_| {
                RawError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "Redis did not answer in time",
                ))
            })?
    }

    /// The buffer the next request is encoded into (cleared).
    pub fn request(&mut self) -> &mut Vec<u8> {
        self.request.clear();
        &mut self.request
    }

    /// The replies of the last round trip.
    pub fn reply(&self) -> &[u8] {
        &self.reply
    }
}
