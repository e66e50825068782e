//! `SemLock`: CPython's semaphore/lock, on named semaphores the kernel shares between processes.
//!
//! The OS object is shared; the bookkeeping is not. Each [`SemLock`] keeps its own net count of
//! acquires minus releases and the thread that last acquired it, *per object and per process*,
//! exactly as `_multiprocessing.SemLock` does: that is what makes a recursive mutex recursive,
//! lets `Condition` ask "is it mine?", and makes `release()` refuse an unowned recursive lock.
//!
//! The platform layer only wraps system calls, behind the [`Backend`] trait (`backend.rs`);
//! the rules live here, written against that trait. This is the one place that picks the
//! platform:
//!
//! * `posix.rs`: POSIX named semaphores (Linux, and macOS with its three differences);
//! * on Linux, `select.rs` over `posix.rs` and `file.rs` (file-backed futex semaphores in a
//!   private directory, for hosts without a usable `/dev/shm`), chosen per process;
//! * `windows.rs`: Windows kernel semaphores, and `handoff.rs`, the public API that hands
//!   them to child processes.
//!
//! Portable arithmetic the backends share is in `deadline.rs` (absolute deadlines),
//! `schedule.rs` (macOS polling schedule, Windows wait slices) and `windows_codes.rs` (what Windows
//! return and error codes mean); all of it is compiled and unit-tested on Linux.

mod backend;
mod deadline;
mod guard;
mod net_count;
mod registry;
#[cfg(any(target_vendor = "apple", windows, test))]
mod schedule;
#[cfg(any(windows, test))]
mod windows_codes;

#[cfg(unix)]
mod posix;
#[cfg(all(unix, not(file_semaphores)))]
use posix as imp;

// Linux has a second backend, file-backed semaphores for hosts without a usable `/dev/shm`;
// `select.rs` chooses between the two per process (`file.rs`, `file_sys.rs`, `private_dir.rs`).
#[cfg(file_semaphores)]
mod file;
#[cfg(file_semaphores)]
mod file_sys;
#[cfg(file_semaphores)]
pub mod private_dir;
#[cfg(file_semaphores)]
mod select;
#[cfg(file_semaphores)]
use select as imp;
#[cfg(file_semaphores)]
pub use select::{semaphore_backend, SemaphoreBackend, BACKEND_VARIABLE};

#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as imp;
#[cfg(windows)]
mod handoff;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backend::{Backend, ReleaseCheck, Waited};
pub use deadline::Deadline;
pub use guard::SemLockGuard;
use imp::RawSemaphore;

use crate::error::{Error, Result};
use net_count::NetCount;

/// `SEM_VALUE_MAX` of the platform: the largest value a semaphore can hold (Linux `INT_MAX`,
/// macOS 32767, Windows `LONG_MAX`).
pub const SEM_VALUE_MAX: i32 = RawSemaphore::SEM_VALUE_MAX;

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
/// Acquiring comes in the shapes of `lock_api`: [`try_acquire`](Self::try_acquire) never
/// blocks, [`acquire`](Self::acquire) blocks until it has a unit,
/// [`acquire_timeout`](Self::acquire_timeout) and [`acquire_until`](Self::acquire_until) give
/// up at a deadline (an ordinary `Ok(false)`), and [`lock`](Self::lock) returns a guard that
/// releases on drop. Dropping a `SemLock` closes this process's handle and never removes the
/// name: call [`unlink`] for that.
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
/// lock.acquire()?;
/// assert!(!same.try_acquire()?, "held by `lock`");
/// assert!(!same.acquire_timeout(Duration::from_millis(10))?, "still held");
/// lock.release()?;
/// {
///     let _held = same.lock()?;
///     assert!(!lock.try_acquire()?);
/// } // released here
/// assert!(lock.try_acquire()?);
/// # Ok::<(), mpcore::Error>(())
/// ```
#[derive(Debug)]
pub struct SemLock {
    sem: Arc<RawSemaphore>,
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
    ///
    /// On Windows the semaphore is unnamed (the name is kept as data only) and `maxvalue` is
    /// also the kernel's limit.
    pub fn create(kind: Kind, value: u32, maxvalue: i32, name: &str, unlink: bool) -> Result<Self> {
        let sem = RawSemaphore::create(name, value, maxvalue)?;
        if unlink {
            RawSemaphore::unlink(name)?;
        }
        let name = (!unlink).then(|| name.to_owned());
        Ok(Self::with(registry::register(sem), kind, maxvalue, name))
    }

    /// Opens an existing semaphore by name (`sem_open(name, 0)`), with fresh bookkeeping: how a
    /// spawned child rebuilds a lock its parent created. Not available on Windows, where
    /// semaphores are unnamed (an `Unsupported` OS error): children get a handle instead.
    pub fn open(name: &str, kind: Kind, maxvalue: i32) -> Result<Self> {
        let sem = RawSemaphore::open(name)?;
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

    fn with(sem: Arc<RawSemaphore>, kind: Kind, maxvalue: i32, name: Option<String>) -> Self {
        SemLock {
            sem,
            kind,
            maxvalue,
            name,
            count: NetCount::new(maxvalue),
            last_tid: AtomicU64::new(0),
        }
    }

    /// The OS handle as an integer (the `sem_t*` on POSIX, the `HANDLE` on Windows),
    /// CPython's `SemLock.handle`.
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
    #[inline(always)]
    pub fn is_mine(&self) -> bool {
        self.count.get() > 0
            && self.last_tid.load(Ordering::Relaxed) == RawSemaphore::current_thread_id()
    }

    /// Forgets this process's acquisitions, as a child must right after `fork()`.
    pub fn after_fork(&self) {
        self.count.reset();
    }

    /// Takes a unit if one is free now, without blocking: `Ok(false)` if the semaphore is at
    /// zero. The owner of a recursive mutex takes it again without a system call.
    #[inline(always)]
    pub fn try_acquire(&self) -> Result<bool> {
        if self.try_reacquire() {
            return Ok(true);
        }
        if !self.sem.try_wait()? {
            return Ok(false);
        }
        Ok(self.note_acquired())
    }

    /// Takes a unit, waiting as long as it takes.
    ///
    /// A signal does not end the wait: as with std's blocking calls, it goes on. A host that
    /// must react to signals while it waits (as Python runs its handlers) uses the steps
    /// instead: [`try_acquire`](Self::try_acquire), then [`wait`](Self::wait).
    pub fn acquire(&self) -> Result<()> {
        let acquired = self.acquire_within(None)?;
        debug_assert!(acquired, "a wait without a deadline ends only with a unit");
        Ok(())
    }

    /// Takes a unit, waiting at most `timeout`: `Ok(false)` if none could be had in time.
    /// Signals do not shorten or stretch the wait (see [`acquire`](Self::acquire)).
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<bool> {
        self.acquire_until(Deadline::after(timeout))
    }

    /// Takes a unit, waiting until `deadline` at the latest: `Ok(false)` if none could be had
    /// by then. Signals do not end the wait (see [`acquire`](Self::acquire)).
    pub fn acquire_until(&self, deadline: Deadline) -> Result<bool> {
        self.acquire_within(Some(deadline))
    }

    /// Acquires and returns a guard that releases the unit when it is dropped, so that a lock
    /// is given back however the scope ends: `let _held = lock.lock()?;`.
    pub fn lock(&self) -> Result<SemLockGuard<'_>> {
        self.acquire()?;
        Ok(SemLockGuard::new(self))
    }

    /// The blocking acquire: one try, then waits that go on after a signal (or after a step
    /// of a polling or sliced wait), always for the same deadline.
    fn acquire_within(&self, deadline: Option<Deadline>) -> Result<bool> {
        if self.try_acquire()? {
            return Ok(true);
        }
        loop {
            match self.wait(deadline) {
                Err(Error::Interrupted) => continue,
                done => return done,
            }
        }
    }

    /// A step of an acquire for hosts that must give up a lock of their own (such as Python's
    /// GIL) around the wait, or run signal handlers during it: the owner's re-acquire of a
    /// recursive mutex it holds, which needs no system call; `false` (and nothing done) in
    /// every other case. [`try_acquire`](Self::try_acquire) begins with it.
    #[inline(always)]
    pub fn try_reacquire(&self) -> bool {
        if self.kind == Kind::RecursiveMutex && self.is_mine() {
            self.count.add(1);
            return true;
        }
        false
    }

    /// A step of an acquire: the wait, for hosts that call [`try_acquire`](Self::try_acquire)
    /// first and must give up a lock of their own (such as Python's GIL) around the wait, or
    /// run signal handlers during it. `Ok(true)` once a unit is taken, `Ok(false)` once
    /// `deadline` passes (`None`: never).
    ///
    /// [`Error::Interrupted`] means "not yet": a signal arrived, or (macOS timed waits, and every
    /// wait on Windows) one step of the wait ended. The caller runs its signal handlers, if it
    /// has any, and calls again with the **same** `deadline`: that keeps the total wait and, on
    /// macOS, the growing polling schedule (which is read from the deadline's age), so the loop
    ///
    /// ```text
    /// loop { match wait(deadline) { Err(Interrupted) => run_signal_handlers()?, r => return r } }
    /// ```
    ///
    /// behaves as stock CPython's acquire on every platform. On Linux only a signal ends a wait
    /// early.
    pub fn wait(&self, deadline: Option<Deadline>) -> Result<bool> {
        match self.sem.wait(deadline)? {
            Waited::Acquired => Ok(self.note_acquired()),
            Waited::TimedOut => Ok(false),
            #[cfg(any(target_vendor = "apple", windows, test))]
            Waited::NotYet => Err(Error::Interrupted),
        }
    }

    /// Records an acquire by the calling thread; always `true`, for the callers' convenience.
    #[inline(always)]
    fn note_acquired(&self) -> bool {
        self.count.add(1);
        self.last_tid
            .store(RawSemaphore::current_thread_id(), Ordering::Relaxed);
        true
    }

    /// Releases one unit.
    ///
    /// A recursive mutex must be held by the calling thread ([`Error::NotOwner`]) and only posts
    /// when its count drops to zero. A semaphore may be released by anyone, but never above
    /// `maxvalue` ([`Error::ReleasedTooManyTimes`]), as far as the platform can tell: macOS
    /// checks only `maxvalue == 1`, and on Windows the kernel enforces the `maxvalue` given at
    /// creation.
    #[inline(always)]
    pub fn release(&self) -> Result<()> {
        if self.kind == Kind::RecursiveMutex {
            if !self.is_mine() {
                return Err(Error::NotOwner);
            }
            if self.count.get() > 1 {
                self.count.add(-1);
                return Ok(());
            }
        }
        // Count down before the post hands the unit on, so the next holder's count-up comes
        // after ours (see `net_count`); undo it if nothing was posted.
        self.count.add(-1);
        let posted = match self.kind {
            Kind::RecursiveMutex => self.sem.post(),
            Kind::Semaphore => post_within(&*self.sem, self.maxvalue),
        };
        if posted.is_err() {
            self.count.add(1);
        }
        posted
    }

    /// The semaphore's current value, never negative (some systems report waiters as a
    /// negative value). [`Error::ValueUnavailable`] on macOS.
    pub fn value(&self) -> Result<i32> {
        Ok(self.sem.value()?.max(0))
    }

    /// Whether the semaphore's value is zero. On macOS this takes a unit and gives it back.
    pub fn is_zero(&self) -> Result<bool> {
        is_zero(&*self.sem)
    }
}

impl Deadline {
    /// The deadline of `acquire(timeout=seconds)` as this platform's stock module computes it:
    /// POSIX, an absolute `timespec`, `EINVAL` (an OS error) when one cannot hold it; Windows,
    /// whole milliseconds rounded half up, [`Error::TimeoutTooLarge`] from `INFINITE / 2` ms.
    /// Negative and NaN timeouts mean "now" everywhere but POSIX NaN (`EINVAL`).
    pub fn from_timeout(seconds: f64) -> Result<Deadline> {
        RawSemaphore::deadline_after_secs(seconds)
    }
}

/// Removes a semaphore's name (`sem_unlink`). Processes that have it open keep using it.
/// A no-op on Windows, where semaphores have no name.
pub fn unlink(name: &str) -> Result<()> {
    RawSemaphore::unlink(name)
}

/// Posts one unit of a `Kind::Semaphore` unless that would take it above `maxvalue`, by the
/// platform's rule (see [`ReleaseCheck`]). The check is racy by design, as in CPython.
#[inline(always)]
fn post_within<S: Backend>(sem: &S, maxvalue: i32) -> Result<()> {
    match S::RELEASE_CHECK {
        #[cfg(any(all(unix, not(target_vendor = "apple")), test))]
        ReleaseCheck::Value => {
            if sem.value()? >= maxvalue {
                return Err(Error::ReleasedTooManyTimes);
            }
        }
        #[cfg(any(target_vendor = "apple", test))]
        ReleaseCheck::TryWaitIfBinary => {
            // A unit that can be taken means the lock is not held: give it back and refuse.
            if maxvalue == 1 && sem.try_wait()? {
                sem.post()?;
                return Err(Error::ReleasedTooManyTimes);
            }
        }
        // The kernel fails the post itself, against the maximum given at creation (which a
        // rebuilt lock's `maxvalue` need not equal).
        #[cfg(any(windows, test))]
        ReleaseCheck::Kernel => {
            let _ = maxvalue;
        }
    }
    sem.post()
}

/// Whether a semaphore is at zero: from its value, or where there is none (macOS), by taking a
/// unit and giving it back.
fn is_zero<S: Backend>(sem: &S) -> Result<bool> {
    match sem.value() {
        Ok(value) => Ok(value == 0),
        Err(Error::ValueUnavailable) => {
            if sem.try_wait()? {
                sem.post()?;
                Ok(false)
            } else {
                Ok(true)
            }
        }
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A backend with no OS behind it, for the rules of the platforms we cannot run. `CHECK`
    /// picks the release rule: 0 Linux (value), 1 macOS (no value, try-and-post), 2 Windows
    /// (the kernel refuses posts past the maximum given at creation).
    #[derive(Debug)]
    struct Fake<const CHECK: u8> {
        value: Mutex<i32>,
        kernel_max: i32,
    }

    impl<const CHECK: u8> Fake<CHECK> {
        fn with(value: i32, maxvalue: i32) -> Self {
            Fake::create("/fake", value as u32, maxvalue).unwrap()
        }

        fn units(&self) -> i32 {
            *self.value.lock().unwrap()
        }
    }

    impl<const CHECK: u8> Backend for Fake<CHECK> {
        const SEM_VALUE_MAX: i32 = i32::MAX;
        const RELEASE_CHECK: ReleaseCheck = match CHECK {
            0 => ReleaseCheck::Value,
            1 => ReleaseCheck::TryWaitIfBinary,
            _ => ReleaseCheck::Kernel,
        };

        fn create(_name: &str, value: u32, maxvalue: i32) -> Result<Self> {
            Ok(Fake {
                value: Mutex::new(value as i32),
                kernel_max: maxvalue,
            })
        }

        fn open(_name: &str) -> Result<Self> {
            Err(Error::InvalidHandle)
        }

        fn handle(&self) -> usize {
            0
        }

        fn try_wait(&self) -> Result<bool> {
            let mut value = self.value.lock().unwrap();
            let taken = *value > 0;
            *value -= i32::from(taken);
            Ok(taken)
        }

        fn wait(&self, _deadline: Option<Deadline>) -> Result<Waited> {
            Ok(if self.try_wait()? {
                Waited::Acquired
            } else {
                Waited::TimedOut
            })
        }

        fn post(&self) -> Result<()> {
            let mut value = self.value.lock().unwrap();
            if Self::RELEASE_CHECK == ReleaseCheck::Kernel && *value >= self.kernel_max {
                return Err(windows_codes::release_error(
                    windows_codes::ERROR_TOO_MANY_POSTS,
                ));
            }
            *value += 1;
            Ok(())
        }

        fn value(&self) -> Result<i32> {
            match Self::RELEASE_CHECK {
                ReleaseCheck::TryWaitIfBinary => Err(Error::ValueUnavailable),
                _ => Ok(self.units()),
            }
        }

        fn unlink(_name: &str) -> Result<()> {
            Ok(())
        }

        fn current_thread_id() -> u64 {
            1
        }

        fn deadline_after_secs(seconds: f64) -> Result<Deadline> {
            Deadline::after_secs_f64(seconds).ok_or(Error::InvalidHandle)
        }
    }

    type Linux = Fake<0>;
    type MacOs = Fake<1>;
    type Windows = Fake<2>;

    fn too_many(result: Result<()>) -> bool {
        matches!(result, Err(Error::ReleasedTooManyTimes))
    }

    /// `lock`, a binary lock that is taken, released once refuses a second release and keeps
    /// its one unit: the rule every platform shares, whichever way it checks.
    fn assert_refuses_a_second_release<const CHECK: u8>(lock: Fake<CHECK>) {
        post_within(&lock, 1).unwrap();
        assert!(too_many(post_within(&lock, 1)), "a lock released twice");
        assert_eq!(lock.units(), 1, "the unit taken to check is given back");
    }

    #[test]
    fn with_a_value_release_refuses_at_maxvalue() {
        assert_refuses_a_second_release(Linux::with(0, 1));
        let sem = Linux::with(2, 3);
        post_within(&sem, 3).unwrap();
        assert!(too_many(post_within(&sem, 3)));
        assert_eq!(sem.units(), 3);
    }

    #[test]
    fn without_a_value_only_binary_locks_are_checked_by_try_and_post() {
        assert_refuses_a_second_release(MacOs::with(0, 1));
        // maxvalue > 1 is not checked on macOS (gh-125828), exactly as stock.
        let bounded = MacOs::with(2, 2);
        post_within(&bounded, 2).unwrap();
        post_within(&bounded, 2).unwrap();
        assert_eq!(bounded.units(), 4);
    }

    #[test]
    fn with_a_kernel_maximum_the_post_itself_refuses() {
        assert_refuses_a_second_release(Windows::with(0, 1));
        // The kernel's maximum is the one given at creation, whatever maxvalue says later
        // (a `_rebuild` with another maxvalue), as on stock Windows.
        let sem = Windows::with(0, 2);
        post_within(&sem, 1).unwrap();
        post_within(&sem, 1).unwrap();
        assert!(too_many(post_within(&sem, 1)));
    }

    #[test]
    fn is_zero_reads_the_value_or_takes_and_gives_back_a_unit() {
        for (zero, one) in [
            (is_zero(&Linux::with(0, 1)), is_zero(&Linux::with(1, 1))),
            (is_zero(&MacOs::with(0, 1)), is_zero(&MacOs::with(1, 1))),
            (is_zero(&Windows::with(0, 1)), is_zero(&Windows::with(1, 1))),
        ] {
            assert!(zero.unwrap());
            assert!(!one.unwrap());
        }
        let sem = MacOs::with(3, 5);
        assert!(!is_zero(&sem).unwrap());
        assert_eq!(sem.units(), 3, "the unit taken to look is given back");
    }

    #[test]
    fn a_value_error_other_than_unavailable_is_passed_on() {
        #[derive(Debug)]
        struct Broken;
        impl Backend for Broken {
            const SEM_VALUE_MAX: i32 = 1;
            const RELEASE_CHECK: ReleaseCheck = ReleaseCheck::Value;
            fn create(_: &str, _: u32, _: i32) -> Result<Self> {
                Ok(Broken)
            }
            fn open(_: &str) -> Result<Self> {
                Ok(Broken)
            }
            fn handle(&self) -> usize {
                0
            }
            fn try_wait(&self) -> Result<bool> {
                unreachable!("no fallback for a real error")
            }
            fn wait(&self, _: Option<Deadline>) -> Result<Waited> {
                unreachable!()
            }
            fn post(&self) -> Result<()> {
                unreachable!("no post after a failed check")
            }
            fn value(&self) -> Result<i32> {
                Err(Error::InvalidHandle)
            }
            fn unlink(_: &str) -> Result<()> {
                Ok(())
            }
            fn current_thread_id() -> u64 {
                0
            }
            fn deadline_after_secs(_: f64) -> Result<Deadline> {
                Ok(Deadline::now())
            }
        }
        assert!(matches!(is_zero(&Broken), Err(Error::InvalidHandle)));
        assert!(matches!(post_within(&Broken, 1), Err(Error::InvalidHandle)));
    }

    /// A name for a test semaphore, within macOS's 31-byte limit (`PSEMNAMLEN`) so the tests
    /// stay valid there.
    fn test_name(tag: &str) -> String {
        let name = format!("/mpt-{tag}-{}", std::process::id());
        assert!(name.len() <= 31, "{name} is too long for macOS");
        name
    }

    #[cfg(unix)]
    #[test]
    fn timeouts_convert_with_the_posix_rules_here() {
        for secs in [f64::NAN, f64::INFINITY, 1e300] {
            match Deadline::from_timeout(secs) {
                Err(Error::Os(e)) => assert_eq!(e.raw_os_error(), Some(libc::EINVAL), "{secs}"),
                other => panic!("{secs}: {other:?}"),
            }
        }
        assert!(Deadline::from_timeout(-1.0).unwrap().remaining() <= Duration::from_millis(50));
        let d = Deadline::from_timeout(0.25).unwrap();
        assert!(d.remaining() <= Duration::from_millis(250));
        assert!(d.remaining() > Duration::from_millis(150));
    }

    #[test]
    fn a_timed_wait_on_an_empty_semaphore_returns_false_at_the_deadline() {
        let sem = SemLock::create(Kind::Semaphore, 0, 1, &test_name("wait"), true).unwrap();
        let deadline = Deadline::after(Duration::from_millis(60));
        let started = std::time::Instant::now();
        // The binding's loop: `Interrupted` means check signals and call again.
        let acquired = loop {
            match sem.wait(Some(deadline)) {
                Err(Error::Interrupted) => continue,
                other => break other.unwrap(),
            }
        };
        assert!(!acquired);
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert_eq!(sem.count(), 0);
        sem.release().unwrap();
        assert!(
            sem.wait(Some(deadline)).unwrap(),
            "a unit is taken even after the deadline"
        );
        assert_eq!(sem.count(), 0, "one release, one acquire");
    }
}
