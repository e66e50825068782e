//! The interface every platform's semaphore implements, and the vocabulary it answers in.
//!
//! `mod.rs` picks one backend (`imp`) and writes every rule (kinds, counts, owners, the
//! `maxvalue` check, the retry loops) against this trait only, so a backend is nothing but
//! system calls and the compiler checks that each platform provides all of them. Portable
//! arithmetic the backends share (deadlines, the polling schedule, Windows code mapping) lives in
//! `deadline.rs`, `schedule.rs` and `windows_codes.rs`, where Linux unit tests reach it.
//!
//! | backend | file | run-tested |
//! |---|---|---|
//! | POSIX named semaphores (Linux, other Unix) | `posix.rs` | yes (Linux) |
//! | the same, macOS variant (`target_vendor = "apple"`) | `posix.rs` | compile-checked and linted only |
//! | Windows kernel semaphores | `windows.rs` | under Wine (`tests/windows_*.rs`) |
//! | file-backed futex semaphores (Linux, where `sem_open` cannot work), chosen per process by `select.rs` | `file.rs`, `file_sys.rs`, `private_dir.rs` | yes |

use std::fmt;

use super::deadline::Deadline;
use crate::error::Result;

/// What one call to [`Backend::wait`] achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Waited {
    /// A unit was taken.
    Acquired,
    /// The deadline passed without a unit.
    TimedOut,
    /// The wait gave up control early without a unit and without a signal: the end of one
    /// polling step (macOS timed waits) or of one bounded slice (Windows). The caller runs its
    /// signal checks, if it has any, and calls again with the same deadline. (Linux waits end
    /// only with a unit, the deadline or a signal.)
    #[cfg(any(target_vendor = "apple", windows, test))]
    NotYet,
}

/// How a backend keeps `release()` of a `Kind::Semaphore` from going above `maxvalue`. Each
/// rule exists where a backend uses it, and everywhere for the unit tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReleaseCheck {
    /// Read the value first (`sem_getvalue`) and refuse at `maxvalue` (Linux and other Unix).
    #[cfg(any(all(unix, not(target_vendor = "apple")), test))]
    Value,
    /// No usable value: only `maxvalue == 1` is checked, by taking a unit and, if that works,
    /// giving it back and refusing (macOS, `HAVE_BROKEN_SEM_GETVALUE`).
    #[cfg(any(target_vendor = "apple", test))]
    TryWaitIfBinary,
    /// The kernel knows the maximum and fails the post, which the backend reports as
    /// `Error::ReleasedTooManyTimes` (Windows `ERROR_TOO_MANY_POSTS`).
    #[cfg(any(windows, test))]
    Kernel,
}

/// One open OS semaphore, and the platform facts that go with it.
///
/// Contract for implementors:
/// * no method keeps bookkeeping or knows about kinds;
/// * blocking calls never retry `EINTR` themselves: they return `Error::Interrupted`;
/// * a backend that cannot report its value returns `Error::ValueUnavailable` from
///   [`value`](Self::value), and the rules fall back to taking and giving back a unit;
/// * dropping the value closes this process's handle and never removes a name.
pub(crate) trait Backend: Sized + Send + Sync + fmt::Debug {
    /// The largest value a semaphore can hold (`SemLock.SEM_VALUE_MAX`).
    const SEM_VALUE_MAX: i32;
    /// How `release()` enforces `maxvalue` here.
    const RELEASE_CHECK: ReleaseCheck;

    /// A new semaphore holding `value` units. `name` must not exist yet where the OS names
    /// semaphores (POSIX); `maxvalue` is enforced by the kernel where it takes one (Windows).
    fn create(name: &str, value: u32, maxvalue: i32) -> Result<Self>;

    /// An existing semaphore, by name.
    fn open(name: &str) -> Result<Self>;

    /// The OS handle as an integer: CPython's `SemLock.handle`.
    fn handle(&self) -> usize;

    /// Takes a unit if one is there, without blocking: `Ok(false)` at zero.
    fn try_wait(&self) -> Result<bool>;

    /// Waits for a unit until `deadline` (`None`: no limit). May return `Waited::NotYet`
    /// before the deadline; never returns `TimedOut` with `deadline == None`.
    fn wait(&self, deadline: Option<Deadline>) -> Result<Waited>;

    /// Adds one unit and wakes a waiter.
    fn post(&self) -> Result<()>;

    /// The current value as the OS reports it, or `Error::ValueUnavailable`.
    fn value(&self) -> Result<i32>;

    /// Removes a name (a no-op where semaphores have none).
    fn unlink(name: &str) -> Result<()>;

    /// The calling thread's identity, as `threading.get_ident()` reports it.
    fn current_thread_id() -> u64;

    /// The deadline of `acquire(timeout=seconds)`, converted as this platform's stock module
    /// converts it, with its errors.
    fn deadline_after_secs(seconds: f64) -> Result<Deadline>;
}
