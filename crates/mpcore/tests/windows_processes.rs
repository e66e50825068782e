//! Windows `SemLock` across processes, the way `multiprocessing` uses it there: the parent
//! creates an unnamed kernel semaphore and hands it to a child process as a handle, duplicated
//! into the child (what spawn's `duplicate_for_child` does) or inherited.
//!
//! The children are this test binary started again (`std::process::Command`, which is
//! `CreateProcessW`) with `MPCORE_WINDOWS_CHILD_ROLE` naming what to do; they run the ignored
//! test [`child_process`] only. The parent talks to a child over its stdin and stdout, one line
//! at a time; a child that fails (a panic) exits non-zero and the parent's test fails with the
//! child's output. Run under Wine on every `make test` (`scripts/wine-test.sh`).

#![cfg(windows)]

use std::io::{BufRead, BufReader, Write};
use std::os::windows::fs::FileExt;
use std::os::windows::io::AsHandle;
use std::os::windows::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mpcore::{Error, Kind, SemLock};
use windows_sys::Win32::Foundation::{
    CloseHandle, SetHandleInformation, HANDLE, HANDLE_FLAG_INHERIT,
};
use windows_sys::Win32::System::Console::{
    GenerateConsoleCtrlEvent, SetConsoleCtrlHandler, CTRL_C_EVENT,
};
use windows_sys::Win32::System::Threading::CREATE_NO_WINDOW;

mod windows_support;
use windows_support::{new_lock, take, take_within, this_process, try_take, SLICE};

/// Names the role of a child process; unset in the parent.
const ROLE: &str = "MPCORE_WINDOWS_CHILD_ROLE";
/// How long the parent waits for any one line from a child, or for its exit: generous, since
/// Wine on a loaded machine is slow to start a process; a child that hangs fails the test.
const PATIENCE: Duration = Duration::from_secs(30);

/// A child process of a test, with its stdin to write to and its stdout lines to read.
struct ChildProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    /// The lines the child `say`s, without their prefix.
    said: Receiver<String>,
    /// Everything the child printed, for failure messages.
    transcript: Arc<Mutex<String>>,
}

impl ChildProcess {
    fn spawn(role: &str) -> Self {
        Self::spawn_with(role, 0, &[])
    }

    /// Starts this binary as a child in `role`, with process creation `flags` and extra
    /// environment variables.
    fn spawn_with(role: &str, flags: u32, env: &[(&str, String)]) -> Self {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args(["child_process", "--exact", "--ignored", "--nocapture"])
            .env(ROLE, role)
            .creation_flags(flags)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start the child process");
        let transcript = Arc::new(Mutex::new(String::new()));
        let (tell, said) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::clone(&transcript);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                log.lock().unwrap().push_str(&format!("{line}\n"));
                if let Some(message) = line.strip_prefix(SAY) {
                    let _ = tell.send(message.to_owned());
                }
            }
        });
        let log = Arc::clone(&transcript);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                log.lock().unwrap().push_str(&format!("stderr: {line}\n"));
            }
        });
        ChildProcess {
            stdin: child.stdin.take(),
            child,
            said,
            transcript,
        }
    }

    /// Duplicates `lock`'s handle into the child and sends the child its value there.
    fn send_lock(&mut self, lock: &SemLock) {
        let handle = lock.duplicate_for_child(self.child.as_handle()).unwrap();
        self.send(&handle.to_string());
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// The next line the child says; fails the test if none comes in time.
    fn next(&self) -> String {
        match self.said.recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(_) => panic!("the child said nothing more:\n{}", self.output()),
        }
    }

    /// Checks that the child says `expected` next.
    fn expect(&self, expected: &str) {
        let line = self.next();
        assert_eq!(line, expected, "child output:\n{}", self.output());
    }

    fn output(&self) -> String {
        self.transcript.lock().unwrap().clone()
    }

    /// Waits for the child to exit and checks that it succeeded.
    fn finish(mut self) {
        drop(self.stdin.take());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the readers take the last lines.
                std::thread::sleep(Duration::from_millis(50));
                assert!(status.success(), "child {status}:\n{}", self.output());
                return;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "the child did not exit:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ChildProcess {
    /// A child the test did not finish (it failed) is killed, never left behind.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// The child's side.

/// The prefix of the lines a child says to its parent (libtest prints lines of its own).
const SAY: &str = "child says: ";

fn say(message: &str) {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{SAY}{message}").unwrap();
    stdout.flush().unwrap();
}

fn hear() -> String {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    line.trim_end().to_owned()
}

/// The lock whose handle value the parent sends next, adopted as `kind` with `maxvalue`.
fn hear_lock(kind: Kind, maxvalue: i32) -> SemLock {
    let handle: usize = hear().parse().unwrap();
    // SAFETY: the parent duplicated this handle into this process for this lock only, and
    // nothing else here uses or closes it.
    unsafe { SemLock::from_raw_handle(handle, kind, maxvalue, None) }.unwrap()
}

/// The entry point of every child process: runs the role its parent named.
#[test]
#[ignore = "the child processes of the other tests run this (MPCORE_WINDOWS_CHILD_ROLE)"]
fn child_process() {
    let role = std::env::var(ROLE).expect("started by a test, with a role");
    match role.as_str() {
        "release once" => release_once(),
        "release the inherited handle" => release_inherited(),
        "wait, then signal" => wait_then_signal(),
        "increment under the lock" => increment_under_the_lock(),
        "recursive mutex" => recursive_mutex(),
        "ctrl-c" => ctrl_c(),
        other => panic!("unknown role {other:?}"),
    }
}

fn release_once() {
    let lock = hear_lock(Kind::Semaphore, 1);
    lock.release().unwrap();
    say("released");
}

fn release_inherited() {
    let handle: usize = std::env::var("MPCORE_INHERITED_HANDLE")
        .unwrap()
        .parse()
        .unwrap();
    // SAFETY: the parent made this handle inheritable for this child, which owns its copy
    // and gives it to the new lock alone.
    let lock = unsafe { SemLock::from_raw_handle(handle, Kind::Semaphore, 1, None) }.unwrap();
    lock.release().unwrap();
    say("released");
}

fn wait_then_signal() {
    let work = hear_lock(Kind::Semaphore, 1);
    let done = hear_lock(Kind::Semaphore, 1);
    say("waiting");
    let started = Instant::now();
    take(&work);
    done.release().unwrap();
    say(&format!(
        "took it after {} ms",
        started.elapsed().as_millis()
    ));
}

fn increment_under_the_lock() {
    let lock = hear_lock(Kind::Semaphore, 1);
    let counter = SharedCounter::open(&hear());
    let rounds: u64 = hear().parse().unwrap();
    say("ready");
    assert_eq!(hear(), "go");
    counter.increment_under(&lock, rounds);
    say("done");
}

fn recursive_mutex() {
    let rlock = hear_lock(Kind::RecursiveMutex, 1);
    // The parent holds it: not ours to take or to release.
    assert!(!try_take(&rlock));
    assert!(matches!(rlock.release(), Err(Error::NotOwner)));
    say("held elsewhere, not mine to release");
    assert!(take_within(&rlock, PATIENCE));
    assert!(
        try_take(&rlock),
        "the owner takes it again without blocking"
    );
    assert_eq!(rlock.count(), 2);
    say("mine twice");
    assert_eq!(hear(), "release");
    rlock.release().unwrap();
    rlock.release().unwrap();
    assert!(matches!(rlock.release(), Err(Error::NotOwner)));
    say("released twice, then not mine");
}

/// Set by the console control handler, as the C runtime's handler trips Python's SIGINT flag.
static CTRL_C_SEEN: AtomicBool = AtomicBool::new(false);

/// A console control handler: runs on a thread the system starts for the event.
unsafe extern "system" fn note_ctrl_c(event: u32) -> windows_sys::core::BOOL {
    if event == CTRL_C_EVENT {
        CTRL_C_SEEN.store(true, Ordering::SeqCst);
        return 1;
    }
    0
}

/// Blocks on an empty semaphore in the binding's loop (`Interrupted` means: run the signal
/// handlers, here a look at the flag the control handler sets, and wait again), while another
/// thread sends this process's console a Ctrl-C.
fn ctrl_c() {
    // SAFETY: registers a handler that only stores to an atomic; it stays valid (a plain
    // function) for the life of the process.
    assert_ne!(unsafe { SetConsoleCtrlHandler(Some(note_ctrl_c), 1) }, 0);
    let sem = new_lock(Kind::Semaphore, 0, 1);
    let sent_at = Arc::new(Mutex::new(None));
    let sender = {
        let sent_at = Arc::clone(&sent_at);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            *sent_at.lock().unwrap() = Some(Instant::now());
            // SAFETY: a plain call; group 0 is every process on this child's own console.
            let sent = unsafe { GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0) };
            assert_ne!(sent, 0, "{}", std::io::Error::last_os_error());
        })
    };
    let started = Instant::now();
    let mut handbacks = 0u32;
    loop {
        match sem.wait(None) {
            Err(Error::Interrupted) if CTRL_C_SEEN.load(Ordering::SeqCst) => break,
            Err(Error::Interrupted) => handbacks += 1,
            other => panic!("the wait ended with {other:?}"),
        }
        assert!(started.elapsed() < PATIENCE, "Ctrl-C never arrived");
    }
    let interrupted_at = Instant::now();
    sender.join().unwrap();
    let sent_at = sent_at.lock().unwrap().unwrap();
    say(&format!(
        "interrupted {} ms after the event, {} hand-backs before it",
        interrupted_at.duration_since(sent_at).as_millis(),
        handbacks
    ));
}

/// A `u64` in a file both processes open: a deliberately non-atomic read-modify-write that only
/// mutual exclusion keeps exact.
struct SharedCounter(std::fs::File);

impl SharedCounter {
    fn create(path: &std::path::Path) -> Self {
        let file = std::fs::File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .unwrap();
        file.seek_write(&0u64.to_le_bytes(), 0).unwrap();
        SharedCounter(file)
    }

    fn open(path: &str) -> Self {
        SharedCounter(
            std::fs::File::options()
                .read(true)
                .write(true)
                .open(path)
                .unwrap(),
        )
    }

    fn get(&self) -> u64 {
        let mut bytes = [0; 8];
        assert_eq!(self.0.seek_read(&mut bytes, 0).unwrap(), 8);
        u64::from_le_bytes(bytes)
    }

    /// `rounds` increments, each under `lock`, with a pause between the read and the write so
    /// that two processes without mutual exclusion would lose updates.
    fn increment_under(&self, lock: &SemLock, rounds: u64) {
        for _ in 0..rounds {
            assert!(take_within(lock, PATIENCE), "the lock was never free");
            let value = self.get();
            std::thread::sleep(Duration::from_micros(100));
            self.0.seek_write(&(value + 1).to_le_bytes(), 0).unwrap();
            lock.release().unwrap();
        }
    }
}

// The tests.

#[test]
fn a_child_releases_a_semaphore_duplicated_into_it() {
    let sem = new_lock(Kind::Semaphore, 0, 1);
    let mut child = ChildProcess::spawn("release once");
    child.send_lock(&sem);
    child.expect("released");
    child.finish();
    assert!(try_take(&sem), "the child's release reached this process");
    assert!(!try_take(&sem), "one release is one unit");
}

#[test]
fn a_child_inherits_an_inheritable_handle() {
    let sem = new_lock(Kind::Semaphore, 0, 1);
    // An inheritable duplicate in this process, which CreateProcessW copies into the child at
    // the same value: the other way a Windows child can get a handle.
    let inheritable = sem.duplicate_for_child(this_process()).unwrap();
    // SAFETY: `inheritable` is an open handle of this process, owned here.
    let marked = unsafe {
        SetHandleInformation(
            inheritable as HANDLE,
            HANDLE_FLAG_INHERIT,
            HANDLE_FLAG_INHERIT,
        )
    };
    assert_ne!(marked, 0, "{}", std::io::Error::last_os_error());
    let child = ChildProcess::spawn_with(
        "release the inherited handle",
        0,
        &[("MPCORE_INHERITED_HANDLE", inheritable.to_string())],
    );
    // SAFETY: our copy, owned here and not used again; the child has its own.
    assert_ne!(unsafe { CloseHandle(inheritable as HANDLE) }, 0);
    child.expect("released");
    child.finish();
    assert!(try_take(&sem));
    assert!(!try_take(&sem));
}

#[test]
fn a_child_blocked_for_many_slices_wakes_when_the_parent_releases() {
    let work = new_lock(Kind::Semaphore, 0, 1);
    let done = new_lock(Kind::Semaphore, 0, 1);
    let mut child = ChildProcess::spawn("wait, then signal");
    child.send_lock(&work);
    child.send_lock(&done);
    child.expect("waiting");
    std::thread::sleep(6 * SLICE);
    assert!(!try_take(&done), "the child must still be waiting");
    work.release().unwrap();
    assert!(
        take_within(&done, PATIENCE),
        "the child never took the unit"
    );
    let line = child.next();
    let waited: u64 = line
        .strip_prefix("took it after ")
        .and_then(|rest| rest.strip_suffix(" ms"))
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("unexpected {line:?}"));
    assert!(waited >= 250, "the child waited only {waited} ms");
    child.finish();
    assert!(
        !try_take(&work),
        "the child took the unit, not this process"
    );
}

#[test]
fn two_processes_incrementing_under_the_lock_lose_no_update() {
    const ROUNDS: u64 = 300;
    let lock = new_lock(Kind::Semaphore, 1, 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counter");
    let counter = SharedCounter::create(&path);
    let mut child = ChildProcess::spawn("increment under the lock");
    child.send_lock(&lock);
    child.send(path.to_str().unwrap());
    child.send(&ROUNDS.to_string());
    child.expect("ready");
    child.send("go");
    counter.increment_under(&lock, ROUNDS);
    child.expect("done");
    child.finish();
    assert_eq!(counter.get(), 2 * ROUNDS, "updates were lost");
    assert!(try_take(&lock), "the lock is free at the end");
}

#[test]
fn a_recursive_mutex_belongs_to_one_process_and_thread_at_a_time() {
    let rlock = new_lock(Kind::RecursiveMutex, 1, 1);
    assert!(take_within(&rlock, PATIENCE));
    assert!(try_take(&rlock));
    let mut child = ChildProcess::spawn("recursive mutex");
    child.send_lock(&rlock);
    child.expect("held elsewhere, not mine to release");
    rlock.release().unwrap();
    assert_eq!(rlock.count(), 1, "still held once: nothing posted yet");
    rlock.release().unwrap();
    assert_eq!(rlock.count(), 0);
    child.expect("mine twice");
    assert!(!try_take(&rlock), "the child holds it now");
    assert!(matches!(rlock.release(), Err(Error::NotOwner)));
    child.send("release");
    child.expect("released twice, then not mine");
    child.finish();
    assert!(try_take(&rlock), "free again once the child let go");
}

#[test]
fn ctrl_c_interrupts_a_blocked_wait_through_the_console_control_event() {
    // CREATE_NO_WINDOW: the child gets a console of its own (Wine makes a headless one), so
    // its Ctrl-C reaches no other process. Wine delivers GenerateConsoleCtrlEvent to a process
    // with a console, as Windows does; without one the call fails (ERROR_INVALID_ACCESS).
    let child = ChildProcess::spawn_with("ctrl-c", CREATE_NO_WINDOW, &[]);
    let line = child.next();
    let (latency, handbacks) = line
        .strip_prefix("interrupted ")
        .and_then(|rest| rest.split_once(" ms after the event, "))
        .and_then(|(ms, rest)| {
            let handbacks = rest.strip_suffix(" hand-backs before it")?;
            Some((ms.parse::<u64>().ok()?, handbacks.parse::<u32>().ok()?))
        })
        .unwrap_or_else(|| panic!("unexpected {line:?}"));
    child.finish();
    println!("the child's wait was {line}");
    // The 300 ms before the event are several slices, each handing control back.
    assert!(handbacks >= 3, "only {handbacks} hand-backs in 300 ms");
    // One slice, plus scheduling on a loaded machine.
    assert!(
        latency <= (SLICE + Duration::from_millis(200)).as_millis() as u64,
        "Ctrl-C was noticed {latency} ms after the event"
    );
}
