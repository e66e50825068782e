//! `SemLock`'s Rust API: blocking, timed and guarded acquires, with "timed out" an ordinary
//! `Ok(false)`; signals neither end nor stretch a blocking acquire, while the step API (`wait`)
//! hands them to the caller, as the Python binding needs.
//!
//! The signal handler is a no-op (`signals/mod.rs`); `sem_wait` fails with `EINTR` after any
//! handler.

#![cfg(unix)]

mod signals;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mpcore::{Deadline, Error, Kind, SemLock};
use signals::install_handler_without_restart as install_handler;

/// A fresh lock (value `value`, maxvalue 1), unlinked at creation.
fn lock(kind: Kind, value: u32) -> Arc<SemLock> {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "/mpcore-api-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    Arc::new(SemLock::create(kind, value, 1, &name, true).unwrap())
}

/// Sends a signal to `thread` every 5 ms for `duration`.
fn pester<T>(thread: &JoinHandle<T>, duration: Duration) {
    let until = Instant::now() + duration;
    while Instant::now() < until {
        signals::interrupt(thread);
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn acquire_waits_through_signals_until_the_unit_comes() {
    install_handler();
    let held = lock(Kind::Semaphore, 0);
    let (done, finished) = mpsc::channel();
    let waiter = {
        let held = held.clone();
        std::thread::spawn(move || {
            let result = held.acquire();
            done.send(()).unwrap();
            result
        })
    };
    pester(&waiter, Duration::from_millis(150));
    assert!(
        finished.try_recv().is_err(),
        "a signal ended the blocking acquire"
    );
    held.release().unwrap();
    finished.recv_timeout(Duration::from_secs(10)).unwrap();
    waiter.join().unwrap().unwrap();
    assert_eq!(held.value().unwrap(), 0, "the waiter took the unit");
}

#[test]
fn a_timed_acquire_is_neither_ended_nor_stretched_by_signals() {
    install_handler();
    let held = lock(Kind::Semaphore, 0);
    let waiter = {
        let held = held.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            let acquired = held.acquire_timeout(Duration::from_millis(300));
            (acquired.unwrap(), start.elapsed())
        })
    };
    pester(&waiter, Duration::from_millis(200));
    let (acquired, waited) = waiter.join().unwrap();
    assert!(!acquired, "timed out is Ok(false)");
    assert!(waited >= Duration::from_millis(290), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
}

#[test]
fn the_wait_step_hands_a_signal_to_its_caller() {
    install_handler();
    let held = lock(Kind::Semaphore, 0);
    let deadline = Deadline::after(Duration::from_secs(20));
    let waiter = {
        let held = held.clone();
        std::thread::spawn(move || held.wait(Some(deadline)))
    };
    let start = Instant::now();
    while !waiter.is_finished() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never interrupted"
        );
        pester(&waiter, Duration::from_millis(20));
    }
    assert!(matches!(waiter.join().unwrap(), Err(Error::Interrupted)));
    assert_eq!(held.count(), 0);
}

#[test]
fn acquire_until_a_past_deadline_still_takes_a_free_unit() {
    let free = lock(Kind::Semaphore, 1);
    let past = Deadline::now();
    assert!(free.acquire_until(past).unwrap());
    assert!(!free.acquire_until(past).unwrap(), "now at zero: Ok(false)");
    assert_eq!(free.count(), 1);
}

#[test]
fn a_guard_releases_when_its_scope_ends_however_it_ends() {
    let mutex = lock(Kind::Semaphore, 1);
    let early_return = || -> mpcore::Result<()> {
        let _held = mutex.lock()?;
        assert_eq!(mutex.value()?, 0);
        Err(Error::Eof)
    };
    assert!(early_return().is_err());
    assert_eq!(mutex.value().unwrap(), 1, "released by the `?` exit");
    assert_eq!(mutex.count(), 0);

    let held = mutex.lock().unwrap();
    assert!(!mutex.try_acquire().unwrap());
    held.release().unwrap();
    assert_eq!(mutex.value().unwrap(), 1, "released explicitly, once");
}

#[test]
fn a_recursive_guard_nests() {
    let rlock = lock(Kind::RecursiveMutex, 1);
    let outer = rlock.lock().unwrap();
    {
        let _inner = rlock.lock().unwrap();
        assert_eq!(rlock.count(), 2);
    }
    assert!(rlock.is_mine());
    drop(outer);
    assert!(!rlock.is_mine());
    assert_eq!(rlock.value().unwrap(), 1);
}
