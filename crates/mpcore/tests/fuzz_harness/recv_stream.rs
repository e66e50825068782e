//! `RecvState` fed an arbitrary byte stream, split at arbitrary points, through a real socket.
//!
//! The stream goes into one end of a socket pair piece by piece; after each piece, the other
//! end (non-blocking) receives until it would block, so every message can be cut anywhere:
//! in its 4-byte length, in the escape's 8-byte length, in its payload. Both ways of receiving
//! are driven, as the binding drives them: `recv` (into a `Vec`), and `recv_header` then
//! `recv_payload_into` a destination of the announced length (`recv` for long payloads), each
//! either waiting (on a non-blocking descriptor, `WouldBlock`) or trying first without
//! waiting (`try_*`). What arrives must be exactly the reference model's messages, and the end
//! (end of file, a length over `maxlength`) must be the model's, with no byte lost or repeated
//! across the resumptions.

use std::io::Write;
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;

use mpcore::{Error, RecvState};

use super::reference::{self, End};
use super::Input;

/// Payloads up to this size are received into a destination of their length; longer ones
/// with `recv`, which grows its buffer as bytes arrive (a frame may announce 2**64 - 1).
const INTO_LIMIT: usize = 1 << 16;

pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let flags = input.byte();
    let mut receiver = Receiver {
        into: flags & 1 != 0,
        try_first: flags & 2 != 0,
        maxlength: (flags & 4 != 0).then(|| usize::from(input.u16())),
        state: RecvState::new(),
        dest: None,
        messages: Vec::new(),
    };
    let eof = flags & 8 != 0;
    let mut pieces = Vec::new();
    while !input.is_empty() {
        pieces.push(input.chunk());
    }
    let stream = pieces.concat();
    let (expected, expected_end) = reference::parse(&stream, receiver.maxlength, eof);

    let (ours, mut peer) = UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    let mut end = None;
    for piece in pieces {
        peer.write_all(piece).unwrap();
        end = receiver.drain(ours.as_fd());
        if end.is_some() {
            break;
        }
    }
    if end.is_none() && eof {
        peer.shutdown(Shutdown::Write).unwrap();
        end = receiver.drain(ours.as_fd());
        assert!(end.is_some(), "end of file must end the receive");
    }
    assert_eq!(receiver.messages, expected);
    assert_eq!(end.unwrap_or(End::NeedMore), expected_end);
}

struct Receiver {
    into: bool,
    try_first: bool,
    maxlength: Option<usize>,
    state: RecvState,
    /// The destination of a payload under way, kept across resumptions (`into` only).
    dest: Option<Vec<MaybeUninit<u8>>>,
    messages: Vec<Vec<u8>>,
}

impl Receiver {
    /// Receives until the socket has nothing more for now (`None`) or the stream ends.
    fn drain(&mut self, fd: BorrowedFd<'_>) -> Option<End> {
        loop {
            let result = match self.into {
                true => self.receive_into(fd),
                false => self.state.recv(fd, self.maxlength),
            };
            match result {
                Ok(message) => self.messages.push(message),
                Err(err) if err.is_resumable() => return None,
                Err(err) => return Some(end_of(err)),
            }
        }
    }

    fn receive_into(&mut self, fd: BorrowedFd<'_>) -> Result<Vec<u8>, Error> {
        if self.dest.is_none() {
            let maxlength = self.maxlength;
            let try_first = self.try_first;
            let state = &mut self.state;
            let len = match try_first {
                true => match state.try_recv_header(fd, maxlength) {
                    Err(err) if err.is_resumable() => state.recv_header(fd, maxlength),
                    done => done,
                },
                false => state.recv_header(fd, maxlength),
            }?;
            if len > INTO_LIMIT {
                return self.state.recv(fd, None);
            }
            self.dest = Some(vec![MaybeUninit::uninit(); len]);
        }
        let dest = self.dest.as_mut().unwrap();
        let state = &mut self.state;
        let result = match self.try_first {
            true => match state.try_recv_payload_into(fd, dest) {
                Err(err) if err.is_resumable() => state.recv_payload_into(fd, dest),
                done => done,
            },
            false => state.recv_payload_into(fd, dest),
        };
        match result {
            Err(err) if err.is_resumable() => Err(err),
            other => {
                let dest = self.dest.take().unwrap();
                // SAFETY: on Ok, recv_payload_into has initialised all of `dest`.
                other.map(|()| dest.iter().map(|b| unsafe { b.assume_init() }).collect())
            }
        }
    }
}

fn end_of(err: Error) -> End {
    match err {
        Error::Eof => End::Eof,
        Error::EofInMessage => End::EofInMessage,
        Error::BadMessageLength => End::BadMessageLength,
        other => panic!("unexpected error {other:?}"),
    }
}
