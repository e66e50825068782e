//! For the tests that run part of themselves in a forked child (`semaphore_fork.rs` for POSIX
//! semaphores, `file_semaphore.rs` for the file backend): the child runs a closure and reports
//! through its exit status (0: every check held); the parent waits for it, or kills it. Also
//! the checks across processes that every backend must pass, and the names they use.
//!
//! Forking a threaded test binary is safe only if no other thread holds a lock the child needs:
//! the tests that use this take one lock between them ([`serial`]), so no other test thread is
//! inside `mpcore` at the moment of a fork.

#![allow(dead_code)] // each test binary uses its own part

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};

use mpcore::{Error, Kind, SemLock};

/// The lock the tests of a binary that forks take between them: while one holds it, no other
/// test thread is inside `mpcore` (or holding its internal locks).
pub fn serial() -> MutexGuard<'static, ()> {
    static FORK_LOCK: Mutex<()> = Mutex::new(());
    FORK_LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// A semaphore name no other test, process or run uses: `{prefix}-{tag}-{pid}-{n}`.
pub fn unique_name(prefix: &str, tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{tag}-{}-{n}", std::process::id())
}

/// A forked child process.
pub struct Child(libc::pid_t);

impl Child {
    /// Forks a child that runs `body` and exits with 0 if it returned true (1 if it returned
    /// false or panicked).
    pub fn spawn(body: impl FnOnce() -> bool) -> Child {
        // SAFETY: the child only runs `body` (semaphore calls, file I/O and plain computation)
        // and then `_exit`s without unwinding or running the parent's destructors.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
        if pid == 0 {
            let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(false);
            // SAFETY: ends the child at once, as a forked child of a threaded process should.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        Child(pid)
    }

    /// Waits for the child; its raw wait status.
    pub fn status(self) -> i32 {
        let mut status = 0;
        // SAFETY: `self.0` is our own child; `status` is a valid out-pointer.
        let rc = unsafe { libc::waitpid(self.0, &mut status, 0) };
        assert_eq!(rc, self.0, "waitpid: {}", std::io::Error::last_os_error());
        status
    }

    /// Waits for the child and returns whether all its checks held.
    pub fn succeeded(self) -> bool {
        let status = self.status();
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
    }

    /// `SIGKILL`s the child, wherever it is, and reaps it.
    pub fn kill(self) {
        // SAFETY: our own child, not yet reaped, so the pid cannot have been reused.
        assert_eq!(unsafe { libc::kill(self.0, libc::SIGKILL) }, 0);
        let status = self.status();
        assert!(libc::WIFSIGNALED(status) || libc::WIFEXITED(status));
    }
}

/// `processes` processes (this one and forked children) at once, `rounds` times each: take
/// `lock`, bump a counter that only mutual exclusion keeps exact, release `lock`. Asserts that
/// every process did all its rounds, no update was lost, and `lock` is free again.
pub fn assert_processes_exclude_each_other(lock: &SemLock, processes: u64, rounds: u64) {
    let counter = FileCounter::new();
    let work = || {
        for _ in 0..rounds {
            lock.acquire().unwrap();
            counter.bump();
            lock.release().unwrap();
        }
        true
    };
    let children: Vec<Child> = (1..processes).map(|_| Child::spawn(work)).collect();
    assert!(work());
    // Every child is waited for, whatever the others did.
    let succeeded: Vec<bool> = children.into_iter().map(Child::succeeded).collect();
    assert_eq!(succeeded, vec![true; succeeded.len()], "a child failed");
    assert_eq!(
        counter.get(),
        processes * rounds,
        "updates were lost: no mutual exclusion"
    );
    assert_eq!(lock.value().unwrap(), 1);
}

/// A number in a file: `bump` reads it and writes it back plus one, with a pause in between,
/// so only mutual exclusion keeps the total exact. Shared with forked children through the
/// inherited descriptor.
struct FileCounter(File);

impl FileCounter {
    fn new() -> Self {
        FileCounter(tempfile::tempfile().unwrap())
    }

    fn get(&self) -> u64 {
        let mut bytes = [0u8; 8];
        match self.0.read_exact_at(&mut bytes, 0) {
            Ok(()) => u64::from_le_bytes(bytes),
            Err(_) => 0,
        }
    }

    fn bump(&self) {
        let value = self.get();
        std::thread::yield_now();
        self.0.write_all_at(&(value + 1).to_le_bytes(), 0).unwrap();
    }
}

/// Forks a child that adopts `lock` (a binary semaphore, free) by its handle, as a forked
/// Python child does with `SemLock._rebuild`: a fresh object (count 0, no name) on the same
/// semaphore, whose acquire the parent sees; the handle with `flip` xor-ed in is refused.
pub fn assert_a_child_adopts_by_handle(lock: &SemLock, flip: usize) {
    let handle = lock.handle();
    let child = Child::spawn(|| {
        let adopted = SemLock::from_handle(handle, Kind::Semaphore, 1).unwrap();
        let fresh = adopted.count() == 0 && adopted.name().is_none();
        let took = adopted.try_acquire().unwrap();
        let bogus = matches!(
            SemLock::from_handle(handle ^ flip, Kind::Semaphore, 1),
            Err(Error::InvalidHandle)
        );
        fresh && took && bogus && adopted.value().unwrap() == 0
    });
    assert!(child.succeeded());
    assert_eq!(
        lock.value().unwrap(),
        0,
        "the child's acquire is visible here"
    );
}
