//! Windows only: how a parent hands a semaphore to a child, and how the child takes it.
//!
//! Windows semaphores are unnamed (see `windows.rs`), so a child cannot open its parent's lock
//! by name: the parent duplicates the handle into the child, which adopts it, as stock
//! `multiprocessing` does with `duplicate_for_child` and `SemLock._rebuild`. The backend makes
//! the calls; this is the public API around them.

use std::os::windows::io::BorrowedHandle;

use super::imp::RawSemaphore;
use super::{registry, Kind, SemLock};
use crate::error::Result;

impl SemLock {
    /// Duplicates this semaphore's handle into another process (`process` needs
    /// `PROCESS_DUP_HANDLE` access, as a `std::process::Child` handle has), as `multiprocessing`'s
    /// `duplicate_for_child` does. Returns the handle's value *in that process*, to pass to the
    /// child (which calls [`from_raw_handle`](Self::from_raw_handle)); it means nothing here.
    pub fn duplicate_for_child(&self, process: BorrowedHandle<'_>) -> Result<usize> {
        self.sem.duplicate_into(process)
    }

    /// A new `SemLock`, with fresh bookkeeping, on a semaphore handle: how a child rebuilds a
    /// lock its parent duplicated into it (stock's `_rebuild` on Windows, where the name is
    /// kept as data only and the handle is always used).
    ///
    /// A handle of a semaphore this process already has open through a `SemLock` is shared
    /// with it, as [`from_handle`](Self::from_handle) does; any other handle is taken over and
    /// closed when the last `SemLock` on it is dropped.
    ///
    /// # Safety
    ///
    /// Unless it is the handle of a live `SemLock` of this process, `handle` must be an open
    /// semaphore handle that the caller owns and gives up (typically one a parent duplicated
    /// into this process for exactly this purpose): nothing else may use or close it later.
    pub unsafe fn from_raw_handle(
        handle: usize,
        kind: Kind,
        maxvalue: i32,
        name: Option<&str>,
    ) -> Result<Self> {
        let sem = match registry::lookup(handle) {
            Some(sem) => sem,
            // SAFETY: the caller owns `handle` and gives it up (this function's contract).
            None => registry::register(unsafe { RawSemaphore::from_raw(handle) }?),
        };
        Ok(Self::with(sem, kind, maxvalue, name.map(str::to_owned)))
    }
}
