//! `SemLock` on the uncontended fast paths, against the bare `sem_trywait` + `sem_post` it
//! wraps.
//!
//! Every semaphore is created under a fresh name and unlinked at once (`unlink = true`), so a
//! run leaves nothing in `/dev/shm`, even if it is interrupted.
//!
//! Run with `cargo bench -p mpcore --features bench --bench semaphore` (or `make rust-bench`).

use std::sync::atomic::{AtomicU32, Ordering};

use mpcore::{Kind, SemLock};

fn main() {
    divan::main();
}

/// Runs `op` a while before measuring it: divan sizes its samples from the first runs, and a
/// cold first call (the semaphore's page is touched for the first time) would make it time
/// single calls, below the timer's precision.
fn warmed_up<O>(op: impl Fn() -> O) -> impl Fn() -> O {
    for _ in 0..10_000 {
        divan::black_box(op());
    }
    op
}

/// A name no other run, process or benchmark uses: `/mpcore-bench-<pid>-<n>`.
fn unique_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("/mpcore-bench-{}-{n}", std::process::id())
}

/// A lock (`Kind::Semaphore`, value and maxvalue 1) created unlinked.
fn semaphore(kind: Kind) -> SemLock {
    SemLock::create(kind, 1, 1, &unique_name(), true).expect("sem_open")
}

/// Measures `try_acquire` + `release` on `lock`. Each pair leaves the lock as it found it: the
/// object's net count is still `count` after the run.
fn bench_try_acquire_release(bencher: divan::Bencher, lock: &SemLock, count: i32) {
    bencher.bench_local(warmed_up(|| {
        let taken = lock.try_acquire().expect("try_acquire");
        lock.release().expect("release");
        taken
    }));
    assert_eq!(lock.count(), count);
}

/// `multiprocessing.Lock`'s `acquire(False)` + `release()`: one `sem_trywait`, one `sem_post`
/// (after the check against `maxvalue`), and the per-object count.
#[divan::bench]
fn lock_try_acquire_release(bencher: divan::Bencher) {
    bench_try_acquire_release(bencher, &semaphore(Kind::Semaphore), 0);
}

/// `multiprocessing.RLock`'s first acquire + last release: the same two calls on the semaphore,
/// plus the owner bookkeeping.
#[divan::bench]
fn rlock_try_acquire_release(bencher: divan::Bencher) {
    bench_try_acquire_release(bencher, &semaphore(Kind::RecursiveMutex), 0);
}

/// The owner acquiring an `RLock` it already holds, and releasing back to depth 1: only the
/// count moves, no `sem_*` call.
#[divan::bench]
fn rlock_reacquire_release(bencher: divan::Bencher) {
    let rlock = semaphore(Kind::RecursiveMutex);
    assert!(rlock.try_acquire().expect("sem_trywait"));
    bench_try_acquire_release(bencher, &rlock, 1);
    rlock.release().expect("sem_post");
}

/// The reference: `sem_trywait` + `sem_post` straight through libc, with no bookkeeping.
#[cfg(unix)]
#[divan::bench]
fn raw_sem_trywait_post(bencher: divan::Bencher) {
    use std::ffi::CString;

    let name = CString::new(unique_name()).expect("no NUL in the name");
    let mode: libc::c_uint = 0o600;
    let value: libc::c_uint = 1;
    // SAFETY: `name` is a valid NUL-terminated string; with O_CREAT, sem_open reads exactly two
    // variadic arguments, a mode_t (promoted to unsigned int) and an unsigned int value.
    let sem = unsafe { libc::sem_open(name.as_ptr(), libc::O_CREAT | libc::O_EXCL, mode, value) };
    assert_ne!(
        sem,
        libc::SEM_FAILED,
        "sem_open: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `name` is a valid NUL-terminated string. The open handle stays usable.
    assert_eq!(unsafe { libc::sem_unlink(name.as_ptr()) }, 0, "sem_unlink");

    bencher.bench_local(warmed_up(|| {
        // SAFETY: `sem` came from a successful sem_open and is closed only after the loop.
        let taken = unsafe { libc::sem_trywait(sem) } == 0;
        // SAFETY: as above.
        taken && unsafe { libc::sem_post(sem) } == 0
    }));

    // SAFETY: `sem` is open and no longer used after this.
    assert_eq!(unsafe { libc::sem_close(sem) }, 0, "sem_close");
}
