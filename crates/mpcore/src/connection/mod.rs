//! `multiprocessing.connection` for Rust: framed byte messages over a file descriptor, pipes,
//! and sockets that listen and connect with CPython's authentication handshake.
//!
//! The layers, from the bottom: [`frame`] encodes and decodes headers (pure), `fd` makes the
//! system calls (the only unsafe code here), [`RecvState`] and [`SendState`] move one message
//! in steps that survive signals, and [`Connection`] owns a descriptor and drives them.

pub mod frame;

mod fd;
mod listener;
mod recv;
mod send;

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread::{self, ThreadId};
use std::time::Duration;

pub use listener::{connect, connect_with_dialect, Address, Listener};
pub use recv::{RecvInto, RecvState, READ_CHUNK};
pub use send::SendState;

use crate::error::{Error, Result};

/// One end of a connection: CPython's POSIX `multiprocessing.connection.Connection`.
///
/// It owns its descriptor and sends and receives whole byte messages in CPython's framing,
/// so the other end may be a Python process. Sends and receives take `&self`: one thread may
/// send while another receives. Concurrent senders (or receivers) take turns message by
/// message, so frames never interleave.
///
/// # Signals
///
/// A blocking send or receive interrupted by a signal fails with [`Error::Interrupted`] and
/// keeps its progress: call [`recv_bytes`](Self::recv_bytes) again to continue the same
/// message, or [`send_bytes`](Self::send_bytes) again *with the same buffer* to finish
/// sending it. No byte is lost or sent twice. The same holds for `WouldBlock` on a
/// non-blocking descriptor. Until the interrupted thread finishes its message, other threads'
/// sends fail with [`Error::SendPending`]; a half-received message is finished by whichever
/// thread receives next.
///
/// ```
/// use mpcore::pipe;
///
/// let (left, right) = pipe(true)?;
/// left.send_bytes(b"ping")?;
/// assert!(right.poll(None)?);
/// assert_eq!(right.recv_bytes(None)?, b"ping");
/// # Ok::<(), mpcore::Error>(())
/// ```
#[derive(Debug)]
pub struct Connection {
    fd: Option<OwnedFd>,
    readable: AtomicBool,
    writable: bool,
    recv: Mutex<RecvState>,
    send: Mutex<Outgoing>,
}

/// The send side of a [`Connection`]: a message part-way out belongs to the thread that
/// started it, so that another thread's message cannot finish (and corrupt) it.
#[derive(Debug, Default)]
struct Outgoing {
    state: SendState,
    sender: Option<ThreadId>,
}

impl Connection {
    /// A connection over `fd`, which may be a socket or one end of a pipe. At least one of
    /// `readable` and `writable` must be set ([`Error::NeitherReadableNorWritable`]).
    pub fn new(fd: OwnedFd, readable: bool, writable: bool) -> Result<Self> {
        if !readable && !writable {
            return Err(Error::NeitherReadableNorWritable);
        }
        Ok(Connection {
            fd: Some(fd),
            readable: AtomicBool::new(readable),
            writable,
            recv: Mutex::default(),
            send: Mutex::default(),
        })
    }

    /// Whether the connection may receive. A message over the caller's `maxlength` leaves the
    /// stream out of step, after which the connection stops being readable.
    pub fn readable(&self) -> bool {
        self.readable.load(Ordering::Relaxed)
    }

    /// Whether the connection may send.
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// Whether the connection is closed: by [`close`](Self::close), or because it was
    /// read-only and a message over `maxlength` made it unreadable (CPython closes it then).
    pub fn is_closed(&self) -> bool {
        self.fd.is_none() || !(self.readable() || self.writable)
    }

    /// The descriptor, for `poll`/`select` or to pass to another process.
    pub fn fileno(&self) -> Result<RawFd> {
        Ok(self.as_fd()?.as_raw_fd())
    }

    /// The descriptor borrowed, to drive a [`RecvState`] or [`SendState`] directly.
    pub fn as_fd(&self) -> Result<BorrowedFd<'_>> {
        match &self.fd {
            Some(fd) if !self.is_closed() => Ok(fd.as_fd()),
            _ => Err(Error::Closed),
        }
    }

    /// Closes the descriptor. Closing again does nothing.
    pub fn close(&mut self) {
        self.fd = None;
    }

    /// Gives up the descriptor without closing it (CPython 3.14's `_detach`).
    pub fn into_owned_fd(mut self) -> Result<OwnedFd> {
        self.as_fd()?;
        self.fd.take().ok_or(Error::Closed)
    }

    /// Sends `buf` as one message.
    ///
    /// After [`Error::Interrupted`] (or `WouldBlock`), call again with the same `buf`: the
    /// rest of the message goes out. Fails with [`Error::ReadOnly`] on a receive-only end.
    ///
    /// Writing to a peer that has gone raises `SIGPIPE`, which Rust programs (and Python) ignore
    /// by default, so it surfaces as a `BrokenPipe` error; a host that does not ignore it
    /// must.
    pub fn send_bytes(&self, buf: &[u8]) -> Result<()> {
        let fd = self.as_fd()?;
        if !self.writable {
            return Err(Error::ReadOnly);
        }
        let me = thread::current().id();
        let mut outgoing = lock(&self.send);
        if outgoing.state.in_progress() && outgoing.sender != Some(me) {
            return Err(Error::SendPending);
        }
        let result = outgoing.state.send(fd, buf);
        outgoing.sender = outgoing.state.in_progress().then_some(me);
        result
    }

    /// Receives one message, at most `maxlength` bytes long if a limit is given.
    ///
    /// End of file before a message is [`Error::Eof`], inside one [`Error::EofInMessage`]. A
    /// longer message fails with [`Error::BadMessageLength`] before its payload is read; the
    /// connection then stops being readable (and counts as closed if it was read-only), as in
    /// CPython. After [`Error::Interrupted`], call again to continue the same message.
    pub fn recv_bytes(&self, maxlength: Option<usize>) -> Result<Vec<u8>> {
        let fd = self.readable_fd()?;
        let result = lock(&self.recv).recv(fd, maxlength);
        if let Err(Error::BadMessageLength) = result {
            self.readable.store(false, Ordering::Relaxed);
        }
        result
    }

    /// Receives one message straight into `buf`, or hands it back whole if it does not fit
    /// (it is consumed either way): [`RecvState::recv_into`]. Resumes after a signal like
    /// [`recv_bytes`](Self::recv_bytes), whichever of the two the next receiver calls.
    pub fn recv_bytes_into(&self, buf: &mut [u8]) -> Result<RecvInto> {
        let fd = self.readable_fd()?;
        let mut state = lock(&self.recv);
        let result = state.recv_into(fd, buf);
        if matches!(&result, Err(err) if err.is_resumable()) {
            // Another thread may finish this message: what arrived goes with the state.
            state.set_aside(buf);
        }
        result
    }

    /// Waits until a message (or end of file) can be read, at most `timeout` (`None`: as long
    /// as it takes); `Ok(false)` if the time ran out. A signal during the wait fails with
    /// [`Error::Interrupted`]: the caller decides how much of the timeout is left.
    pub fn poll(&self, timeout: Option<Duration>) -> Result<bool> {
        poll_readable(self.readable_fd()?, timeout)
    }

    fn readable_fd(&self) -> Result<BorrowedFd<'_>> {
        let fd = self.as_fd()?;
        if !self.readable() {
            return Err(Error::WriteOnly);
        }
        Ok(fd)
    }
}

/// Waits until `fd` can be read (a message, or end of file), at most `timeout` (`None`: as long
/// as it takes); `Ok(false)` if the time ran out. [`Connection::poll`] for a descriptor the
/// caller owns, such as a Python `Connection`'s. A signal fails it with [`Error::Interrupted`].
pub fn poll_readable(fd: BorrowedFd<'_>, timeout: Option<Duration>) -> Result<bool> {
    fd::poll_readable(fd, timeout).map_err(Error::from_os)
}

/// Asks the kernel to back the whole 2 MiB pages of `buf` with huge pages (Linux
/// `madvise(MADV_HUGEPAGE)`): worth it for a large buffer that has just been allocated and is
/// about to be filled, such as the destination of a big message given to
/// [`RecvState::recv_payload_into`], because the first touch of fresh memory then faults once
/// per 2 MiB instead of once per 4 KiB, several times cheaper in all. Memory is still committed
/// only as it is written.
///
/// Advice only: it changes no contents, does nothing for buffers under 4 MiB or on other
/// systems, and an advice the kernel does not take is ignored.
pub fn advise_huge_pages(buf: &mut [MaybeUninit<u8>]) {
    if buf.len() >= 4 << 20 {
        fd::advise_huge_pages(buf);
    }
}

/// The raw descriptor, or `-1` once closed (`AsRawFd` cannot fail; see
/// [`Connection::fileno`]).
impl AsRawFd for Connection {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_ref().map_or(-1, AsRawFd::as_raw_fd)
    }
}

/// Takes a lock whose holder may have panicked: the states stay consistent between system
/// calls, so a panic elsewhere leaves nothing half-updated.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A pair of connected [`Connection`]s, CPython's POSIX `Pipe(duplex)`.
///
/// Duplex: both ends of a `socketpair(AF_UNIX, SOCK_STREAM)`, each of which sends and receives.
/// Otherwise `(reader, writer)`: the two ends of a `pipe()`.
pub fn pipe(duplex: bool) -> Result<(Connection, Connection)> {
    if duplex {
        let (left, right) = UnixStream::pair().map_err(Error::from_os)?;
        Ok((
            Connection::new(left.into(), true, true)?,
            Connection::new(right.into(), true, true)?,
        ))
    } else {
        let (reader, writer) = fd::pipe().map_err(Error::from_os)?;
        Ok((
            Connection::new(reader, true, false)?,
            Connection::new(writer, false, true)?,
        ))
    }
}
