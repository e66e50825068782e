//! CPython's `multiprocessing` primitives for Rust, wire- and name-compatible with CPython.
//!
//! * [`SemLock`]: the semaphore/lock behind `multiprocessing.Lock`, `RLock`, `Semaphore` and
//!   `BoundedSemaphore`, on real POSIX named semaphores. A Rust process can open a lock a Python
//!   process created (by its name, `/mp-xxxxxxxx`) and the two exclude each other.
//! * [`Connection`], [`pipe`], [`Listener`] and [`connect`] (POSIX): CPython's message framing
//!   over pipes and sockets (AF_UNIX paths and abstract names, AF_INET), so a Rust process can
//!   talk to a Python `multiprocessing.connection.Listener` or `Client`.
//! * [`auth`]: [`AuthKey`] (zeroized on drop, redacted in `Debug`) and both dialects of the
//!   challenge handshake (CPython 3.11's HMAC-MD5, 3.12's `{digest}` prefixed), compared in
//!   constant time: state machines without I/O ([`auth::Deliverer`], [`auth::Answerer`]) for
//!   any transport, driven over a [`Connection`] by [`deliver_challenge`] and
//!   [`answer_challenge`].
//!
//! The crate knows nothing of Python: the `_multiprocessing` extension module is a thin binding
//! over it.
//!
//! ```
//! use mpcore::{unlink, Kind, SemLock};
//!
//! let name = format!("/mpcore-crate-doc-{}", std::process::id());
//! let rlock = SemLock::create(Kind::RecursiveMutex, 1, 1, &name, true)?;
//! assert_eq!(rlock.name(), None, "unlinked at creation");
//! rlock.acquire()?;
//! assert!(rlock.try_acquire()?, "the owner may re-acquire");
//! assert_eq!(rlock.count(), 2);
//! rlock.release()?;
//! rlock.release()?;
//! assert!(matches!(rlock.release(), Err(mpcore::Error::NotOwner)));
//! # Ok::<(), mpcore::Error>(())
//! ```
//!
//! # Platforms
//!
//! | platform | semaphores | status |
//! |---|---|---|
//! | Linux | POSIX named semaphores (`sem_open`, `sem_timedwait`) | built and **run-tested** |
//! | macOS (x86-64, arm64) | POSIX named semaphores; timed waits poll (no `sem_timedwait`), no value (`HAVE_BROKEN_SEM_GETVALUE`) | **compile-checked and linted only** |
//! | Windows (x86-64) | unnamed kernel semaphores (`CreateSemaphoreW`), handed to children as duplicated handles | **run-tested under Wine** |
//!
//! Every CI run lints the macOS and Windows code with clippy (`scripts/cross-check.sh`) and
//! runs this crate's tests, Windows-only ones included, under Wine (`scripts/wine-test.sh`).
//! What the backends compute (the polling schedule, wait slices, deadline conversion, the
//! meaning of Windows return and error codes, the release rules without a value or with a
//! kernel maximum) is portable code unit-tested on Linux too; macOS system calls have never
//! executed. Behaviour that differs by platform
//! follows that platform's stock CPython (see [`SemLock::release`], [`SemLock::value`],
//! [`SemLock::wait`] and [`Deadline::from_timeout`]).

pub mod auth;
#[cfg(unix)]
mod connection;
mod error;
mod semaphore;

#[cfg(unix)]
pub use auth::{answer_challenge, deliver_challenge};
pub use auth::{AuthKey, Dialect, Digest};
#[cfg(unix)]
pub use connection::{
    advise_huge_pages, connect, connect_with_dialect, frame, pipe, poll_readable, Address,
    Connection, Listener, RecvInto, RecvState, SendState, READ_CHUNK,
};
pub use error::{AuthError, Error, Result};
#[cfg(file_semaphores)]
pub use semaphore::{private_dir, semaphore_backend, SemaphoreBackend, BACKEND_VARIABLE};
pub use semaphore::{unlink, Deadline, Kind, SemLock, SemLockGuard, SEM_VALUE_MAX};

/// The examples of the crate's README, compiled and run with the other doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
