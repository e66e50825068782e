//! The one error type of the crate.
//!
//! Every variant carries the meaning CPython gives the same failure, so a binding can map each
//! one to the exception stock `_multiprocessing` raises, in one place (with stock's words: the
//! messages here are written for Rust users). Messages never contain key material.

use std::io;

use crate::auth::Digest;

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
    #[error("unrecognized semaphore kind: neither 0 (recursive mutex) nor 1 (semaphore)")]
    UnrecognizedKind,

    /// `release()` would push the value above `maxvalue`.
    #[error("semaphore or lock released too many times")]
    ReleasedTooManyTimes,

    /// A recursive mutex released by a thread that does not hold it.
    #[error("a recursive lock can only be released by the thread that holds it")]
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
    #[error("a Windows wait returned the undocumented value {0}")]
    UnrecognizedWaitResult(u32),

    /// The peer closed the connection before a message began.
    #[error("end of file")]
    Eof,

    /// The peer closed the connection in the middle of a message.
    #[error("end of file in the middle of a message")]
    EofInMessage,

    /// A message was longer than the receiver allows. Its header was consumed, its payload was
    /// not: the stream is out of step, so the connection stops being readable.
    #[error("message longer than the receiver allows")]
    BadMessageLength,

    /// The connection (or listener) was closed.
    #[error("the connection is closed")]
    Closed,

    /// A receive on a connection that was opened for sending only.
    #[error("the connection is write-only")]
    WriteOnly,

    /// A send on a connection that was opened for receiving only.
    #[error("the connection is read-only")]
    ReadOnly,

    /// A connection that may neither send nor receive was asked for.
    #[error("a connection must be readable, writable or both")]
    NeitherReadableNorWritable,

    /// A message is part-way sent (its send stopped with [`Error::Interrupted`] or
    /// `WouldBlock`) and this send could not be its resumption: a buffer of another length, or
    /// (on a [`Connection`](crate::Connection)) a thread other than the one that started it.
    /// Only the same bytes, from the same sender, may finish it.
    #[error("a message is part-way sent: only the same buffer from the same sender can resume it")]
    SendPending,

    /// The authentication handshake failed: CPython's `AuthenticationError`.
    #[error("authentication failed: {0}")]
    Auth(#[from] AuthError),

    /// An error from the operating system, with its `errno`.
    #[error(transparent)]
    Os(#[from] io::Error),
}

impl Error {
    /// Wraps an OS error, turning `EINTR` into [`Error::Interrupted`].
    pub(crate) fn from_os(err: io::Error) -> Self {
        if err.kind() == io::ErrorKind::Interrupted {
            Error::Interrupted
        } else {
            Error::Os(err)
        }
    }

    /// Whether an operation that failed with this error can be resumed by calling it again:
    /// a signal ([`Error::Interrupted`]) or a non-blocking descriptor that was not ready
    /// (`WouldBlock`). The resumable send and receive states keep their progress for exactly
    /// these errors and start afresh after any other.
    pub fn is_resumable(&self) -> bool {
        match self {
            Error::Interrupted => true,
            Error::Os(err) => err.kind() == io::ErrorKind::WouldBlock,
            _ => false,
        }
    }
}

/// Why an authentication handshake failed: CPython's `AuthenticationError`, one variant per
/// message it raises.
///
/// Some variants carry the *challenge* or *response* bytes a peer sent (those are random nonces
/// and MACs); none ever contains key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// We challenged the peer and its answer did not match the key (it was sent `#FAILURE#`).
    #[error("the peer's answer to our challenge is wrong: it does not have the key")]
    DigestReceivedWrong,

    /// We answered the peer's challenge and it did not send `#WELCOME#` back.
    #[error("the peer rejected our answer to its challenge: it has another key")]
    DigestSentRejected,

    /// The peer's first message was not a `#CHALLENGE#`.
    #[error("expected a challenge, got a {}-byte message that is not one", .message.len())]
    ExpectedChallenge {
        /// The message received instead.
        message: Vec<u8>,
    },

    /// The challenge nonce is shorter than the 20 bytes every dialect uses.
    #[error("challenge too short: {len} bytes, at least 20 expected")]
    ChallengeTooShort {
        /// The length of the nonce part that was received.
        len: usize,
    },

    /// A challenge or response that is neither a bare legacy MAC (20 or 16 bytes) nor prefixed
    /// with an allowed `{digest}`.
    #[error(
        "a {}-byte message is neither a bare legacy MAC nor prefixed with an allowed {{digest}}",
        .message.len()
    )]
    UnsupportedDigest {
        /// The challenge or response that could not be parsed.
        message: Vec<u8>,
    },

    /// A response whose MAC has the wrong length for the digest it names.
    #[error("a {digest} MAC is {expected} bytes long, got {got}")]
    WrongDigestLength {
        /// The digest the response names (MD5 for bare responses).
        digest: Digest,
        /// The length of that digest's MAC.
        expected: usize,
        /// The length received.
        got: usize,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
