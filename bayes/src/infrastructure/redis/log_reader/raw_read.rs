//! One read over the raw connection: `XREAD` (with the loss check in a
//! `MULTI` when due) encoded by hand and the reply decoded in place.

use super::super::raw::{Frame, RawConnection, RawError, RespError, encode};
use super::super::reply::add_raw_entries;
use crate::application::{BatchBuilder, Cause, PortError};
use platform::PartitionKeys;
use std::time::Duration;

/// A read over the raw connection, decoded in place.
pub(super) async fn raw_read(
    raw: &mut RawConnection,
    xread: &[Vec<u8>],
    loss_check: Option<[&[u8]; 5]>,
    block: Option<Duration>,
    keys: &PartitionKeys,
    partitions: u32,
    builder: &mut BatchBuilder,
) -> Result<u64, RawError> {
    let xread: Vec<&[u8]> = xread.iter().map(Vec::as_slice).collect();
    let request = raw.request();
    let frames = if let Some(loss_check) = loss_check {
        encode(request, &[b"MULTI"]);
        encode(request, &loss_check);
        encode(request, &xread);
        encode(request, &[b"EXEC"]);
        4
    } else {
        encode(request, &xread);
        1
    };
    raw.round_trip(frames, block.unwrap_or_default()).await?;
    let mut frame = Frame::new(raw.reply(), 0);
    let mut lost = 0;
    if frames == 4 {
        for _ in 0..3 {
            frame.simple()?;
        }
        if frame.array()? != Some(2) {
            return Err(RespError::Protocol("EXEC did not run both commands".into()).into());
        }
        lost = u64::try_from(frame.int()?).unwrap_or(0);
    }
    add_raw_entries(&mut frame, keys, partitions, builder)?;
    if frame.position() != raw.reply().len() {
        return Err(RespError::Protocol("bytes left after the reply".into()).into());
    }
    Ok(lost)
}

pub(super) fn raw_error(error: RawError) -> PortError {
    match error {
        RawError::Io(error) => PortError::Unavailable(Cause::new(error)),
        RawError::Resp(RespError::Server(message))
            if platform::failure::is_transient_reply(&message) =>
        {
            PortError::Unavailable(message.into())
        }
        RawError::Resp(error) => PortError::Failed(Cause::new(error)),
    }
}
