//! POSIX named semaphores: the `sem_open` family, and the only unsafe code of the semaphore area.
//!
//! Each function cites the call it wraps; see the POSIX pages `sem_open(3)`, `sem_trywait(3)`,
//! `sem_timedwait(3)`, `sem_post(3)`, `sem_getvalue(3)`, `sem_close(3)` and `sem_unlink(3)`.
//! Nothing here keeps bookkeeping or knows about kinds: that is `super`'s job.

use std::ffi::CString;
use std::io;
use std::ptr::NonNull;

use super::deadline::Deadline;
use crate::error::{Error, Result};

/// The largest value a semaphore can hold: glibc's `SEM_VALUE_MAX` (`INT_MAX`); macOS's
/// `<sys/semaphore.h>` says 32767.
#[cfg(not(target_vendor = "apple"))]
pub(crate) const SEM_VALUE_MAX: i32 = i32::MAX;
#[cfg(target_vendor = "apple")]
pub(crate) const SEM_VALUE_MAX: i32 = 32767;

/// The `_multiprocessing.flags` CPython reports on this platform.
#[cfg(not(target_vendor = "apple"))]
pub(crate) const FLAGS: &[(&str, i32)] = &[("HAVE_SEM_OPEN", 1), ("HAVE_SEM_TIMEDWAIT", 1)];
#[cfg(target_vendor = "apple")]
pub(crate) const FLAGS: &[(&str, i32)] = &[("HAVE_SEM_OPEN", 1), ("HAVE_BROKEN_SEM_GETVALUE", 1)];

/// One open named semaphore (a `sem_t*` from `sem_open`), closed on drop.
#[derive(Debug)]
pub(crate) struct RawSemaphore {
    sem: NonNull<libc::sem_t>,
}

// SAFETY: a `sem_t` opened by `sem_open` is a process-shared object designed for concurrent use
// from any thread; every operation below goes through the thread-safe `sem_*` calls.
unsafe impl Send for RawSemaphore {}
// SAFETY: as above, shared references only ever call thread-safe `sem_*` functions.
unsafe impl Sync for RawSemaphore {}

fn c_name(name: &str) -> Result<CString> {
    CString::new(name).map_err(|_| {
        Error::Os(io::Error::new(
            io::ErrorKind::InvalidInput,
            "embedded null character",
        ))
    })
}

impl RawSemaphore {
    /// `sem_open(name, O_CREAT | O_EXCL, 0600, value)`: a new semaphore that must not exist yet.
    pub(crate) fn create(name: &str, value: u32) -> Result<Self> {
        let name = c_name(name)?;
        let mode: libc::c_uint = 0o600;
        // SAFETY: `name` is a valid NUL-terminated string; with O_CREAT, sem_open reads exactly
        // two variadic arguments, a mode_t (promoted to unsigned int) and an unsigned int value.
        let sem = unsafe {
            libc::sem_open(
                name.as_ptr(),
                libc::O_CREAT | libc::O_EXCL,
                mode,
                value as libc::c_uint,
            )
        };
        Self::from_sem_open(sem)
    }

    /// `sem_open(name, 0)`: an existing semaphore, by name.
    pub(crate) fn open(name: &str) -> Result<Self> {
        let name = c_name(name)?;
        // SAFETY: `name` is a valid NUL-terminated string; without O_CREAT no variadic argument
        // is read.
        let sem = unsafe { libc::sem_open(name.as_ptr(), 0) };
        Self::from_sem_open(sem)
    }

    fn from_sem_open(sem: *mut libc::sem_t) -> Result<Self> {
        if sem == libc::SEM_FAILED {
            return Err(Error::Os(io::Error::last_os_error()));
        }
        NonNull::new(sem)
            .map(|sem| RawSemaphore { sem })
            .ok_or_else(|| Error::Os(io::Error::from_raw_os_error(libc::EINVAL)))
    }

    /// The `sem_t*` as an integer, CPython's `SemLock.handle`.
    pub(crate) fn handle(&self) -> usize {
        self.sem.as_ptr() as usize
    }

    /// `sem_trywait`: `Ok(true)` if a unit was taken, `Ok(false)` if the value was zero.
    pub(crate) fn try_wait(&self) -> Result<bool> {
        // SAFETY: `self.sem` came from a successful sem_open and stays open until drop.
        if unsafe { libc::sem_trywait(self.sem.as_ptr()) } == 0 {
            return Ok(true);
        }
        match io::Error::last_os_error() {
            e if e.raw_os_error() == Some(libc::EAGAIN) => Ok(false),
            e => Err(Error::from_os(e)),
        }
    }

    /// `sem_wait`, or `sem_timedwait` until `deadline`: `Ok(true)` once a unit is taken,
    /// `Ok(false)` when the deadline passes, `Err(Interrupted)` on a signal.
    #[cfg(not(target_vendor = "apple"))]
    pub(crate) fn wait(&self, deadline: Option<Deadline>) -> Result<bool> {
        let rc = match deadline {
            // SAFETY: `self.sem` is open (see `try_wait`).
            None => unsafe { libc::sem_wait(self.sem.as_ptr()) },
            Some(deadline) => {
                let (secs, nanos) = deadline.as_secs_nanos();
                // SAFETY: timespec is plain old data; every field is set below.
                let mut abstime: libc::timespec = unsafe { std::mem::zeroed() };
                abstime.tv_sec = secs as libc::time_t;
                abstime.tv_nsec = nanos as _;
                // SAFETY: `self.sem` is open and `abstime` is a valid timespec that outlives
                // the call.
                unsafe { libc::sem_timedwait(self.sem.as_ptr(), &abstime) }
            }
        };
        if rc == 0 {
            return Ok(true);
        }
        match io::Error::last_os_error() {
            e if e.raw_os_error() == Some(libc::ETIMEDOUT) => Ok(false),
            e => Err(Error::from_os(e)),
        }
    }

    /// `sem_post`: adds one unit and wakes a waiter.
    pub(crate) fn post(&self) -> Result<()> {
        // SAFETY: `self.sem` is open (see `try_wait`).
        if unsafe { libc::sem_post(self.sem.as_ptr()) } == 0 {
            Ok(())
        } else {
            Err(Error::Os(io::Error::last_os_error()))
        }
    }

    /// `sem_getvalue`, as the kernel reports it (may be negative on some systems).
    #[cfg(not(target_vendor = "apple"))]
    pub(crate) fn value(&self) -> Result<i32> {
        let mut value: libc::c_int = 0;
        // SAFETY: `self.sem` is open and `value` is a valid place for the result.
        if unsafe { libc::sem_getvalue(self.sem.as_ptr(), &mut value) } == 0 {
            Ok(value)
        } else {
            Err(Error::Os(io::Error::last_os_error()))
        }
    }
}

impl Drop for RawSemaphore {
    /// `sem_close`: unmaps this process's view. It never unlinks the name.
    fn drop(&mut self) {
        // SAFETY: `self.sem` is open and nothing uses it after drop. An error here has no one
        // to report to and leaves nothing to clean up.
        unsafe { libc::sem_close(self.sem.as_ptr()) };
    }
}

/// `sem_unlink(name)`: removes the name; processes that have the semaphore open keep using it.
pub(crate) fn unlink(name: &str) -> Result<()> {
    let name = c_name(name)?;
    // SAFETY: `name` is a valid NUL-terminated string.
    if unsafe { libc::sem_unlink(name.as_ptr()) } == 0 {
        Ok(())
    } else {
        Err(Error::Os(io::Error::last_os_error()))
    }
}

/// The calling thread's identity, `pthread_self()`: the value CPython's
/// `threading.get_ident()` returns, so ownership means the same in both.
pub(crate) fn current_thread_id() -> u64 {
    // SAFETY: pthread_self has no preconditions and cannot fail.
    unsafe { libc::pthread_self() as u64 }
}
