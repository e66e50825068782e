//! The Windows `SemLock` backend in one process: kernel semaphores (`CreateSemaphoreW`,
//! `WaitForSingleObjectEx`, `ReleaseSemaphore`), as stock CPython's Windows build uses them.
//! Waits in slices of at most 50 ms, the deadline of a timed wait, the kernel's maximum, the
//! recursive mutex's owner rules, the value read by a zero wait and a release, and handles.
//! Run under Wine on every `make test` (`scripts/wine-test.sh`); the processes are in
//! `windows_processes.rs`.

#![cfg(windows)]

use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mpcore::{unlink, Deadline, Error, Kind, SemLock, SEM_VALUE_MAX};

mod windows_support;
use windows_support::{new_lock, take, take_within, this_process, try_take, SLICE};

/// How early a Windows timed wait may end: one tick of the default 15.6 ms timer.
const TICK: Duration = Duration::from_millis(16);
/// How late a wait may end on a loaded machine before it counts as wrong.
const LATE: Duration = Duration::from_millis(1500);

/// Runs `f` on another thread and returns its result with the time it took; fails the test if
/// it takes longer than `limit` (a wait that never ends would otherwise hang the run).
fn timed<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> (T, Duration) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let started = Instant::now();
        let result = f();
        let _ = tx.send((result, started.elapsed()));
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("still waiting after {limit:?}"))
}

/// Releases `lock` once, `after` from now, on another thread.
fn release_later(lock: &Arc<SemLock>, after: Duration) -> std::thread::JoinHandle<()> {
    let lock = Arc::clone(lock);
    std::thread::spawn(move || {
        std::thread::sleep(after);
        lock.release().unwrap();
    })
}

#[test]
fn a_timed_wait_on_an_empty_semaphore_returns_false_at_its_deadline() {
    let sem = Arc::new(new_lock(Kind::Semaphore, 0, 1));
    let timeout = Duration::from_millis(300);
    let waiter = Arc::clone(&sem);
    let (acquired, waited) = timed(timeout + LATE, move || take_within(&waiter, timeout));
    assert!(!acquired);
    assert!(waited >= timeout - TICK, "gave up after {waited:?}");
    assert_eq!(sem.count(), 0);
}

#[test]
fn a_deadline_computed_once_holds_across_calls() {
    // The binding's loop: `wait` hands back control between slices and is called again with
    // the same deadline, which must neither stretch nor shorten the total wait.
    let sem = Arc::new(new_lock(Kind::Semaphore, 0, 1));
    let waiter = Arc::clone(&sem);
    let ((acquired, calls), waited) = timed(Duration::from_millis(230) + LATE, move || {
        let deadline = Deadline::from_timeout(0.23).unwrap();
        let mut calls = 1;
        loop {
            match waiter.wait(Some(deadline)) {
                Err(Error::Interrupted) => calls += 1,
                other => return (other.unwrap(), calls),
            }
        }
    });
    assert!(!acquired);
    assert!(waited >= Duration::from_millis(230) - TICK, "{waited:?}");
    assert!(
        calls >= 4,
        "230 ms in slices of 50 ms is at least 5 calls, got {calls}"
    );
}

#[test]
fn one_wait_call_hands_back_control_within_one_slice() {
    let sem = Arc::new(new_lock(Kind::Semaphore, 0, 1));
    let waiter = Arc::clone(&sem);
    let (result, waited) = timed(SLICE + LATE, move || waiter.wait(None));
    assert!(matches!(result, Err(Error::Interrupted)), "{result:?}");
    assert!(waited >= SLICE - TICK, "the slice ended after {waited:?}");
    // A deadline nearer than a slice is waited for in full, and ends the wait.
    let waiter = Arc::clone(&sem);
    let (result, waited) = timed(SLICE + LATE, move || {
        waiter.wait(Some(Deadline::after(Duration::from_millis(30))))
    });
    assert!(!result.unwrap(), "timed out, not handed back");
    assert!(waited >= Duration::from_millis(30) - TICK, "{waited:?}");
}

#[test]
fn a_timed_wait_across_several_slices_takes_a_unit_released_midway() {
    let sem = Arc::new(new_lock(Kind::Semaphore, 0, 1));
    let releaser = release_later(&sem, Duration::from_millis(220));
    let waiter = Arc::clone(&sem);
    let (acquired, waited) = timed(Duration::from_secs(10), move || {
        take_within(&waiter, Duration::from_secs(5))
    });
    releaser.join().unwrap();
    assert!(acquired);
    assert!(waited >= Duration::from_millis(200), "{waited:?}");
    assert!(waited < Duration::from_millis(220) + LATE, "{waited:?}");
    assert!(!try_take(&sem), "one release, one unit");
}

#[test]
fn an_untimed_wait_outlasts_many_slices() {
    let sem = Arc::new(new_lock(Kind::Semaphore, 0, 1));
    let releaser = release_later(&sem, Duration::from_millis(400));
    let waiter = Arc::clone(&sem);
    let ((), waited) = timed(Duration::from_secs(10), move || take(&waiter));
    releaser.join().unwrap();
    assert!(waited >= Duration::from_millis(380), "{waited:?}");
    assert!(!try_take(&sem), "one release, one unit");
}

#[test]
fn timeouts_convert_with_the_windows_rules_here() {
    // Stock Windows: whole milliseconds, negative and NaN mean 0, INFINITE / 2 ms and beyond
    // raise OverflowError (POSIX instead fails NaN and huge values with EINVAL).
    for secs in [f64::NAN, -1.0, 0.0] {
        let deadline = Deadline::from_timeout(secs).unwrap();
        assert!(deadline.remaining() <= Duration::from_millis(50), "{secs}");
    }
    assert!(Deadline::from_timeout(2_147_483.0).is_ok());
    for secs in [2_147_483.648, 1e300, f64::INFINITY] {
        assert!(
            matches!(Deadline::from_timeout(secs), Err(Error::TimeoutTooLarge)),
            "{secs}"
        );
    }
}

#[test]
fn releasing_past_the_maximum_is_released_too_many_times() {
    let lock = new_lock(Kind::Semaphore, 1, 1);
    assert!(matches!(lock.release(), Err(Error::ReleasedTooManyTimes)));
    assert_eq!(lock.value().unwrap(), 1);
    assert_eq!(lock.count(), 0, "a refused release leaves the count alone");
    assert!(try_take(&lock));
    lock.release().unwrap();
    assert!(matches!(lock.release(), Err(Error::ReleasedTooManyTimes)));

    let bounded = new_lock(Kind::Semaphore, 1, 3);
    bounded.release().unwrap();
    bounded.release().unwrap();
    assert_eq!(bounded.value().unwrap(), 3);
    assert!(matches!(
        bounded.release(),
        Err(Error::ReleasedTooManyTimes)
    ));
    assert_eq!(bounded.value().unwrap(), 3);
    assert_eq!(bounded.count(), -2, "two releases without acquires");
}

#[test]
fn the_kernel_enforces_the_maximum_given_at_creation() {
    // There is no check of our own on Windows: a second `SemLock` on the same semaphore with a
    // larger `maxvalue` is still refused at the kernel's maximum.
    let lock = new_lock(Kind::Semaphore, 1, 1);
    let wider = SemLock::from_handle(lock.handle(), Kind::Semaphore, 10).unwrap();
    assert!(matches!(wider.release(), Err(Error::ReleasedTooManyTimes)));
    // `Semaphore(n)` has SEM_VALUE_MAX as maximum, far above any value a test reaches.
    let unbounded = new_lock(Kind::Semaphore, 0, SEM_VALUE_MAX);
    for _ in 0..1000 {
        unbounded.release().unwrap();
    }
    assert_eq!(unbounded.value().unwrap(), 1000);
}

#[test]
fn a_recursive_mutex_is_reentrant_for_its_owner_only() {
    let rlock = Arc::new(new_lock(Kind::RecursiveMutex, 1, 1));
    let other = |rlock: &Arc<SemLock>, f: fn(&SemLock) -> bool| {
        let rlock = Arc::clone(rlock);
        std::thread::spawn(move || f(&rlock)).join().unwrap()
    };
    assert!(matches!(rlock.release(), Err(Error::NotOwner)), "not held");
    assert!(take_within(&rlock, LATE));
    assert!(
        try_take(&rlock),
        "the owner takes it again without blocking"
    );
    assert_eq!(rlock.count(), 2);
    assert!(rlock.is_mine());
    assert!(!other(&rlock, try_take), "another thread cannot take it");
    assert!(
        other(&rlock, |r| matches!(r.release(), Err(Error::NotOwner))),
        "nor release it"
    );
    rlock.release().unwrap();
    assert_eq!(rlock.value().unwrap(), 0, "held once more: not posted yet");
    assert!(!other(&rlock, try_take));
    rlock.release().unwrap();
    assert_eq!(rlock.value().unwrap(), 1);
    assert!(matches!(rlock.release(), Err(Error::NotOwner)));
    // Now another thread's, which a third cannot release.
    let rlock2 = Arc::clone(&rlock);
    let (owns_tx, owns) = mpsc::channel();
    let (let_go, let_go_rx) = mpsc::channel();
    let holder = std::thread::spawn(move || {
        assert!(try_take(&rlock2));
        owns_tx.send(rlock2.is_mine()).unwrap();
        let_go_rx.recv().unwrap();
        rlock2.release().unwrap();
    });
    assert!(owns.recv().unwrap(), "the other thread owns it");
    assert!(!rlock.is_mine());
    assert!(!try_take(&rlock));
    assert!(matches!(rlock.release(), Err(Error::NotOwner)));
    let_go.send(()).unwrap();
    holder.join().unwrap();
    assert!(try_take(&rlock));
}

#[test]
fn the_value_is_read_by_a_zero_wait_and_a_release() {
    let sem = new_lock(Kind::Semaphore, 3, 5);
    assert_eq!(sem.value().unwrap(), 3);
    assert_eq!(sem.value().unwrap(), 3, "reading takes nothing");
    assert!(!sem.is_zero().unwrap());
    assert_eq!(sem.count(), 0, "reading is not acquiring");
    assert!(try_take(&sem));
    assert_eq!(sem.value().unwrap(), 2);
    assert!(try_take(&sem));
    assert!(try_take(&sem));
    assert_eq!(sem.value().unwrap(), 0);
    assert!(sem.is_zero().unwrap());
    assert!(!try_take(&sem), "reading at zero gives nothing back");
    sem.release().unwrap();
    assert_eq!(sem.value().unwrap(), 1);
    // At its maximum, the release after the zero wait still fits.
    let full = new_lock(Kind::Semaphore, 1, 1);
    assert_eq!(full.value().unwrap(), 1);
    assert!(matches!(full.release(), Err(Error::ReleasedTooManyTimes)));
}

#[test]
fn handles_are_adopted_only_when_valid() {
    for bad in [0, usize::MAX] {
        // SAFETY: a null or INVALID_HANDLE_VALUE handle is refused before any use.
        let adopted = unsafe { SemLock::from_raw_handle(bad, Kind::Semaphore, 1, None) };
        assert!(matches!(adopted, Err(Error::InvalidHandle)), "{bad}");
    }
    let sem = new_lock(Kind::Semaphore, 0, 1);
    // Handles are multiples of 4: this value is no semaphore's.
    assert!(matches!(
        SemLock::from_handle(sem.handle() + 1, Kind::Semaphore, 1),
        Err(Error::InvalidHandle)
    ));
    // A handle this process already has open through a `SemLock` is shared, not taken over:
    // dropping the adopter leaves the semaphore open.
    // SAFETY: the handle of a live `SemLock` of this process.
    let same = unsafe { SemLock::from_raw_handle(sem.handle(), Kind::Semaphore, 1, Some("x")) };
    let same = same.unwrap();
    assert_eq!(same.handle(), sem.handle());
    assert_eq!(same.name(), Some("x"));
    same.release().unwrap();
    drop(same);
    assert!(try_take(&sem));
}

#[test]
fn a_duplicated_handle_is_another_handle_on_the_same_semaphore() {
    let sem = new_lock(Kind::Semaphore, 0, 2);
    let duplicate = sem.duplicate_for_child(this_process()).unwrap();
    assert_ne!(duplicate, sem.handle());
    // SAFETY: the duplicate was made for this and is owned by the new lock alone.
    let adopted = unsafe { SemLock::from_raw_handle(duplicate, Kind::Semaphore, 2, None) };
    let adopted = adopted.unwrap();
    assert_eq!(adopted.count(), 0, "fresh bookkeeping");
    adopted.release().unwrap();
    assert!(try_take(&sem));
    sem.release().unwrap();
    sem.release().unwrap();
    assert!(matches!(
        adopted.release(),
        Err(Error::ReleasedTooManyTimes)
    ));
    drop(adopted);
    assert_eq!(
        sem.value().unwrap(),
        2,
        "closing the duplicate leaves the semaphore"
    );
}

#[test]
fn windows_semaphores_are_unnamed() {
    let name = "/mpcore-windows-unnamed";
    let first = SemLock::create(Kind::Semaphore, 0, 1, name, false).unwrap();
    let second = SemLock::create(Kind::Semaphore, 0, 1, name, false).unwrap();
    assert_eq!(first.name(), Some(name), "the name is kept as data");
    first.release().unwrap();
    assert!(
        !try_take(&second),
        "a second semaphore, not the first opened again"
    );
    match SemLock::open(name, Kind::Semaphore, 1) {
        Err(Error::Os(err)) => assert_eq!(err.kind(), std::io::ErrorKind::Unsupported),
        other => panic!("{other:?}"),
    }
    unlink(name).unwrap();
    assert!(try_take(&first), "unlink is a no-op");
    assert_eq!(SEM_VALUE_MAX, i32::MAX, "LONG_MAX");
}

#[test]
fn counts_the_kernel_refuses_are_os_errors() {
    const ERROR_INVALID_PARAMETER: i32 = 87;
    // A value above the maximum, a negative value (from a negative Python int), no maximum.
    for (value, maxvalue) in [(2, 1), (u32::MAX, 1), (0, 0)] {
        match SemLock::create(Kind::Semaphore, value, maxvalue, "/bad", false) {
            Err(Error::Os(err)) => {
                assert_eq!(err.raw_os_error(), Some(ERROR_INVALID_PARAMETER), "{value}");
            }
            other => panic!("({value}, {maxvalue}): {other:?}"),
        }
    }
}
