//! Both sides of the handshake, in both dialects, against a peer that sends arbitrary bytes.
//!
//! The peer's bytes (arbitrary frames, raw bytes, bogus lengths, and the protocol's own words
//! to get the fuzzer past them) wait in a socket, followed by end of file; our side runs
//! `deliver_challenge` or `answer_challenge` over a `Connection` on the other end. Whatever
//! the bytes, it must end without a panic, and:
//!
//! * a deliverer never accepts (the peer cannot know the MAC of a fresh random nonce), sends a
//!   well-formed challenge of its dialect, and `#FAILURE#` once it has read an answer;
//! * an answerer succeeds only if the peer's first message is a challenge it can answer (any
//!   challenge in the legacy dialect; one of 20 bytes or more naming an allowed digest, or a
//!   bare legacy one, in the modern dialect) and the second is `#WELCOME#`, and sends nothing
//!   but the one correct answer.

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;

use mpcore::auth::{
    create_response, CHALLENGE, FAILURE, LEGACY_NONCE_LEN, MAX_HANDSHAKE_MESSAGE, MODERN_NONCE_LEN,
    WELCOME,
};
use mpcore::{answer_challenge, deliver_challenge, AuthKey, Connection, Dialect, Digest};

/// The dialect of a selector byte: the five modern digests, then the legacy dialect.
pub fn dialect_of(selector: u8) -> Dialect {
    match selector % 6 {
        5 => Dialect::Legacy,
        n => Dialect::Modern(Digest::ALL[usize::from(n)]),
    }
}

/// What an answerer of `dialect` answers to `challenge` (the message after `#CHALLENGE#`),
/// by the reference rules; `None` if it refuses it.
pub fn expected_answer(key: &AuthKey, dialect: Dialect, challenge: &[u8]) -> Option<Vec<u8>> {
    match dialect {
        Dialect::Legacy => Some(Digest::Md5.hmac(key.as_bytes(), challenge)),
        Dialect::Modern(_) if challenge.len() < LEGACY_NONCE_LEN => None,
        Dialect::Modern(_) => create_response(key, challenge).ok(),
    }
}

use super::reference::{self, End};
use super::Input;

pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let setup = input.byte();
    let key = AuthKey::new(input.chunk());
    let dialect = dialect_of(setup);
    let deliver = setup & 0x80 != 0;
    let wire = peer_wire(&mut input);

    let (ours, mut peer) = UnixStream::pair().unwrap();
    peer.write_all(&wire).unwrap();
    peer.shutdown(Shutdown::Write).unwrap();
    let conn = Connection::new(ours.into(), true, true).unwrap();
    let result = match deliver {
        true => deliver_challenge(&conn, &key, dialect),
        false => answer_challenge(&conn, &key, dialect),
    };
    // Everything our side sent is in the socket by now. Read it before closing our end, whose
    // unread input would make the close a reset.
    let sent = sent_so_far(&mut peer);
    drop(conn);
    let (sent, end) = reference::parse(&sent, None, true);
    assert_eq!(end, End::Eof, "we send whole frames only");
    // What our side reads of the peer's bytes: messages of at most 256 bytes.
    let (received, _) = reference::parse(&wire, Some(MAX_HANDSHAKE_MESSAGE), true);
    match deliver {
        true => check_deliverer(result, dialect, &sent, &received),
        false => check_answerer(result, &key, dialect, &sent, &received),
    }
}

fn check_deliverer(
    result: mpcore::Result<()>,
    dialect: Dialect,
    sent: &[Vec<u8>],
    received: &[Vec<u8>],
) {
    assert!(result.is_err(), "a peer without the nonce was accepted");
    let challenge = sent[0]
        .strip_prefix(CHALLENGE)
        .expect("the first message is a challenge");
    match dialect {
        Dialect::Legacy => assert_eq!(challenge.len(), LEGACY_NONCE_LEN),
        Dialect::Modern(digest) => {
            let prefix = format!("{{{}}}", digest.name());
            assert!(challenge.starts_with(prefix.as_bytes()));
            assert_eq!(challenge.len(), prefix.len() + MODERN_NONCE_LEN);
        }
    }
    match received.is_empty() {
        true => assert_eq!(sent.len(), 1, "no answer came, so no verdict"),
        false => assert_eq!(&sent[1..], [FAILURE.to_vec()], "an answer came: #FAILURE#"),
    }
}

fn check_answerer(
    result: mpcore::Result<()>,
    key: &AuthKey,
    dialect: Dialect,
    sent: &[Vec<u8>],
    received: &[Vec<u8>],
) {
    let challenge = received.first().and_then(|m| m.strip_prefix(CHALLENGE));
    let answer = challenge.and_then(|c| expected_answer(key, dialect, c));
    match &answer {
        Some(answer) => assert_eq!(sent, std::slice::from_ref(answer), "the one correct answer"),
        None => assert!(sent.is_empty(), "nothing sent to a bad challenge"),
    }
    let welcomed = answer.is_some() && received.get(1).is_some_and(|m| m == WELCOME);
    assert_eq!(result.is_ok(), welcomed, "{result:?}");
}

fn sent_so_far(peer: &mut UnixStream) -> Vec<u8> {
    peer.set_nonblocking(true).unwrap();
    let mut sent = Vec::new();
    match peer.read_to_end(&mut sent) {
        Ok(_) => {}
        Err(err) => assert_eq!(err.kind(), ErrorKind::WouldBlock, "{err}"),
    }
    sent
}

/// The peer's bytes: a sequence of pieces, each chosen by a tag byte.
fn peer_wire(input: &mut Input<'_>) -> Vec<u8> {
    let mut wire = Vec::new();
    while !input.is_empty() {
        match input.byte() % 6 {
            0 => wire.extend(reference::frame(input.chunk())),
            1 => wire.extend_from_slice(input.chunk()),
            2 => {
                // A length escape announcing anything, then whatever follows.
                wire.extend_from_slice(&(-1i32).to_be_bytes());
                wire.extend_from_slice(&input.u64().to_be_bytes());
            }
            3 => wire.extend(reference::frame(&[CHALLENGE, input.chunk()].concat())),
            4 => wire.extend(reference::frame(WELCOME)),
            _ => wire.extend(reference::frame(FAILURE)),
        }
    }
    wire
}
