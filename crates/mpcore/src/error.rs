//! The one error type of the crate.
//!
//! Every variant carries the meaning CPython gives the same failure, so a binding can map each
//! one to the exception stock `_multiprocessing` raises, in one place. Messages never contain
//! key material.

use std::io;

/// What can go wrong in `mpcore`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A blocking call was interrupted by a signal (`EINTR`), or, from `SemLock::wait` only,
    /// gave control back between two steps of a polling (macOS) or sliced (Windows) wait. The
    /// core never retries on its own: the caller runs its signal handlers and calls again with
    /// the same deadline.
    #[error("interrupted by a signal")]
    Interrupted,

    /// A semaphore kind other than 0 (recursive mutex) or 1 (semaphore).
    #[error("unrecognized kind")]
    UnrecognizedKind,

    /// `release()` would push the value above `maxvalue`.
    #[error("semaphore or lock released too many times")]
    ReleasedTooManyTimes,

    /// A recursive mutex released by a thread that does not hold it.
    #[error("attempt to release recursive lock not owned by thread")]
    NotOwner,

    /// The platform cannot report a semaphore's value (macOS has no working `sem_getvalue`).
    #[error("the value of a semaphore is not available on this platform")]
    ValueUnavailable,

    /// A raw handle that does not belong to a semaphore this process has open.
    #[error("not the handle of a semaphore open in this process")]
    InvalidHandle,

    /// Windows: a timeout of `INFINITE / 2` milliseconds (about 24.8 days) or more, which stock
    /// CPython refuses there with `OverflowError`.
    #[error("timeout is too large")]
    TimeoutTooLarge,

    /// Windows: a wait function returned a value it is not documented to return.
    #[error("WaitForSingleObject() or WaitForMultipleObjects() gave unrecognized value {0}")]
    UnrecognizedWaitResult(u32),

    /// The peer closed the connection before a message began.
    #[error("end of file")]
    Eof,

    /// The peer closed the connection in the middle of a message.
    #[error("got end of file during message")]
    EofInMessage,

    /// A message was longer than the receiver allows.
    #[error("bad message length")]
    BadMessageLength,

    /// An error from the operating system, with its `errno`.
    #[error(transparent)]
    Os(#[from] io::Error),
}

impl Error {
    /// Wraps an OS error, turning `EINTR` into [`Error::Interrupted`].
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) fn from_os(err: io::Error) -> Self {
        if err.kind() == io::ErrorKind::Interrupted {
            Error::Interrupted
        } else {
            Error::Os(err)
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
