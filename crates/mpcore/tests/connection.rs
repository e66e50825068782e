//! `Connection` against raw bytes on the other end of a socket: the wire format, the framing
//! edge cases of stock CPython (checked against 3.11.7 and 3.13.0), flags and errors.

#![cfg(unix)]

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::fd::OwnedFd;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::time::{Duration, Instant};

use mpcore::{pipe, Connection, Error, RecvInto, RecvState, SendState};

/// A connection on one end of a socket pair, and the raw other end.
fn raw_pair() -> (Connection, UnixStream) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    (Connection::new(ours.into(), true, true).unwrap(), theirs)
}

/// Receives one message after the peer wrote `wire` and closed its side; also returns what the
/// receive left unread.
fn receive_from(wire: &[u8], maxlength: Option<usize>) -> (Result<Vec<u8>, Error>, Vec<u8>) {
    let (conn, mut peer) = raw_pair();
    peer.write_all(wire).unwrap();
    peer.shutdown(Shutdown::Write).unwrap();
    let result = conn.recv_bytes(maxlength);
    let mut rest = Vec::new();
    let mut raw = UnixStream::from(conn.into_owned_fd().expect("a duplex end stays open"));
    raw.read_to_end(&mut rest).unwrap();
    (result, rest)
}

/// The bytes of hex digits written in groups (`"00000003 78797a"`).
fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

#[test]
fn messages_go_out_with_a_big_endian_signed_length() {
    let (conn, mut peer) = raw_pair();
    conn.send_bytes(b"xyz").unwrap();
    conn.send_bytes(b"").unwrap();
    drop(conn);
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).unwrap();
    assert_eq!(wire, hex("00000003 78797a 00000000"));
}

#[test]
fn end_of_file_is_clean_only_at_the_start_of_a_read() {
    let cases: &[(&str, &str)] = &[
        ("", "Eof"),
        ("0000", "EofInMessage"),
        ("000000", "EofInMessage"),
        // the 8-byte length after the escape is a read of its own
        ("ffffffff", "Eof"),
        ("ffffffff 000000", "EofInMessage"),
        // and so is the payload
        ("00000005", "Eof"),
        ("00000005 6162", "EofInMessage"),
    ];
    for (wire, expected) in cases {
        let (result, _) = receive_from(&hex(wire), None);
        let got = match result {
            Err(Error::Eof) => "Eof",
            Err(Error::EofInMessage) => "EofInMessage",
            other => panic!("{wire}: {other:?}"),
        };
        assert_eq!(&got, expected, "wire {wire:?}");
    }
}

#[test]
fn framing_edge_cases_behave_as_stock() {
    // empty message
    assert_eq!(receive_from(&hex("00000000"), None).0.unwrap(), b"");
    // the escape is accepted for a small payload, and nothing past the message is read
    let (message, rest) = receive_from(&hex("ffffffff 0000000000000005 68656c6c6f 7a7a"), None);
    assert_eq!(
        (message.unwrap(), rest),
        (b"hello".to_vec(), b"zz".to_vec())
    );
    // negative lengths other than -1: an empty message, only the header consumed
    for header in ["fffffffe", "80000000"] {
        let (message, rest) = receive_from(&hex(&format!("{header} 616263")), Some(0));
        assert_eq!(
            (message.unwrap(), rest),
            (vec![], b"abc".to_vec()),
            "{header}"
        );
    }
}

#[test]
fn maxlength_is_checked_before_the_payload_is_read() {
    let (result, rest) = receive_from(&hex("00000005 68656c6c6f"), Some(4));
    assert!(matches!(result, Err(Error::BadMessageLength)), "{result:?}");
    assert_eq!(rest, b"hello", "the payload stays unread");
    let (result, rest) = receive_from(&hex("ffffffff 4000000000000000 616263"), Some(10));
    assert!(matches!(result, Err(Error::BadMessageLength)), "{result:?}");
    assert_eq!(rest, b"abc");
    assert_eq!(
        receive_from(&hex("00000005 68656c6c6f"), Some(5))
            .0
            .unwrap(),
        b"hello"
    );
}

#[test]
fn a_bad_length_makes_the_connection_unreadable_or_closed() {
    let (conn, mut peer) = raw_pair();
    peer.write_all(&hex("00000005 68656c6c6f")).unwrap();
    assert!(matches!(
        conn.recv_bytes(Some(1)),
        Err(Error::BadMessageLength)
    ));
    assert!(!conn.readable() && conn.writable() && !conn.is_closed());
    assert!(matches!(conn.recv_bytes(None), Err(Error::WriteOnly)));
    conn.send_bytes(b"still writable").unwrap();

    let (reader, writer) = pipe(false).unwrap();
    writer.send_bytes(b"too long").unwrap();
    assert!(matches!(
        reader.recv_bytes(Some(1)),
        Err(Error::BadMessageLength)
    ));
    assert!(
        reader.is_closed(),
        "a read-only end is closed, as in CPython"
    );
    assert!(matches!(reader.fileno(), Err(Error::Closed)));
}

/// Each `write` on a datagram socket is one datagram, so the receiver sees the writes.
fn writes_for_payload(len: usize) -> Vec<usize> {
    let (ours, theirs) = UnixDatagram::pair().unwrap();
    theirs
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let conn = Connection::new(OwnedFd::from(ours), true, true).unwrap();
    conn.send_bytes(&vec![7; len]).unwrap();
    let mut sizes = Vec::new();
    let mut buf = vec![0; len + 64];
    while let Ok(n) = theirs.recv(&mut buf) {
        sizes.push(n);
    }
    sizes
}

#[test]
fn header_and_payload_share_one_write_up_to_16384_bytes() {
    assert_eq!(writes_for_payload(0), [4]);
    assert_eq!(writes_for_payload(1), [5]);
    assert_eq!(writes_for_payload(16384), [16388]);
    assert_eq!(writes_for_payload(16385), [4, 16385]);
}

#[test]
fn several_mebibytes_arrive_intact_through_a_pipe() {
    let (reader, writer) = pipe(false).unwrap();
    let message: Vec<u8> = (0..5 * 1024 * 1024 + 3)
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    let expected = message.clone();
    let sender = std::thread::spawn(move || writer.send_bytes(&message));
    assert_eq!(reader.recv_bytes(None).unwrap(), expected);
    sender.join().unwrap().unwrap();
}

#[test]
fn recv_bytes_into_hands_back_a_message_that_does_not_fit() {
    let (left, right) = pipe(true).unwrap();
    left.send_bytes(b"hello").unwrap();
    left.send_bytes(b"hello world").unwrap();
    left.send_bytes(b"next").unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(
        right.recv_bytes_into(&mut buf).unwrap(),
        RecvInto::Received(5)
    );
    assert_eq!(&buf[..5], b"hello");
    assert_eq!(
        right.recv_bytes_into(&mut buf).unwrap(),
        RecvInto::BufferTooShort(b"hello world".to_vec())
    );
    assert_eq!(&buf[..5], b"hello", "the buffer is left alone");
    assert_eq!(
        right.recv_bytes(None).unwrap(),
        b"next",
        "the long one was consumed"
    );
}

/// A non-blocking socket and the raw other end: receives that find the message incomplete
/// fail with a resumable `WouldBlock`, as an interrupted blocking one does.
fn nonblocking_socket() -> (OwnedFd, UnixStream) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    (ours.into(), theirs)
}

/// [`nonblocking_socket`] with a connection on our end.
fn nonblocking_pair() -> (Connection, UnixStream) {
    let (ours, theirs) = nonblocking_socket();
    (Connection::new(ours, true, true).unwrap(), theirs)
}

fn would_block<T: std::fmt::Debug>(result: Result<T, Error>) -> bool {
    matches!(&result, Err(Error::Os(e)) if e.kind() == std::io::ErrorKind::WouldBlock)
}

#[test]
fn recv_into_fills_the_callers_buffer_and_resumes_with_it() {
    let (fd, mut peer) = nonblocking_socket();
    let fd = std::os::fd::AsFd::as_fd(&fd);
    let mut state = RecvState::new();
    let mut buf = *b"..........";
    peer.write_all(&hex("00000006 616263")).unwrap();
    assert!(would_block(state.recv_into(fd, &mut buf)));
    assert_eq!(
        &buf, b"abc.......",
        "the payload goes straight into the buffer"
    );
    peer.write_all(b"def").unwrap();
    assert_eq!(
        state.recv_into(fd, &mut buf).unwrap(),
        RecvInto::Received(6)
    );
    assert_eq!(&buf, b"abcdef....");
    assert!(!state.in_progress());
}

#[test]
fn a_message_begun_by_one_receive_is_finished_by_the_other() {
    // recv_bytes_into stops part-way; recv_bytes finishes the message from where it stopped.
    let (conn, mut peer) = nonblocking_pair();
    peer.write_all(&hex("00000006 616263")).unwrap();
    let mut buf = [0u8; 16];
    assert!(would_block(conn.recv_bytes_into(&mut buf)));
    peer.write_all(b"def").unwrap();
    assert_eq!(conn.recv_bytes(None).unwrap(), b"abcdef");

    // And the other way round.
    peer.write_all(&hex("00000004 7879")).unwrap();
    assert!(would_block(conn.recv_bytes(None)));
    peer.write_all(b"zz").unwrap();
    assert_eq!(
        conn.recv_bytes_into(&mut buf).unwrap(),
        RecvInto::Received(4)
    );
    assert_eq!(&buf[..4], b"xyzz");

    // A message too long for the buffer, interrupted, then handed back whole.
    peer.write_all(&hex("00000012 30313233")).unwrap();
    let mut small = [0u8; 4];
    assert!(would_block(conn.recv_bytes_into(&mut small)));
    peer.write_all(b"45678901234567").unwrap();
    assert_eq!(
        conn.recv_bytes_into(&mut small).unwrap(),
        RecvInto::BufferTooShort(b"012345678901234567".to_vec())
    );
    assert_eq!(small, [0; 4], "the buffer is left alone");
}

#[test]
fn poll_waits_for_data_or_end_of_file() {
    let (left, right) = pipe(true).unwrap();
    let start = Instant::now();
    assert!(!right.poll(Some(Duration::from_millis(50))).unwrap());
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert!(!right.poll(Some(Duration::ZERO)).unwrap());
    left.send_bytes(b"x").unwrap();
    assert!(right.poll(Some(Duration::ZERO)).unwrap());
    assert_eq!(right.recv_bytes(None).unwrap(), b"x");
    drop(left);
    assert!(right.poll(None).unwrap(), "end of file counts as ready");
    assert!(matches!(right.recv_bytes(None), Err(Error::Eof)));
}

#[test]
fn one_way_pipes_refuse_the_other_direction() {
    let (reader, writer) = pipe(false).unwrap();
    assert!(reader.readable() && !reader.writable());
    assert!(!writer.readable() && writer.writable());
    assert!(matches!(reader.send_bytes(b"x"), Err(Error::ReadOnly)));
    assert!(matches!(writer.recv_bytes(None), Err(Error::WriteOnly)));
    assert!(matches!(writer.poll(None), Err(Error::WriteOnly)));
    let (fd, _) = UnixStream::pair().unwrap();
    assert!(matches!(
        Connection::new(fd.into(), false, false),
        Err(Error::NeitherReadableNorWritable)
    ));
}

#[test]
fn a_closed_connection_refuses_everything() {
    let (mut conn, _peer) = raw_pair();
    conn.close();
    conn.close();
    assert!(conn.is_closed());
    assert!(matches!(conn.send_bytes(b"x"), Err(Error::Closed)));
    assert!(matches!(conn.recv_bytes(None), Err(Error::Closed)));
    assert!(matches!(conn.poll(None), Err(Error::Closed)));
    assert!(matches!(conn.fileno(), Err(Error::Closed)));
    assert_eq!(std::os::fd::AsRawFd::as_raw_fd(&conn), -1);
}

#[test]
fn a_send_that_would_block_resumes_with_the_same_buffer_only() {
    let (ours, theirs) = UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    let fd = OwnedFd::from(ours);
    let message: Vec<u8> = (0..8 * 1024 * 1024).map(|i| (i % 253) as u8).collect();
    let mut state = SendState::new();
    let err = state
        .send(std::os::fd::AsFd::as_fd(&fd), &message)
        .unwrap_err();
    assert!(err.is_resumable(), "{err:?}");
    assert!(state.in_progress());
    assert!(matches!(
        state.send(std::os::fd::AsFd::as_fd(&fd), b"other"),
        Err(Error::SendPending)
    ));
    assert!(state.in_progress(), "a refused resume keeps the progress");

    let receiver = std::thread::spawn(move || {
        Connection::new(theirs.into(), true, true)
            .unwrap()
            .recv_bytes(None)
            .unwrap()
    });
    loop {
        match state.send(std::os::fd::AsFd::as_fd(&fd), &message) {
            Ok(()) => break,
            Err(err) if err.is_resumable() => std::thread::sleep(Duration::from_millis(1)),
            Err(err) => panic!("{err:?}"),
        }
    }
    assert!(!state.in_progress());
    assert_eq!(receiver.join().unwrap(), message);
}

#[test]
fn a_receive_that_would_block_resumes_where_it_stopped() {
    let (fd, mut peer) = nonblocking_socket();
    let fd = std::os::fd::AsFd::as_fd(&fd);
    let mut state = RecvState::new();
    let wire = hex("0000000a 30313233343536373839 00000001 21");
    // Feed the two messages in awkward pieces: inside the header, inside the payload.
    let mut received = Vec::new();
    for piece in [
        &wire[..2],
        &wire[2..7],
        &wire[7..14],
        &wire[14..16],
        &wire[16..],
    ] {
        peer.write_all(piece).unwrap();
        loop {
            match state.recv(fd, None) {
                Ok(message) => received.push(message),
                Err(err) if err.is_resumable() => break,
                Err(err) => panic!("{err:?}"),
            }
        }
    }
    assert_eq!(received, [b"0123456789".to_vec(), b"!".to_vec()]);
    assert!(!state.in_progress());
}

#[test]
fn a_send_that_wrote_nothing_may_be_replaced() {
    let (mut ours, theirs) = UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    // Fill the socket buffer so that the next write cannot transfer anything.
    let mut filled = 0;
    loop {
        match ours.write(&[0; 4096]) {
            Ok(n) => filled += n,
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(err) => panic!("{err}"),
        }
    }
    let fd = OwnedFd::from(ours);
    let fd = std::os::fd::AsFd::as_fd(&fd);
    let mut state = SendState::new();
    assert!(state.send(fd, b"first").unwrap_err().is_resumable());
    assert!(!state.in_progress());
    let reader = std::thread::spawn(move || {
        let mut wire = Vec::new();
        (&theirs)
            .take(filled as u64 + 5)
            .read_to_end(&mut wire)
            .unwrap();
        wire.split_off(filled)
    });
    loop {
        match state.send(fd, b"Z") {
            Ok(()) => break,
            Err(err) if err.is_resumable() => std::thread::sleep(Duration::from_millis(1)),
            Err(err) => panic!("{err:?}"),
        }
    }
    assert_eq!(reader.join().unwrap(), hex("00000001 5a"));
}

#[test]
fn another_thread_cannot_finish_a_half_sent_message() {
    let (ours, theirs) = UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    let conn = Connection::new(ours.into(), true, true).unwrap();
    let message = vec![1u8; 4 * 1024 * 1024];
    assert!(conn.send_bytes(&message).unwrap_err().is_resumable());
    std::thread::scope(|scope| {
        let other = scope.spawn(|| conn.send_bytes(&vec![2u8; message.len()]));
        assert!(matches!(other.join().unwrap(), Err(Error::SendPending)));
    });
    let receiver = std::thread::spawn(move || {
        let peer = Connection::new(theirs.into(), true, true).unwrap();
        (
            peer.recv_bytes(None).unwrap(),
            peer.recv_bytes(None).unwrap(),
        )
    });
    loop {
        match conn.send_bytes(&message) {
            Ok(()) => break,
            Err(err) if err.is_resumable() => std::thread::sleep(Duration::from_millis(1)),
            Err(err) => panic!("{err:?}"),
        }
    }
    std::thread::scope(|scope| {
        // Once the message is out, any thread may send again.
        let other = scope.spawn(|| loop {
            match conn.send_bytes(b"next") {
                Err(err) if err.is_resumable() => std::thread::sleep(Duration::from_millis(1)),
                other => break other,
            }
        });
        other.join().unwrap().unwrap();
    });
    let (first, second) = receiver.join().unwrap();
    assert!(first == message);
    assert_eq!(second, b"next");
}

/// Receives every message of `wire` into destinations of the receiver's own (as the Python
/// binding does with a fresh `bytes`), the peer writing `wire` in `pieces` on a non-blocking
/// socket, so every phase is interrupted and resumed.
fn receive_into_own_buffers(
    wire: &[u8],
    pieces: &[usize],
    maxlength: Option<usize>,
) -> Vec<Result<Vec<u8>, String>> {
    use std::mem::MaybeUninit;
    let (fd, mut peer) = nonblocking_socket();
    let fd = std::os::fd::AsFd::as_fd(&fd);
    let mut state = RecvState::new();
    let mut results = Vec::new();
    let mut dest: Option<Vec<MaybeUninit<u8>>> = None;
    let mut start = 0;
    for &end in pieces.iter().chain([&wire.len()]) {
        peer.write_all(&wire[start..end]).unwrap();
        start = end;
        loop {
            if dest.is_none() {
                match state.recv_header(fd, maxlength) {
                    Ok(len) => dest = Some(vec![MaybeUninit::uninit(); len]),
                    Err(err) if err.is_resumable() => break,
                    Err(err) => {
                        results.push(Err(format!("{err:?}")));
                        return results;
                    }
                }
            }
            let buf = dest.as_mut().unwrap();
            match state.recv_payload_into(fd, buf) {
                Ok(()) => {
                    // SAFETY: recv_payload_into returned Ok, so every byte is initialised.
                    let bytes = buf.iter().map(|b| unsafe { b.assume_init() }).collect();
                    results.push(Ok(bytes));
                    dest = None;
                }
                Err(err) if err.is_resumable() => break,
                Err(err) => {
                    results.push(Err(format!("{err:?}")));
                    return results;
                }
            }
        }
    }
    peer.shutdown(Shutdown::Write).unwrap();
    results
}

#[test]
fn a_receive_into_the_callers_buffer_resumes_in_header_and_payload() {
    let wire = hex("0000000a 30313233343536373839 00000000 ffffffff 0000000000000001 21");
    let received = receive_into_own_buffers(&wire, &[2, 7, 14, 16, 21, 25], None);
    assert_eq!(
        received,
        [
            Ok(b"0123456789".to_vec()),
            Ok(Vec::new()),
            Ok(b"!".to_vec())
        ]
    );
}

#[test]
fn a_receive_into_the_callers_buffer_checks_maxlength_from_the_header_alone() {
    let wire = hex("00000005 68656c6c6f");
    let received = receive_into_own_buffers(&wire, &[4], Some(4));
    assert_eq!(received, [Err("BadMessageLength".to_owned())]);
}

#[test]
fn a_receive_into_the_callers_buffer_tells_eof_inside_a_payload() {
    for (wire, expected) in [
        // The payload read gets nothing at all: stock raises EOFError.
        (hex("00000003"), "Eof"),
        // It gets part of it: stock's "got end of file during message".
        (hex("00000003 6869"), "EofInMessage"),
    ] {
        let (ours, mut peer) = UnixStream::pair().unwrap();
        peer.write_all(&wire).unwrap();
        peer.shutdown(Shutdown::Write).unwrap();
        let fd = OwnedFd::from(ours);
        let fd = std::os::fd::AsFd::as_fd(&fd);
        let mut state = RecvState::new();
        let len = state.recv_header(fd, None).unwrap();
        let mut dest = vec![std::mem::MaybeUninit::uninit(); len];
        let err = state.recv_payload_into(fd, &mut dest).unwrap_err();
        assert_eq!(format!("{err:?}"), expected);
        assert!(
            !state.in_progress(),
            "a failed message leaves the state ready for the next"
        );
    }
}

/// The wait-free tries a binding makes while it holds a lock of its own (Python's GIL): they
/// move only what is already there, say `WouldBlock` otherwise, and the blocking calls then
/// carry on from the same state without losing or repeating a byte. On a blocking pipe and a
/// blocking socket alike, whose flags they must not touch.
#[cfg(target_os = "linux")]
#[test]
fn wait_free_tries_move_only_what_is_there_and_the_blocking_calls_go_on() {
    use std::mem::MaybeUninit;
    use std::os::fd::{AsFd, AsRawFd};

    fn would_block<T: std::fmt::Debug>(result: Result<T, Error>) -> bool {
        matches!(&result, Err(Error::Os(e)) if e.kind() == std::io::ErrorKind::WouldBlock)
            && result.as_ref().unwrap_err().is_resumable()
    }

    let (reader, writer) = pipe(false).unwrap();
    let (sock_a, mut sock_b) = UnixStream::pair().unwrap();
    let sock_a = OwnedFd::from(sock_a);
    for fd in [reader.as_fd().unwrap(), sock_a.as_fd()] {
        let mut state = RecvState::new();
        assert!(
            would_block(state.try_recv_header(fd, None)),
            "nothing there yet"
        );
        // Half a header arrives: the try keeps it and waits for the rest.
        if fd.as_raw_fd() == sock_a.as_raw_fd() {
            sock_b.write_all(&hex("0000")).unwrap();
        } else {
            writer.send_bytes(b"hello").unwrap(); // a whole frame through the pipe instead
        }
        let len = match state.try_recv_header(fd, None) {
            Ok(len) => len,
            other => {
                assert!(would_block(other));
                sock_b.write_all(&hex("0005 6865")).unwrap();
                state.try_recv_header(fd, None).unwrap()
            }
        };
        assert_eq!(len, 5);
        let mut dest = [MaybeUninit::<u8>::uninit(); 5];
        if fd.as_raw_fd() == sock_a.as_raw_fd() {
            assert!(
                would_block(state.try_recv_payload_into(fd, &mut dest)),
                "3 bytes missing"
            );
            sock_b.write_all(b"llo").unwrap();
            state.recv_payload_into(fd, &mut dest).unwrap();
        } else {
            state.try_recv_payload_into(fd, &mut dest).unwrap();
        }
        // SAFETY: a successful receive initialised all of `dest`.
        let got: Vec<u8> = dest.iter().map(|b| unsafe { b.assume_init() }).collect();
        assert_eq!(got, b"hello");
    }

    // A send that does not fit the socket's room writes what fits, says WouldBlock, and the
    // blocking send finishes the same frame once the peer reads.
    let payload = vec![7u8; 4 << 20];
    let mut state = SendState::new();
    assert!(would_block(state.try_send(sock_a.as_fd(), &payload)));
    assert!(state.in_progress(), "part of the frame went out");
    let reader_thread = std::thread::spawn(move || {
        let mut all = Vec::new();
        sock_b.read_to_end(&mut all).unwrap();
        all
    });
    state.send(sock_a.as_fd(), &payload).unwrap();
    drop(sock_a);
    let wire = reader_thread.join().unwrap();
    assert_eq!(&wire[..4], &hex("00400000")[..]);
    assert_eq!(wire.len(), 4 + payload.len());
    assert!(wire[4..].iter().all(|&b| b == 7));
}
