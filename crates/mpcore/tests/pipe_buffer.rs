//! A large message grows the pipe it crosses (Linux): a pipe holds 64 KiB by default, and the
//! sender asks for the frame's size, up to `/proc/sys/fs/pipe-max-size`. Small messages leave
//! the buffer alone. (Refusals are tested from Python, as an unprivileged user past its quota:
//! tests/python/test_pipe_buffer.py.)
#![cfg(target_os = "linux")]

use std::os::fd::AsRawFd;
use std::thread;

use mpcore::{pipe, Connection};

fn pipe_size(conn: &Connection) -> usize {
    // SAFETY: F_GETPIPE_SZ takes no argument; the descriptor is open while `conn` lives.
    let size = unsafe { libc::fcntl(conn.as_raw_fd(), libc::F_GETPIPE_SZ) };
    usize::try_from(size).expect("a pipe")
}

fn pipe_max_size() -> usize {
    let text = std::fs::read_to_string("/proc/sys/fs/pipe-max-size").expect("procfs");
    text.trim().parse().expect("a number")
}

/// Sends `payloads` while another thread receives them; returns what arrived.
fn carry(reader: Connection, writer: &Connection, payloads: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let count = payloads.len();
    let receiver = thread::spawn(move || {
        (0..count)
            .map(|_| reader.recv_bytes(None).expect("a message"))
            .collect::<Vec<_>>()
    });
    for payload in payloads {
        writer.send_bytes(payload).expect("sent");
    }
    receiver.join().expect("the receiver")
}

#[test]
fn small_messages_leave_the_pipe_buffer_alone() {
    let (reader, writer) = pipe(false).unwrap();
    let payloads = vec![vec![1; 100], vec![2; 64 * 1024]];
    assert_eq!(carry(reader, &writer, &payloads), payloads);
    assert_eq!(pipe_size(&writer), 64 * 1024);
}

#[test]
fn a_large_message_grows_the_pipe_up_to_the_limit() {
    let (reader, writer) = pipe(false).unwrap();
    let payloads: Vec<Vec<u8>> = [200 * 1024, 3 << 20, 10]
        .iter()
        .map(|&len| (0..len).map(|i| (i % 251) as u8).collect())
        .collect();
    assert_eq!(carry(reader, &writer, &payloads), payloads);
    assert_eq!(pipe_size(&writer), pipe_max_size().max(64 * 1024));
}
