//! The guard of [`SemLock::lock`]: the unit goes back when the scope ends, however it ends.

use std::marker::PhantomData;

use super::SemLock;
use crate::error::Result;

/// A unit of a [`SemLock`], held until the guard is dropped (or [`release`](Self::release)d).
///
/// Not `Send`: a recursive mutex may only be released by the thread that acquired it, so the
/// guard stays on that thread, as std's `MutexGuard` does.
///
/// ```compile_fail
/// fn elsewhere<T: Send>(_: T) {}
/// let lock = mpcore::SemLock::create(mpcore::Kind::RecursiveMutex, 1, 1, "/x", true).unwrap();
/// elsewhere(lock.lock().unwrap());
/// ```
#[must_use = "dropping the guard releases the unit at once"]
#[derive(Debug)]
pub struct SemLockGuard<'a> {
    lock: &'a SemLock,
    /// `*const ()` is neither `Send` nor `Sync`.
    not_send: PhantomData<*const ()>,
}

impl<'a> SemLockGuard<'a> {
    pub(super) fn new(lock: &'a SemLock) -> Self {
        SemLockGuard {
            lock,
            not_send: PhantomData,
        }
    }

    /// Releases the unit now and reports how that went, which dropping cannot.
    pub fn release(self) -> Result<()> {
        let lock = self.lock;
        std::mem::forget(self);
        lock.release()
    }
}

impl Drop for SemLockGuard<'_> {
    /// Releases the unit. An error (another thread released the semaphore past `maxvalue`
    /// meanwhile) has no one to go to here: call [`release`](SemLockGuard::release) to see it.
    fn drop(&mut self) {
        let _ = self.lock.release();
    }
}
