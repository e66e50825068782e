//! `RecvState::recv_payload_into` given a destination of the wrong length (or called before
//! the header) refuses with an error, in release builds too, and reads nothing: the stream
//! stays in step and the same message can still be received whole.

#![cfg(unix)]

use std::io;
use std::mem::MaybeUninit;

use mpcore::{pipe, Error, RecvState};

fn uninit(len: usize) -> Vec<MaybeUninit<u8>> {
    vec![MaybeUninit::uninit(); len]
}

fn bytes(dest: &[MaybeUninit<u8>]) -> Vec<u8> {
    // SAFETY: only called on destinations a successful receive filled completely.
    dest.iter().map(|b| unsafe { b.assume_init() }).collect()
}

fn is_invalid_input(result: Result<(), Error>) -> bool {
    matches!(result, Err(Error::Os(err)) if err.kind() == io::ErrorKind::InvalidInput)
}

#[test]
fn a_destination_of_another_length_is_refused_and_nothing_is_read() {
    let (reader, writer) = pipe(false).unwrap();
    writer.send_bytes(b"hello").unwrap();
    writer.send_bytes(b"next").unwrap();
    let fd = reader.as_fd().unwrap();
    let mut state = RecvState::new();
    assert_eq!(state.recv_header(fd, None).unwrap(), 5);
    for wrong in [0, 3, 6, 1 << 20] {
        let mut dest = uninit(wrong);
        assert!(
            is_invalid_input(state.recv_payload_into(fd, &mut dest)),
            "{wrong} bytes"
        );
        assert!(is_invalid_input(state.try_recv_payload_into(fd, &mut dest)));
    }
    let mut dest = uninit(5);
    state.recv_payload_into(fd, &mut dest).unwrap();
    assert_eq!(bytes(&dest), b"hello");
    assert_eq!(state.recv(fd, None).unwrap(), b"next");
}

#[test]
fn a_payload_before_its_header_is_refused_and_nothing_is_read() {
    let (reader, writer) = pipe(false).unwrap();
    writer.send_bytes(b"abc").unwrap();
    let fd = reader.as_fd().unwrap();
    let mut state = RecvState::new();
    let mut dest = uninit(4);
    assert!(is_invalid_input(state.recv_payload_into(fd, &mut dest)));
    assert!(!state.in_progress());
    assert_eq!(state.recv(fd, None).unwrap(), b"abc");
}

#[test]
fn recv_does_not_take_over_a_payload_part_way_into_a_destination() {
    use std::io::Write;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    let (ours, mut peer) = UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    peer.write_all(&[0, 0, 0, 6, b'a', b'b', b'c']).unwrap();
    let fd = ours.as_fd();
    let mut state = RecvState::new();
    assert_eq!(state.recv_header(fd, None).unwrap(), 6);
    let mut dest = uninit(6);
    let partial = state.recv_payload_into(fd, &mut dest);
    assert!(
        matches!(partial, Err(err) if err.is_resumable()),
        "half of it came"
    );
    assert!(
        matches!(state.recv(fd, None), Err(Error::Os(err)) if err.kind() == io::ErrorKind::InvalidInput)
    );
    peer.write_all(b"def").unwrap();
    state.recv_payload_into(fd, &mut dest).unwrap();
    assert_eq!(bytes(&dest), b"abcdef");
}
