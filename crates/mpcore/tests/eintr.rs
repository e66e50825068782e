//! A signal that interrupts a blocked send or receive reaches the caller as
//! `Error::Interrupted`, and calling again finishes the same message without losing or
//! repeating a byte: what the Python binding does after running signal handlers.
//!
//! The handler is a no-op installed without `SA_RESTART`, so the kernel does fail the blocked
//! call with `EINTR` instead of restarting it.

#![cfg(unix)]

mod signals;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mpcore::{pipe, Connection, Error};
use signals::install_handler_without_restart;

/// Which step of a test the main thread is at, and how many interruptions the blocked thread
/// reported during each: a step counts as interrupted only by an `EINTR` seen while it was
/// current, so a late signal from an earlier step cannot stand in for it.
#[derive(Default)]
struct Steps {
    current: AtomicUsize,
    interrupted: [AtomicUsize; 4],
}

impl Steps {
    /// Called by the blocked thread when its call failed with `Interrupted`.
    fn note_interruption(&self) {
        let step = self.current.load(Ordering::SeqCst);
        self.interrupted[step].fetch_add(1, Ordering::SeqCst);
    }

    /// Enters `step` and sends SIGUSR1 to `thread` every few milliseconds until the thread
    /// reports an interruption during it (or 10 s pass).
    fn interrupt<T>(&self, step: usize, thread: &JoinHandle<T>) {
        self.current.store(step, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.interrupted[step].load(Ordering::SeqCst) == 0 {
            assert!(
                Instant::now() < deadline,
                "step {step} was never interrupted"
            );
            signals::interrupt(thread);
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Calls `op` until it succeeds, reporting each interruption it resumes from.
fn resume_after_signals<T>(steps: &Steps, mut op: impl FnMut() -> mpcore::Result<T>) -> T {
    loop {
        match op() {
            Err(Error::Interrupted) => steps.note_interruption(),
            other => return other.unwrap(),
        }
    }
}

/// Runs `f` on a thread and returns its handle (to signal it) and a way to get its result that
/// fails the test instead of hanging if a lost or repeated byte left it waiting forever.
fn spawn_watched<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> (JoinHandle<()>, impl FnOnce() -> T) {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    let result = move || {
        rx.recv_timeout(Duration::from_secs(20))
            .expect("the thread is stuck: the stream lost its place")
    };
    (handle, result)
}

#[test]
fn a_receive_interrupted_inside_the_header_and_the_payload_resumes() {
    install_handler_without_restart();
    let (ours, mut peer) = UnixStream::pair().unwrap();
    let reader = Connection::new(ours.into(), true, true).unwrap();
    let steps = Arc::new(Steps::default());
    let (receiving, result) = {
        let steps = steps.clone();
        spawn_watched(move || {
            let first = resume_after_signals(&steps, || reader.recv_bytes(None));
            let second = resume_after_signals(&steps, || reader.recv_bytes(None));
            (first, second)
        })
    };

    let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 241) as u8).collect();
    let mut wire = (payload.len() as u32).to_be_bytes().to_vec();
    wire.extend_from_slice(&payload);
    // Before the message, inside the header, inside the payload: interrupted each time.
    steps.interrupt(0, &receiving);
    peer.write_all(&wire[..2]).unwrap();
    steps.interrupt(1, &receiving);
    peer.write_all(&wire[2..50_000]).unwrap();
    steps.interrupt(2, &receiving);
    peer.write_all(&wire[50_000..]).unwrap();
    peer.write_all(b"\0\0\0\x05after").unwrap();

    let (first, second) = result();
    assert_eq!(first, payload);
    assert_eq!(second, b"after");
}

#[test]
fn a_send_interrupted_while_the_pipe_is_full_resumes() {
    install_handler_without_restart();
    let (reader, writer) = pipe(false).unwrap();
    let message: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 239) as u8).collect();
    let steps = Arc::new(Steps::default());
    let (sending, sent) = {
        let (message, steps) = (message.clone(), steps.clone());
        spawn_watched(move || {
            resume_after_signals(&steps, || writer.send_bytes(&message));
            resume_after_signals(&steps, || writer.send_bytes(b"after"));
        })
    };
    // The pipe holds 64 KiB and nobody reads yet: the writer blocks part-way through the
    // message, and a signal then fails its write with EINTR. Twice, to resume twice.
    steps.interrupt(0, &sending);
    steps.interrupt(1, &sending);
    assert_eq!(reader.recv_bytes(None).unwrap(), message);
    assert_eq!(reader.recv_bytes(None).unwrap(), b"after");
    sent();
}

#[test]
fn poll_reports_the_interruption() {
    install_handler_without_restart();
    let (left, right) = pipe(true).unwrap();
    let steps = Arc::new(Steps::default());
    let polling = {
        let steps = steps.clone();
        std::thread::spawn(move || {
            resume_after_signals(&steps, || right.poll(Some(Duration::from_secs(20))))
        })
    };
    steps.interrupt(0, &polling);
    left.send_bytes(b"x").unwrap();
    assert!(polling.join().unwrap());
}
