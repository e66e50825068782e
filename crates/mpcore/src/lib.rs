//! CPython's `multiprocessing` primitives for Rust, wire- and name-compatible with CPython.
//!
//! * [`SemLock`]: the semaphore/lock behind `multiprocessing.Lock`, `RLock`, `Semaphore` and
//!   `BoundedSemaphore`, on real POSIX named semaphores. A Rust process can open a lock a Python
//!   process created (by its name, `/mp-xxxxxxxx`) and the two exclude each other.
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
//! assert!(rlock.acquire(true, None)?);
//! assert!(rlock.acquire(false, None)?, "the owner may re-acquire");
//! assert_eq!(rlock.count(), 2);
//! rlock.release()?;
//! rlock.release()?;
//! assert!(matches!(rlock.release(), Err(mpcore::Error::NotOwner)));
//! # Ok::<(), mpcore::Error>(())
//! ```
//!
//! Platforms: Linux is built and run-tested.

pub mod auth;
mod connection;
mod error;
mod semaphore;

pub use auth::{answer_challenge, deliver_challenge, AuthKey, Dialect, Digest};
pub use connection::{
    connect, connect_with_dialect, frame, pipe, Address, Connection, Listener, RecvInto, RecvState,
    SendState, READ_CHUNK,
};
pub use error::{AuthError, Error, Result};
pub use semaphore::{unlink, Deadline, Kind, SemLock, PLATFORM_FLAGS, SEM_VALUE_MAX};
