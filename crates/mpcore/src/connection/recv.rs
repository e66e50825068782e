//! Receiving one framed message in steps that survive signals.
//!
//! A blocking `read` interrupted by a signal transfers nothing and fails with `EINTR`. The
//! core does not retry on its own (the caller may have to run signal handlers first, as Python
//! does), so everything read so far lives in a [`RecvState`] the caller keeps: calling
//! [`RecvState::recv`] again continues the same message where it stopped, without losing or
//! repeating a byte.

use std::io;
use std::mem::{self, MaybeUninit};
use std::os::fd::BorrowedFd;

use super::fd::{self, Wait};
use super::frame::{HeaderDecoder, MAX_HEADER_LEN};
use crate::error::{Error, Result};

/// The most the payload buffer grows by before the bytes to fill it have arrived, while it is
/// small. It then grows by at most what has arrived, so a peer announcing a huge length makes
/// us hold at most about twice what it really sent (CPython 3.14 reads 64 KiB at a time for the
/// same reason, gh-121313).
pub const READ_CHUNK: usize = 64 * 1024;

/// How far the receipt of one message has got. Keep it across calls while a receive fails with
/// a resumable error ([`Error::is_resumable`]), and resume with the method that began the
/// message ([`recv`](Self::recv) and [`recv_into`](Self::recv_into) may take each other's
/// place; the two halves [`recv_header`](Self::recv_header) and
/// [`recv_payload_into`](Self::recv_payload_into) go together).
///
/// ```
/// use std::os::fd::AsFd;
/// use mpcore::{pipe, Error, RecvState};
///
/// let (reader, writer) = pipe(false)?;
/// writer.send_bytes(b"hello")?;
/// let mut state = RecvState::new();
/// let fd = reader.as_fd()?;
/// let message = loop {
///     match state.recv(fd, None) {
///         Err(Error::Interrupted) => continue, // run signal handlers here, then resume
///         other => break other?,
///     }
/// };
/// assert_eq!(message, b"hello");
/// # Ok::<(), mpcore::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct RecvState {
    header: HeaderDecoder,
    /// The payload length, once the header is complete and within the caller's limit.
    expected: Option<usize>,
    /// The payload so far, when the message is received into the state's own buffer.
    payload: Vec<u8>,
    /// How much of a caller's destination ([`recv_payload_into`](RecvState::recv_payload_into),
    /// [`recv_into`](RecvState::recv_into)) has been filled.
    filled: usize,
}

impl RecvState {
    /// A state at the start of a message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether part of a message has been read.
    pub fn in_progress(&self) -> bool {
        self.header.received() > 0
    }

    /// Reads the rest of the current message from `fd` and returns its payload; the state is
    /// then ready for the next message.
    ///
    /// `maxlength` is checked as soon as the header is complete, before any payload is read:
    /// a longer message fails with [`Error::BadMessageLength`] and its payload stays unread.
    /// End of file before a message (or at the start of one of its reads, as CPython counts
    /// it) is [`Error::Eof`]; inside one it is [`Error::EofInMessage`].
    ///
    /// A resumable error keeps the progress for the next call; any other error ends the
    /// message and the state starts afresh.
    pub fn recv(&mut self, fd: BorrowedFd<'_>, maxlength: Option<usize>) -> Result<Vec<u8>> {
        if self.filled > 0 {
            // The payload's first bytes are in a caller's destination, which this call does
            // not have: reading on would lose them.
            return Err(misuse(
                "a payload part-way into a caller's destination is resumed with the same method",
            ));
        }
        let result = self.advance(fd, maxlength);
        self.settle(result)
    }

    /// Receives one message into `buf`, CPython's `recv_bytes_into`: the header, then the
    /// payload straight into the start of `buf` if it fits ([`RecvInto::Received`] with its
    /// length); otherwise the whole message is read into a new `Vec` and handed back
    /// ([`RecvInto::BufferTooShort`]), `buf` left alone. Either way the message is consumed.
    ///
    /// Resumable like [`recv`](Self::recv): after an interruption, call again with the same
    /// `buf`, which holds what had arrived.
    pub fn recv_into(&mut self, fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<RecvInto> {
        let result = self.advance_into(fd, buf, Wait::Yes);
        self.settle(result)
    }

    /// [`recv_into`](Self::recv_into) without waiting: takes what has arrived, and fails with a
    /// resumable `WouldBlock` OS error if that is not the whole message (then call either
    /// method again with the same `buf` to go on).
    pub fn try_recv_into(&mut self, fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<RecvInto> {
        let result = self.advance_into(fd, buf, Wait::No);
        self.settle(result)
    }

    /// Moves what [`recv_into`](Self::recv_into) has put in `buf` so far into the state's own
    /// buffer, so that any receive can finish the message, into any buffer: for a state
    /// shared by several receivers, after a resumable error.
    pub(crate) fn set_aside(&mut self, buf: &[u8]) {
        if self.filled > 0 {
            self.payload.extend_from_slice(&buf[..self.filled]);
            self.filled = 0;
        }
    }

    /// Keeps the progress after a resumable error; after anything else, starts afresh.
    fn settle<T>(&mut self, result: Result<T>) -> Result<T> {
        match &result {
            Err(err) if err.is_resumable() => {}
            _ => *self = Self::new(),
        }
        result
    }

    /// The first half of a receive into a destination of the caller's: reads the header and
    /// returns the payload's length, checked against `maxlength` before any payload is read
    /// ([`Error::BadMessageLength`] otherwise, the payload left unread). The caller then gets
    /// a place of exactly that length and calls
    /// [`recv_payload_into`](Self::recv_payload_into). Resumable like [`recv`](Self::recv).
    pub fn recv_header(&mut self, fd: BorrowedFd<'_>, maxlength: Option<usize>) -> Result<usize> {
        let result = self.expected_len(fd, maxlength, Wait::Yes);
        self.keep_unless_failed(result)
    }

    /// [`recv_header`](Self::recv_header) without waiting: reads only the header bytes that
    /// have already arrived, and fails with a `WouldBlock` OS error (resumable: what was read
    /// is kept) if they are not the whole header. A caller that must give up a lock of its own
    /// to wait (Python's GIL) tries this first with the lock held, and waits only if it fails.
    /// On platforms without a wait-free read (anything but Linux) it always fails so.
    pub fn try_recv_header(
        &mut self,
        fd: BorrowedFd<'_>,
        maxlength: Option<usize>,
    ) -> Result<usize> {
        let result = self.expected_len(fd, maxlength, Wait::No);
        self.keep_unless_failed(result)
    }

    /// Keeps the progress (a header read, waiting for its payload) unless `result` is an error
    /// that cannot be resumed; then starts afresh.
    fn keep_unless_failed<T>(&mut self, result: Result<T>) -> Result<T> {
        if matches!(&result, Err(err) if !err.is_resumable()) {
            *self = Self::new();
        }
        result
    }

    /// The second half: reads the payload straight into `dest`, whose length must be the one
    /// [`recv_header`](Self::recv_header) returned (any other length, or a call before the
    /// header, fails with an `InvalidInput` OS error, reads nothing and keeps the state).
    /// Resumable: after an interruption, call again with the same `dest` and it continues
    /// where it stopped ([`recv`](Self::recv) refuses to take over, the same way). When it
    /// returns `Ok`, all of `dest` is initialised and the state is ready for the next message.
    ///
    /// This is what lets a binding receive into the object it will return (one copy), where
    /// [`recv`](Self::recv) builds a `Vec`.
    pub fn recv_payload_into(
        &mut self,
        fd: BorrowedFd<'_>,
        dest: &mut [MaybeUninit<u8>],
    ) -> Result<()> {
        self.payload_with(fd, dest, Wait::Yes)
    }

    /// [`recv_payload_into`](Self::recv_payload_into) without waiting: takes what has
    /// arrived, and fails with a resumable `WouldBlock` OS error if that is not all of it
    /// (then call either method again with the same `dest` to go on).
    pub fn try_recv_payload_into(
        &mut self,
        fd: BorrowedFd<'_>,
        dest: &mut [MaybeUninit<u8>],
    ) -> Result<()> {
        self.payload_with(fd, dest, Wait::No)
    }

    fn payload_with(
        &mut self,
        fd: BorrowedFd<'_>,
        dest: &mut [MaybeUninit<u8>],
        wait: Wait,
    ) -> Result<()> {
        if self.expected != Some(dest.len()) {
            // Reading into it would split the payload at the wrong place and leave the stream
            // out of step: refuse, and read nothing.
            return Err(misuse(
                "recv_payload_into needs a destination of the length recv_header returned",
            ));
        }
        let result = self.fill(dest.len(), |at| fd::read_uninit(fd, &mut dest[at..], wait));
        self.settle(result)
    }

    /// Fills a destination of `len` bytes, `read(at)` reading from offset `at` on.
    fn fill(&mut self, len: usize, mut read: impl FnMut(usize) -> io::Result<usize>) -> Result<()> {
        while self.filled < len {
            let n = read(self.filled).map_err(Error::from_os)?;
            if n == 0 {
                return Err(end_of_file(self.filled == 0));
            }
            self.filled += n;
        }
        Ok(())
    }

    fn advance(&mut self, fd: BorrowedFd<'_>, maxlength: Option<usize>) -> Result<Vec<u8>> {
        let expected = self.expected_len(fd, maxlength, Wait::Yes)?;
        self.read_payload(fd, expected, Wait::Yes)?;
        Ok(mem::take(&mut self.payload))
    }

    fn advance_into(&mut self, fd: BorrowedFd<'_>, buf: &mut [u8], wait: Wait) -> Result<RecvInto> {
        let len = self.expected_len(fd, None, wait)?;
        // Straight into `buf` when it fits, unless the message was begun in our own buffer.
        if let Some(dest) = buf.get_mut(..len).filter(|_| self.payload.is_empty()) {
            self.fill(len, |at| fd::read(fd, &mut dest[at..], wait))?;
            return Ok(RecvInto::Received(len));
        }
        self.read_payload(fd, len, wait)?;
        let message = mem::take(&mut self.payload);
        Ok(match buf.get_mut(..len) {
            Some(dest) => {
                dest.copy_from_slice(&message);
                RecvInto::Received(len)
            }
            None => RecvInto::BufferTooShort(message),
        })
    }

    /// The payload length: from an earlier call, or from the header, read now.
    fn expected_len(
        &mut self,
        fd: BorrowedFd<'_>,
        maxlength: Option<usize>,
        wait: Wait,
    ) -> Result<usize> {
        if let Some(expected) = self.expected {
            return Ok(expected);
        }
        let announced = self.read_header(fd, wait)?;
        let expected = usize::try_from(announced)
            .ok()
            .filter(|&len| maxlength.is_none_or(|max| len <= max))
            .ok_or(Error::BadMessageLength)?;
        Ok(*self.expected.insert(expected))
    }

    /// Reads exactly the header's bytes, never into the payload.
    fn read_header(&mut self, fd: BorrowedFd<'_>, wait: Wait) -> Result<u64> {
        let mut buf = [0; MAX_HEADER_LEN];
        loop {
            if let Some(len) = self.header.payload_len() {
                return Ok(len);
            }
            let wanted = self.header.wanted();
            let n = fd::read(fd, &mut buf[..wanted], wait).map_err(Error::from_os)?;
            if n == 0 {
                return Err(end_of_file(self.header.at_read_boundary()));
            }
            self.header.feed(&buf[..n]);
        }
    }

    /// Reads the payload into the state's own buffer, growing it only as fast as bytes arrive.
    fn read_payload(&mut self, fd: BorrowedFd<'_>, expected: usize, wait: Wait) -> Result<()> {
        while self.payload.len() < expected {
            let received = self.payload.len();
            if self.payload.capacity() == received {
                let grow = (expected - received).min(received.max(READ_CHUNK));
                self.payload.reserve_exact(grow);
            }
            let n = fd::read_into_spare(fd, &mut self.payload, expected - received, wait)
                .map_err(Error::from_os)?;
            if n == 0 {
                return Err(end_of_file(received == 0));
            }
        }
        Ok(())
    }
}

/// The result of receiving into a caller's buffer, CPython's `recv_bytes_into`.
#[derive(Debug, PartialEq, Eq)]
#[must_use]
pub enum RecvInto {
    /// The message fit: its length (the bytes written at the start of the buffer).
    Received(usize),
    /// The message did not fit and the buffer was left alone; here is the whole message,
    /// which has been consumed from the connection (CPython's `BufferTooShort(message)`).
    BufferTooShort(Vec<u8>),
}

/// End of file before any byte of the part being read (`Eof`, as CPython counts a message that
/// never began) or inside it (`EofInMessage`).
fn end_of_file(at_start: bool) -> Error {
    if at_start {
        Error::Eof
    } else {
        Error::EofInMessage
    }
}

/// The error of a call that would put the stream out of step (a caller's mistake): nothing is
/// read, and the state is kept, so the right call can still finish the message.
fn misuse(what: &'static str) -> Error {
    Error::Os(io::Error::new(io::ErrorKind::InvalidInput, what))
}
