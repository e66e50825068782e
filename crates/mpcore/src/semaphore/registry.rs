//! The semaphores this process has open, by handle.
//!
//! CPython rebuilds an unnamed lock in a forked child from its raw `sem_t*` value. Trusting an
//! integer as a pointer would let a stale or forged handle crash the process, so handles are
//! looked up here instead: only a semaphore that is still open in this process (the table is
//! inherited, with the memory it describes, by `fork()`) can be adopted, and adopting it keeps
//! it open for as long as the adopter lives. (On Windows a child's handles are duplicated into
//! it by its parent; `SemLock::from_raw_handle` takes those over and records them here too.)
//!
//! The table is touched only when semaphores are created, opened or adopted, never on
//! acquire/release.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use super::backend::Backend;
use super::imp::RawSemaphore;

#[derive(Default)]
struct Table {
    by_handle: HashMap<usize, Weak<RawSemaphore>>,
    /// Entries after the last sweep of closed semaphores; the next sweep waits for twice as many.
    swept_len: usize,
}

static TABLE: Mutex<Option<Table>> = Mutex::new(None);

fn table() -> MutexGuard<'static, Option<Table>> {
    // A panic while holding the lock cannot leave the map inconsistent (every update is a
    // single insert or retain), so a poisoned lock is still usable.
    TABLE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Records a newly opened semaphore and returns the shared handle to it.
pub(super) fn register(sem: RawSemaphore) -> Arc<RawSemaphore> {
    let sem = Arc::new(sem);
    let mut guard = table();
    let table = guard.get_or_insert_with(Table::default);
    if table.by_handle.len() >= (2 * table.swept_len).max(64) {
        table.by_handle.retain(|_, sem| sem.strong_count() > 0);
        table.swept_len = table.by_handle.len();
    }
    table.by_handle.insert(sem.handle(), Arc::downgrade(&sem));
    sem
}

/// The open semaphore behind `handle`, if there is one.
pub(super) fn lookup(handle: usize) -> Option<Arc<RawSemaphore>> {
    table()
        .as_ref()?
        .by_handle
        .get(&handle)
        .and_then(Weak::upgrade)
}
