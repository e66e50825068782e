//! `SemLock` across `fork()`: two real processes on one kernel semaphore.
//!
//! Each test forks a child that runs a closure and reports through its exit status (0 = all its
//! checks held). The tests of this file take one lock between them, so no other test thread is
//! inside `mpcore` (or holding its internal locks) at the moment of a fork.

#![cfg(unix)]

mod forked;

use std::time::{Duration, Instant};

use forked::{serial, Child};
use mpcore::{unlink, Error, Kind, SemLock};

fn unique_name(tag: &str) -> String {
    forked::unique_name("/mpcore-test", tag)
}

#[test]
fn two_processes_exclude_each_other() {
    let _serial = serial();
    let lock = SemLock::create(Kind::Semaphore, 1, 1, &unique_name("mutex"), true).unwrap();
    forked::assert_processes_exclude_each_other(&lock, 2, 300);
}

#[test]
fn a_waiting_child_gets_the_lock_when_the_parent_releases_it() {
    let _serial = serial();
    let name = unique_name("handoff");
    let lock = SemLock::create(Kind::Semaphore, 1, 1, &name, false).unwrap();
    assert!(lock.try_acquire().unwrap());
    let child = Child::spawn(|| {
        // Opened by name, as a spawned child rebuilds a lock.
        let mine = SemLock::open(&name, Kind::Semaphore, 1).unwrap();
        let held_elsewhere = !mine.try_acquire().unwrap();
        let start = Instant::now();
        let got_it = mine.acquire_timeout(Duration::from_secs(10)).unwrap();
        held_elsewhere && got_it && start.elapsed() >= Duration::from_millis(150)
    });
    std::thread::sleep(Duration::from_millis(200));
    lock.release().unwrap();
    assert!(child.succeeded());
    assert_eq!(
        lock.value().unwrap(),
        0,
        "the child took the unit and exited holding it"
    );
    unlink(&name).unwrap();
}

#[test]
fn a_timed_wait_expires_in_the_child() {
    let _serial = serial();
    let sem = SemLock::create(Kind::Semaphore, 0, i32::MAX, &unique_name("timed"), true).unwrap();
    let child = Child::spawn(|| {
        let start = Instant::now();
        let acquired = sem.acquire_timeout(Duration::from_millis(200)).unwrap();
        let waited = start.elapsed();
        !acquired && waited >= Duration::from_millis(190) && waited < Duration::from_secs(5)
    });
    assert!(child.succeeded());
    assert_eq!(sem.value().unwrap(), 0);
}

#[test]
fn a_recursive_mutex_belongs_to_its_owner_only() {
    let _serial = serial();
    let rlock = SemLock::create(Kind::RecursiveMutex, 1, 1, &unique_name("rlock"), true).unwrap();
    rlock.acquire().unwrap();
    rlock.acquire().unwrap();
    assert_eq!(rlock.count(), 2);
    let child = Child::spawn(|| {
        // The child inherits the object, count and all, until it rezeroes it like
        // multiprocessing does after fork.
        rlock.after_fork();
        let not_mine = !rlock.is_mine() && rlock.count() == 0;
        let blocked = !rlock.try_acquire().unwrap();
        let refused = matches!(rlock.release(), Err(Error::NotOwner));
        not_mine && blocked && refused
    });
    assert!(child.succeeded());
    rlock.release().unwrap();
    assert_eq!(rlock.value().unwrap(), 0, "still held once");
    rlock.release().unwrap();
    assert_eq!(rlock.value().unwrap(), 1);
    let child = Child::spawn(|| {
        rlock.after_fork();
        rlock.try_acquire().unwrap() && rlock.release().is_ok()
    });
    assert!(child.succeeded());
}

#[test]
fn releasing_too_many_times_is_refused_in_every_process() {
    let _serial = serial();
    let bounded = SemLock::create(Kind::Semaphore, 1, 1, &unique_name("bounded"), true).unwrap();
    let child = Child::spawn(|| {
        let refused = matches!(bounded.release(), Err(Error::ReleasedTooManyTimes));
        let took = bounded.try_acquire().unwrap();
        // Anyone may release a semaphore, including a process that did not acquire it.
        refused && took && bounded.value().unwrap() == 0
    });
    assert!(child.succeeded());
    assert_eq!(bounded.value().unwrap(), 0);
    bounded.release().unwrap();
    assert!(matches!(
        bounded.release(),
        Err(Error::ReleasedTooManyTimes)
    ));
}

#[test]
fn a_forked_child_adopts_an_unnamed_lock_by_handle() {
    let _serial = serial();
    let lock = SemLock::create(Kind::Semaphore, 1, 1, &unique_name("adopt"), true).unwrap();
    forked::assert_a_child_adopts_by_handle(&lock, 0x10);
}
