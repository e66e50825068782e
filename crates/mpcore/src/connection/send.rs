//! Sending one framed message in steps that survive signals.
//!
//! A blocking `write` interrupted by a signal before it transferred anything fails with
//! `EINTR`; one interrupted later returns the partial count. Either way the [`SendState`] knows
//! exactly how much of the frame is out, so calling [`SendState::send`] again with the same
//! payload continues where it stopped, the way `SSL_write` is retried with the same arguments.

use std::io;
use std::os::fd::BorrowedFd;

use super::fd::{self, Wait};
use super::frame::{coalesce_with_header, Header};
use crate::error::{Error, Result};

/// Payloads longer than this make the sender grow a pipe's buffer to the frame's size (up to
/// the system's limit, see `fd::grow_pipe`): a pipe holds 64 KiB by default, and smaller
/// messages gain nothing from more (only pipes that carry large messages take the memory).
const GROW_PIPE_ABOVE: usize = 64 * 1024;

/// How far the sending of one message has got. Keep it across calls while
/// [`SendState::send`] fails with a resumable error ([`Error::is_resumable`]).
#[derive(Debug, Default)]
pub struct SendState {
    frame: Option<Frame>,
}

/// A frame being written: its header, its payload's length, and how much of both is out.
#[derive(Debug)]
struct Frame {
    header: Header,
    payload_len: usize,
    written: usize,
}

impl SendState {
    /// A state with no message under way.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether part of a message has been written and the rest is still to come.
    pub fn in_progress(&self) -> bool {
        self.frame.as_ref().is_some_and(|frame| frame.written > 0)
    }

    /// Writes `payload` as one message to `fd`, or the rest of it if an earlier call stopped
    /// with a resumable error part-way; such a retry must pass the same payload again (a
    /// different length is refused with [`Error::SendPending`], and the state is
    /// kept).
    ///
    /// Header and payload go out in one write up to
    /// [`MAX_COALESCED_PAYLOAD`](super::frame::MAX_COALESCED_PAYLOAD) bytes, and as two above.
    /// Short writes are continued until every byte is out. Any error other than a resumable one
    /// abandons the message (the peer then sees a truncated frame, as with CPython).
    pub fn send(&mut self, fd: BorrowedFd<'_>, payload: &[u8]) -> Result<()> {
        self.send_with(fd, payload, Wait::Yes)
    }

    /// [`send`](Self::send) without waiting: writes what fits at once and fails with a
    /// resumable `WouldBlock` OS error if that is not all (then call either method again with
    /// the same payload to go on). A caller that must give up a lock of its own to wait
    /// (Python's GIL) tries this first with the lock held. On platforms without a wait-free
    /// write (anything but Linux) it always fails so, having written nothing.
    pub fn try_send(&mut self, fd: BorrowedFd<'_>, payload: &[u8]) -> Result<()> {
        self.send_with(fd, payload, Wait::No)
    }

    fn send_with(&mut self, fd: BorrowedFd<'_>, payload: &[u8], wait: Wait) -> Result<()> {
        let frame = match &mut self.frame {
            Some(frame) if frame.written > 0 => {
                if frame.payload_len != payload.len() {
                    return Err(Error::SendPending);
                }
                frame
            }
            // Nothing of an earlier frame went out: any payload may take its place.
            _ => {
                let header = Header::for_payload(payload.len() as u64);
                if payload.len() > GROW_PIPE_ABOVE {
                    fd::grow_pipe(fd, header.as_bytes().len() + payload.len());
                }
                self.frame.insert(Frame {
                    header,
                    payload_len: payload.len(),
                    written: 0,
                })
            }
        };
        let result = frame.write_rest(fd, payload, wait);
        match &result {
            Err(err) if err.is_resumable() => {}
            _ => self.frame = None,
        }
        result
    }
}

impl Frame {
    fn write_rest(&mut self, fd: BorrowedFd<'_>, payload: &[u8], wait: Wait) -> Result<()> {
        let header = self.header.as_bytes();
        let together = coalesce_with_header(payload.len());
        loop {
            let header_rest = &header[self.written.min(header.len())..];
            let payload_rest = &payload[self.written.saturating_sub(header.len())..];
            let n = match (header_rest.is_empty(), payload_rest.is_empty()) {
                (true, true) => return Ok(()),
                (false, _) if together => fd::write_two(fd, header_rest, payload_rest, wait),
                (false, _) => fd::write(fd, header_rest, wait),
                (true, false) => fd::write(fd, payload_rest, wait),
            }
            .map_err(Error::from_os)?;
            if n == 0 {
                return Err(Error::Os(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
    }
}
