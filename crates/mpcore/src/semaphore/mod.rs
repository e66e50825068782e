//! `SemLock`: CPython's semaphore/lock, on named semaphores the kernel shares between processes.
//!
//! The OS object is shared; the bookkeeping is not. Each [`SemLock`] keeps its own net count of
//! acquires minus releases and the thread that last acquired it, *per object and per process*,
//! exactly as `_multiprocessing.SemLock` does: that is what makes a recursive mutex recursive,
//! lets `Condition` ask "is it mine?", and makes `release()` refuse an unowned recursive lock.
//!
//! The platform layer (`posix`) only wraps system calls; the rules live here.

mod deadline;
mod net_count;
mod posix;
mod registry;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use deadline::Deadline;
use posix as imp;

use crate::error::{Error, Result};
use net_count::NetCount;

/// `SEM_VALUE_MAX` of the platform: the largest value a semaphore can hold.
pub const SEM_VALUE_MAX: i32 = imp::SEM_VALUE_MAX;

/// The feature flags CPython's `_multiprocessing.flags` reports on this platform.
pub const PLATFORM_FLAGS: &[(&str, i32)] = imp::FLAGS;

/// What a [`SemLock`] is: CPython's `RECURSIVE_MUTEX = 0` and `SEMAPHORE = 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Kind {
    /// A lock its owner thread may acquire again without blocking (`RLock`).
    RecursiveMutex = 0,
    /// A counting semaphore that anyone may release (`Lock`, `Semaphore`, `BoundedSemaphore`).
    Semaphore = 1,
}

impl TryFrom<i32> for Kind {
    type Error = Error;

    fn try_from(kind: i32) -> Result<Self> {
        match kind {
            0 => Ok(Kind::RecursiveMutex),
            1 => Ok(Kind::Semaphore),
            _ => Err(Error::UnrecognizedKind),
        }
    }
}

/// A semaphore or lock shared between processes by name, with CPython's semantics.
///
/// Cheap operations never block; [`acquire`](Self::acquire) blocks only when asked to. Dropping a
/// `SemLock` closes this process's handle and never removes the name: call [`unlink`] for that.
///
/// ```
/// use mpcore::{unlink, Kind, SemLock};
/// use std::time::Duration;
///
/// let name = format!("/mpcore-doc-{}", std::process::id());
/// let lock = SemLock::create(Kind::Semaphore, 1, 1, &name, false)?;
/// // Another process can open the same lock by name, as CPython's spawn children do.
/// let same = SemLock::open(&name, Kind::Semaphore, 1)?;
/// unlink(&name)?;
///
/// assert!(lock.acquire(true, None)?);
/// assert!(!same.acquire(true, Some(Duration::from_millis(10)))?, "held by `lock`");
/// lock.release()?;
/// assert!(same.acquire(false, None)?);
/// # Ok::<(), mpcore::Error>(())
/// ```
#[derive(Debug)]
pub struct SemLock {
    sem: Arc<imp::RawSemaphore>,
    kind: Kind,
    maxvalue: i32,
    name: Option<String>,
    /// Acquires minus releases by this object in this process (can go negative for semaphores).
    count: NetCount,
    /// The thread that last acquired through this object.
    last_tid: AtomicU64,
}

impl SemLock {
    /// Creates a new named semaphore with `value` units (`sem_open` with `O_CREAT | O_EXCL`,
    /// mode 0600). If `unlink` is set, the name is removed at once: the semaphore then lives only
    /// as long as some process has it open, and [`name`](Self::name) is `None`.
    ///
    /// `maxvalue` is not checked against `value` (as in CPython); [`release`](Self::release)
    /// refuses to go beyond it. Fails with `AlreadyExists` if the name is taken.
    pub fn create(kind: Kind, value: u32, maxvalue: i32, name: &str, unlink: bool) -> Result<Self> {
        let sem = imp::RawSemaphore::create(name, value)?;
        if unlink {
            imp::unlink(name)?;
        }
        let name = (!unlink).then(|| name.to_owned());
        Ok(Self::with(registry::register(sem), kind, maxvalue, name))
    }

    /// Opens an existing semaphore by name (`sem_open(name, 0)`), with fresh bookkeeping: how a
    /// spawned child rebuilds a lock its parent created.
    pub fn open(name: &str, kind: Kind, maxvalue: i32) -> Result<Self> {
        let sem = imp::RawSemaphore::open(name)?;
        Ok(Self::with(
            registry::register(sem),
            kind,
            maxvalue,
            Some(name.to_owned()),
        ))
    }

    /// A new `SemLock` on the semaphore behind `handle` (a value of [`handle`](Self::handle)),
    /// with fresh bookkeeping: how a forked child rebuilds an unnamed lock it inherited.
    ///
    /// Only handles of semaphores this process has open (directly, or inherited through
    /// `fork()`) are accepted; anything else is [`Error::InvalidHandle`], never a wild pointer.
    pub fn from_handle(handle: usize, kind: Kind, maxvalue: i32) -> Result<Self> {
        let sem = registry::lookup(handle).ok_or(Error::InvalidHandle)?;
        Ok(Self::with(sem, kind, maxvalue, None))
    }

    fn with(sem: Arc<imp::RawSemaphore>, kind: Kind, maxvalue: i32, name: Option<String>) -> Self {
        SemLock {
            sem,
            kind,
            maxvalue,
            name,
            count: NetCount::new(maxvalue),
            last_tid: AtomicU64::new(0),
        }
    }

    /// The OS handle as an integer (the `sem_t*` on POSIX), CPython's `SemLock.handle`.
    pub fn handle(&self) -> usize {
        self.sem.handle()
    }

    /// The kind given at creation.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The value [`release`](Self::release) may not exceed.
    pub fn maxvalue(&self) -> i32 {
        self.maxvalue
    }

    /// The semaphore's name, or `None` if it was unlinked at creation or adopted by handle.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Acquires minus releases done through this object in this process.
    pub fn count(&self) -> i32 {
        self.count.get()
    }

    /// Whether the calling thread holds this object: it acquired last and the count is positive.
    pub fn is_mine(&self) -> bool {
        self.count.get() > 0 && self.last_tid.load(Ordering::Relaxed) == imp::current_thread_id()
    }

    /// Forgets this process's acquisitions, as a child must right after `fork()`.
    pub fn after_fork(&self) {
        self.count.reset();
    }

    /// Acquires one unit. With `block == false` only a non-blocking attempt is made (and
    /// `timeout` is ignored); otherwise it waits, at most `timeout` if one is given.
    ///
    /// Returns `Ok(false)` when the unit could not be had in time. A signal during the wait gives
    /// [`Error::Interrupted`]; to retry without stretching the wait, compute a [`Deadline`] once
    /// and call [`acquire_until`](Self::acquire_until).
    pub fn acquire(&self, block: bool, timeout: Option<Duration>) -> Result<bool> {
        self.acquire_until(block, timeout.map(Deadline::after))
    }

    /// [`acquire`](Self::acquire) with an absolute deadline (`None`: wait as long as it takes).
    pub fn acquire_until(&self, block: bool, deadline: Option<Deadline>) -> Result<bool> {
        if self.try_acquire()? {
            return Ok(true);
        }
        if !block {
            return Ok(false);
        }
        self.wait(deadline)
    }

    /// The non-blocking half of an acquire: a recursive re-acquire by the owner (no system call),
    /// or one `sem_trywait`. `Ok(false)` if the semaphore is at zero.
    pub fn try_acquire(&self) -> Result<bool> {
        if self.kind == Kind::RecursiveMutex && self.is_mine() {
            self.count.add(1);
            return Ok(true);
        }
        let acquired = self.sem.try_wait()?;
        if acquired {
            self.note_acquired();
        }
        Ok(acquired)
    }

    /// The blocking half of an acquire, for callers that call [`try_acquire`](Self::try_acquire)
    /// first and must give up a lock of their own (such as Python's GIL) around the wait.
    /// `Ok(false)` once `deadline` passes; [`Error::Interrupted`] on a signal.
    pub fn wait(&self, deadline: Option<Deadline>) -> Result<bool> {
        let acquired = self.sem.wait(deadline)?;
        if acquired {
            self.note_acquired();
        }
        Ok(acquired)
    }

    fn note_acquired(&self) {
        self.count.add(1);
        self.last_tid
            .store(imp::current_thread_id(), Ordering::Relaxed);
    }

    /// Releases one unit.
    ///
    /// A recursive mutex must be held by the calling thread ([`Error::NotOwner`]) and only posts
    /// when its count drops to zero. A semaphore may be released by anyone, but never above
    /// `maxvalue` ([`Error::ReleasedTooManyTimes`]).
    pub fn release(&self) -> Result<()> {
        match self.kind {
            Kind::RecursiveMutex => {
                if !self.is_mine() {
                    return Err(Error::NotOwner);
                }
                if self.count.get() > 1 {
                    self.count.add(-1);
                    return Ok(());
                }
            }
            Kind::Semaphore => {
                if self.sem.value()? >= self.maxvalue {
                    return Err(Error::ReleasedTooManyTimes);
                }
            }
        }
        // Count down before the post hands the unit on, so the next holder's count-up comes
        // after ours (see `net_count`).
        self.count.add(-1);
        if let Err(err) = self.sem.post() {
            self.count.add(1);
            return Err(err);
        }
        Ok(())
    }

    /// The semaphore's current value, never negative (some systems report waiters as a
    /// negative value).
    pub fn value(&self) -> Result<i32> {
        Ok(self.sem.value()?.max(0))
    }

    /// Whether the semaphore's value is zero.
    pub fn is_zero(&self) -> Result<bool> {
        Ok(self.sem.value()? == 0)
    }
}

/// Removes a semaphore's name (`sem_unlink`). Processes that have it open keep using it.
pub fn unlink(name: &str) -> Result<()> {
    imp::unlink(name)
}
