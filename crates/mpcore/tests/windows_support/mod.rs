//! Shared by the Windows-only tests (`windows_semaphore.rs`, `windows_processes.rs`): the
//! `SemLock` calls they make, in one place, and the facts of the backend they check against.

use std::os::windows::io::BorrowedHandle;
use std::time::Duration;

use mpcore::{Kind, SemLock};
use windows_sys::Win32::System::Threading::GetCurrentProcess;

/// The Windows backend's longest single wait (`schedule::SLICE_MS`).
pub const SLICE: Duration = Duration::from_millis(50);

/// A new unnamed semaphore (Windows keeps the name as data only, so every test may use one).
pub fn new_lock(kind: Kind, value: u32, maxvalue: i32) -> SemLock {
    SemLock::create(kind, value, maxvalue, "/mpcore-windows-test", false).unwrap()
}

/// A blocking acquire without a timeout.
pub fn take(lock: &SemLock) {
    lock.acquire().unwrap();
}

/// A blocking acquire of at most `timeout`: whether a unit was taken.
pub fn take_within(lock: &SemLock, timeout: Duration) -> bool {
    lock.acquire_timeout(timeout).unwrap()
}

/// A non-blocking acquire: whether a unit was taken.
pub fn try_take(lock: &SemLock) -> bool {
    lock.try_acquire().unwrap()
}

/// This process, as `duplicate_for_child` takes a target process.
pub fn this_process() -> BorrowedHandle<'static> {
    // SAFETY: GetCurrentProcess returns a pseudo-handle that is valid for the whole life of
    // the process and needs no closing.
    unsafe { BorrowedHandle::borrow_raw(GetCurrentProcess()) }
}
