//! The file-backed semaphore backend (Linux), forced with `MPRS_SEMAPHORES=file`, through the
//! public `SemLock` API: across `fork()` and across exec'd processes, under contention, with
//! deadlines, signals and processes killed at random instructions.
//!
//! Every test of this binary runs with the backend forced and the private directory set to one
//! of its own under Cargo's target directory (both read once per process, so they are set before
//! the first semaphore call, in `setup`). Each test removes what it creates and checks that the
//! directory holds nothing of it afterwards. The tests take one lock between them, so no other
//! test thread is inside `mpcore` when one of them forks.

#![cfg(file_semaphores)]

mod forked;
mod signals;

use std::fs::OpenOptions;
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, MutexGuard, Once};
use std::time::{Duration, Instant, SystemTime};

use forked::Child;
use mpcore::{
    private_dir, semaphore_backend, unlink, Deadline, Error, Kind, SemLock, SemaphoreBackend,
};

/// The directory every test here uses instead of the user's own.
fn test_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mpcore-file-semaphores")
}

/// Forces the file backend and the test directory (once, before any semaphore call), and
/// serialises the tests.
fn setup() -> MutexGuard<'static, ()> {
    static ENV: Once = Once::new();
    ENV.call_once(|| {
        std::env::set_var("MPRS_SEMAPHORES", "file");
        std::env::set_var("MPRS_SEMAPHORE_DIR", test_dir());
    });
    forked::serial()
}

fn unique_name(tag: &str) -> String {
    forked::unique_name("/mpf", tag)
}

/// The files in the test directory that belong to `name`, or to this process's temporary names.
fn files_of(name: &str) -> Vec<String> {
    let own_temp = format!(".tmp-sem-{}-", std::process::id());
    std::fs::read_dir(test_dir())
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|file| file == &format!("sem.{}", &name[1..]) || file.starts_with(&own_temp))
        .collect()
}

/// Unlinks `name` when dropped, if it is still there: a test that fails half-way leaves nothing.
struct RemoveOnDrop<'a>(&'a str);

impl Drop for RemoveOnDrop<'_> {
    fn drop(&mut self) {
        let _ = unlink(self.0);
    }
}

/// Unlinks `name` and checks that no file of it is left.
fn unlink_leaving_nothing(name: &str) {
    unlink(name).unwrap();
    assert_no_files(name);
}

fn assert_no_files(name: &str) {
    assert_eq!(
        files_of(name),
        Vec::<String>::new(),
        "left behind in {}",
        test_dir().display()
    );
}

#[test]
fn the_forced_backend_is_the_file_one_in_a_private_directory() {
    let _serial = setup();
    assert_eq!(semaphore_backend().unwrap(), SemaphoreBackend::File);
    let name = unique_name("private");
    let _remove = RemoveOnDrop(&name);
    let sem = SemLock::create(Kind::Semaphore, 3, 5, &name, false).unwrap();
    assert_eq!(private_dir::path(), test_dir());
    let dir = std::fs::symlink_metadata(test_dir()).unwrap();
    assert!(dir.is_dir());
    assert_eq!(dir.mode() & 0o777, 0o700);
    let file = std::fs::symlink_metadata(test_dir().join(format!("sem.{}", &name[1..]))).unwrap();
    assert!(file.is_file());
    assert_eq!(file.mode() & 0o777, 0o600);
    // Not a POSIX semaphore: nothing of that name in /dev/shm.
    assert!(!PathBuf::from(format!("/dev/shm/sem.{}", &name[1..])).exists());
    assert_eq!(sem.value().unwrap(), 3);
    unlink_leaving_nothing(&name);
}

#[test]
fn names_open_unlink_and_collide_as_posix_ones_do() {
    let _serial = setup();
    let name = unique_name("names");
    let _remove = RemoveOnDrop(&name);
    let first = SemLock::create(Kind::Semaphore, 1, 1, &name, false).unwrap();
    assert_eq!(first.name(), Some(name.as_str()));
    match SemLock::create(Kind::Semaphore, 1, 1, &name, false) {
        Err(Error::Os(e)) => assert_eq!(e.raw_os_error(), Some(libc::EEXIST)),
        other => panic!("a second creation of {name}: {other:?}"),
    }
    let same = SemLock::open(&name, Kind::Semaphore, 1).unwrap();
    assert!(first.try_acquire().unwrap());
    assert!(!same.try_acquire().unwrap(), "one unit, held by `first`");
    assert!(same.is_zero().unwrap());
    first.release().unwrap();
    assert_eq!(same.value().unwrap(), 1);
    assert!(!same.is_zero().unwrap());
    unlink_leaving_nothing(&name);
    for gone in [
        SemLock::open(&name, Kind::Semaphore, 1).err(),
        unlink(&name).err(),
    ] {
        match gone {
            Some(Error::Os(e)) => assert_eq!(e.raw_os_error(), Some(libc::ENOENT)),
            other => panic!("after unlink: {other:?}"),
        }
    }
    // Both objects keep working on the unlinked file.
    assert!(same.try_acquire().unwrap());
    assert!(!first.try_acquire().unwrap());
}

#[test]
fn unlinked_at_creation_leaves_no_name_and_a_working_semaphore() {
    let _serial = setup();
    let name = unique_name("unlinked");
    let sem = SemLock::create(Kind::Semaphore, 2, 2, &name, true).unwrap();
    assert_eq!(sem.name(), None);
    assert_no_files(&name);
    assert!(matches!(
        SemLock::open(&name, Kind::Semaphore, 2),
        Err(Error::Os(_))
    ));
    assert!(sem.try_acquire().unwrap());
    assert_eq!(sem.value().unwrap(), 1);
}

#[test]
fn a_forked_child_adopts_the_mapping_by_handle_and_shares_the_count() {
    let _serial = setup();
    let lock = SemLock::create(Kind::Semaphore, 1, 1, &unique_name("fork"), true).unwrap();
    forked::assert_a_child_adopts_by_handle(&lock, 0x40);
    lock.release().unwrap();
    assert_eq!(lock.value().unwrap(), 1);
}

#[test]
fn forked_processes_contending_lose_no_update() {
    let _serial = setup();
    let lock = SemLock::create(Kind::Semaphore, 1, 1, &unique_name("contend"), true).unwrap();
    forked::assert_processes_exclude_each_other(&lock, 4, 400);
}

#[test]
fn threads_blocking_on_one_semaphore_are_all_served() {
    let _serial = setup();
    let sem = Arc::new(
        SemLock::create(Kind::Semaphore, 0, i32::MAX, &unique_name("threads"), true).unwrap(),
    );
    let waiters: Vec<_> = (0..6)
        .map(|_| {
            let sem = Arc::clone(&sem);
            std::thread::spawn(move || sem.acquire_timeout(Duration::from_secs(20)).unwrap())
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    for _ in 0..6 {
        sem.release().unwrap();
    }
    for waiter in waiters {
        assert!(waiter.join().unwrap(), "a waiter was not woken by its post");
    }
    assert_eq!(sem.value().unwrap(), 0);
}

#[test]
fn a_timed_wait_expires_at_its_wall_clock_deadline() {
    let _serial = setup();
    let sem = SemLock::create(Kind::Semaphore, 0, 1, &unique_name("timed"), true).unwrap();
    let deadline = Deadline::after(Duration::from_millis(250));
    let started = Instant::now();
    assert!(!sem.acquire_until(deadline).unwrap());
    let waited = started.elapsed();
    let (secs, nanos) = deadline.as_secs_nanos();
    let due = SystemTime::UNIX_EPOCH + Duration::new(secs as u64, nanos);
    assert!(SystemTime::now() >= due, "returned before the deadline");
    assert!(waited >= Duration::from_millis(240), "{waited:?}");
    assert!(
        waited < Duration::from_secs(3),
        "{waited:?}: far past the deadline"
    );
    // A deadline already past gives up at once, and a unit that is there is taken anyway.
    let started = Instant::now();
    assert!(!sem.acquire_until(deadline).unwrap());
    assert!(started.elapsed() < Duration::from_millis(200));
    sem.release().unwrap();
    assert!(sem.acquire_until(deadline).unwrap());
    // In a forked child too, with the waiter's registration undone on the way out.
    let child = Child::spawn(|| {
        let started = Instant::now();
        let acquired = sem.acquire_timeout(Duration::from_millis(150)).unwrap();
        !acquired && started.elapsed() >= Duration::from_millis(140)
    });
    assert!(child.succeeded());
    assert_eq!(sem.value().unwrap(), 0);
}

#[test]
fn releasing_too_many_times_is_refused() {
    let _serial = setup();
    let name = unique_name("toomany");
    let lock = SemLock::create(Kind::Semaphore, 1, 1, &name, true).unwrap();
    assert!(matches!(lock.release(), Err(Error::ReleasedTooManyTimes)));
    assert_eq!(lock.value().unwrap(), 1);
    let bounded = SemLock::create(Kind::Semaphore, 1, 2, &unique_name("bounded"), true).unwrap();
    bounded.release().unwrap();
    assert!(matches!(
        bounded.release(),
        Err(Error::ReleasedTooManyTimes)
    ));
    assert_eq!(bounded.value().unwrap(), 2);
    // At SEM_VALUE_MAX the post itself fails, as glibc's sem_post does (EOVERFLOW).
    let full = SemLock::create(
        Kind::RecursiveMutex,
        i32::MAX as u32,
        1,
        &unique_name("max"),
        true,
    )
    .unwrap();
    assert!(full.try_acquire().unwrap());
    let other = SemLock::from_handle(full.handle(), Kind::Semaphore, i32::MAX).unwrap();
    other.release().unwrap();
    match full.release() {
        Err(Error::Os(e)) => assert_eq!(e.raw_os_error(), Some(libc::EOVERFLOW)),
        other => panic!("post above SEM_VALUE_MAX: {other:?}"),
    }
    assert_eq!(full.value().unwrap(), i32::MAX);
}

#[test]
fn a_signal_interrupts_a_blocked_wait() {
    let _serial = setup();
    signals::install_handler_without_restart();
    let sem =
        Arc::new(SemLock::create(Kind::Semaphore, 0, 1, &unique_name("signal"), true).unwrap());
    for timed in [false, true] {
        let waiter = {
            let sem = Arc::clone(&sem);
            std::thread::spawn(move || {
                let deadline = timed.then(|| Deadline::after(Duration::from_secs(30)));
                sem.wait(deadline)
            })
        };
        let started = Instant::now();
        while !waiter.is_finished() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the wait was never interrupted"
            );
            signals::interrupt(&waiter);
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            matches!(waiter.join().unwrap(), Err(Error::Interrupted)),
            "timed: {timed}"
        );
    }
    // The interrupted waiters are gone: a post leaves a unit, and a new waiter is woken.
    sem.release().unwrap();
    assert_eq!(sem.value().unwrap(), 1);
    assert!(sem.try_acquire().unwrap());
    let waiter = {
        let sem = Arc::clone(&sem);
        std::thread::spawn(move || sem.acquire_timeout(Duration::from_secs(20)).unwrap())
    };
    std::thread::sleep(Duration::from_millis(50));
    sem.release().unwrap();
    assert!(waiter.join().unwrap());
}

#[test]
fn processes_killed_mid_operation_leave_the_count_consistent() {
    let _serial = setup();
    const UNITS: u32 = 3;
    const HOLDERS: usize = 5;
    for round in 0..6 {
        let sem = SemLock::create(
            Kind::Semaphore,
            UNITS,
            UNITS as i32,
            &unique_name("kill"),
            true,
        )
        .unwrap();
        // Holders loop acquire/release (some blocking, as there are more of them than units),
        // and are SIGKILLed at whatever instruction they are at.
        let holders: Vec<Child> = (0..HOLDERS)
            .map(|_| {
                Child::spawn(|| loop {
                    sem.acquire().unwrap();
                    sem.release().unwrap();
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20 + 15 * round));
        for holder in holders {
            holder.kill();
        }
        // Each killed process can have taken one unit with it, never more, never added one.
        let left = sem.value().unwrap();
        assert!(
            left <= UNITS as i32 && left >= UNITS as i32 - HOLDERS as i32,
            "round {round}: value {left} after the kills"
        );
        // What is left is whole: every unit can be taken once, and given back.
        let mut taken = 0;
        while sem.try_acquire().unwrap() {
            taken += 1;
        }
        assert_eq!(taken, left.max(0));
        // Waiters killed while registered leave a stale waiter count, which costs wake-ups and
        // nothing else: a post still leaves its unit, and a live waiter is still woken.
        let sleepers: Vec<Child> = (0..3)
            .map(|_| Child::spawn(|| sem.acquire().is_ok()))
            .collect();
        std::thread::sleep(Duration::from_millis(30));
        for sleeper in sleepers {
            sleeper.kill();
        }
        sem.release().unwrap();
        assert_eq!(sem.value().unwrap(), 1);
        assert!(sem.try_acquire().unwrap());
        let waiter = Child::spawn(|| sem.acquire_timeout(Duration::from_secs(20)).unwrap());
        std::thread::sleep(Duration::from_millis(30));
        sem.release().unwrap();
        assert!(
            waiter.succeeded(),
            "round {round}: a live waiter was not woken"
        );
        assert_eq!(sem.value().unwrap(), 0);
    }
}

/// Runs `role` of `child_process_entry` in a new process (this test binary, exec'd), with
/// `env` on top of this process's environment. Returns whether it succeeded.
fn exec_child(role: &str, name: &str, env: &[(&str, &str)]) -> bool {
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process_entry",
            "--ignored",
            "--test-threads=1",
            "--quiet",
        ])
        .env("MPCORE_TEST_ROLE", role)
        .env("MPCORE_TEST_NAME", name)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    status.success()
}

/// Not a test: the body of the exec'd processes of the tests below, which start it with
/// `MPCORE_TEST_ROLE` set (without it, it does nothing).
#[test]
#[ignore = "run by the other tests, in a child process"]
fn child_process_entry() {
    let (Ok(role), Ok(name)) = (
        std::env::var("MPCORE_TEST_ROLE"),
        std::env::var("MPCORE_TEST_NAME"),
    ) else {
        return;
    };
    match role.as_str() {
        // Opens the semaphore by name, takes one unit and gives two back.
        "take-one-give-two" => {
            let sem = SemLock::open(&name, Kind::Semaphore, i32::MAX).unwrap();
            assert!(sem.acquire_timeout(Duration::from_secs(20)).unwrap());
            sem.release().unwrap();
            sem.release().unwrap();
        }
        // Creation must fail: the private directory is refused.
        "create-is-refused" => {
            let err = SemLock::create(Kind::Semaphore, 1, 1, &name, false).unwrap_err();
            let message = err.to_string();
            assert!(message.contains("not a private directory"), "{message}");
        }
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn an_execd_process_opens_the_semaphore_by_name() {
    let _serial = setup();
    let name = unique_name("exec");
    let _remove = RemoveOnDrop(&name);
    let sem = SemLock::create(Kind::Semaphore, 0, i32::MAX, &name, false).unwrap();
    let waiter = {
        let name = name.clone();
        std::thread::spawn(move || exec_child("take-one-give-two", &name, &[]))
    };
    std::thread::sleep(Duration::from_millis(100));
    sem.release().unwrap();
    assert!(waiter.join().unwrap(), "the exec'd child failed");
    assert_eq!(sem.value().unwrap(), 2, "one taken, two given by the child");
    // A process that creates POSIX semaphores still finds the file-backed one by name.
    assert!(exec_child(
        "take-one-give-two",
        &name,
        &[("MPRS_SEMAPHORES", "posix")]
    ));
    assert_eq!(sem.value().unwrap(), 3);
    unlink_leaving_nothing(&name);
}

#[test]
fn a_directory_others_could_reach_or_redirect_is_refused() {
    let _serial = setup();
    let base = tempfile::tempdir().unwrap();
    let open_to_others = base.path().join("shared");
    std::fs::create_dir(&open_to_others).unwrap();
    std::fs::set_permissions(&open_to_others, std::fs::Permissions::from_mode(0o755)).unwrap();
    let private = base.path().join("private");
    std::fs::create_dir(&private).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let link = base.path().join("link");
    std::os::unix::fs::symlink(&private, &link).unwrap();
    let name = unique_name("refused");
    for dir in [&open_to_others, &link] {
        let dir = dir.to_str().unwrap();
        assert!(
            exec_child("create-is-refused", &name, &[("MPRS_SEMAPHORE_DIR", dir)]),
            "{dir}"
        );
    }
    assert_eq!(
        std::fs::read_dir(&private).unwrap().count(),
        0,
        "nothing made through the link"
    );
    assert_eq!(std::fs::read_dir(&open_to_others).unwrap().count(), 0);
}

#[test]
fn a_symbolic_link_in_place_of_a_semaphore_is_not_followed() {
    let _serial = setup();
    // Make sure the directory exists, then plant a link where a semaphore's file would be.
    let probe = unique_name("probe");
    drop(SemLock::create(Kind::Semaphore, 1, 1, &probe, true).unwrap());
    let target = tempfile::NamedTempFile::new().unwrap();
    let name = unique_name("planted");
    let planted = test_dir().join(format!("sem.{}", &name[1..]));
    std::os::unix::fs::symlink(target.path(), &planted).unwrap();
    let opened = SemLock::open(&name, Kind::Semaphore, 1);
    let created = SemLock::create(Kind::Semaphore, 1, 1, &name, false);
    std::fs::remove_file(&planted).unwrap();
    match opened {
        Err(Error::Os(e)) => assert_eq!(e.raw_os_error(), Some(libc::ELOOP), "open: {e}"),
        other => panic!("open through a planted link: {other:?}"),
    }
    match created {
        Err(Error::Os(e)) => assert_eq!(e.raw_os_error(), Some(libc::EEXIST), "create: {e}"),
        other => panic!("create over a planted link: {other:?}"),
    }
    assert_eq!(
        std::fs::metadata(target.path()).unwrap().len(),
        0,
        "the link's target was written"
    );
    assert_no_files(&name);
    assert_no_files(&probe);
}

#[test]
fn a_file_that_is_not_a_semaphore_is_refused() {
    let _serial = setup();
    let probe = unique_name("probe");
    drop(SemLock::create(Kind::Semaphore, 1, 1, &probe, true).unwrap());
    let name = unique_name("garbage");
    let path = test_dir().join(format!("sem.{}", &name[1..]));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .unwrap();
    file.write_all_at(b"not a semaphore!", 0).unwrap();
    let opened = SemLock::open(&name, Kind::Semaphore, 1);
    std::fs::remove_file(&path).unwrap();
    match opened {
        Err(Error::Os(e)) => assert_eq!(e.raw_os_error(), Some(libc::EINVAL)),
        other => panic!("a file of garbage opened as {other:?}"),
    }
    assert_no_files(&name);
}
