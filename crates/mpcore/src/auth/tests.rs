//! The handshake against the byte-level vectors of stock CPython (spec 3.7, produced by driving
//! 3.11.7's and 3.13.0's `deliver_challenge`/`answer_challenge` with the nonce
//! `bytes(range(N))`), and its parsing rules against stock 3.13.0 (its messages, in stock's
//! words, are the binding's: `tests/python/test_handshake_parity.py`).
//!
//! Our side runs on a `Connection`; the test plays the peer on the raw socket, frame by frame.
//! The state machines alone are tested without any I/O at the end.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use super::digest::split_digest_prefix;
use super::handshake::nonce_len;
use super::*;
use crate::error::{AuthError, Error};

const KEY: &[u8] = b"test-authkey-0123456789abcdef!!!";

fn key() -> AuthKey {
    AuthKey::new(KEY)
}

/// The bytes of hex digits written in groups (`"00000003 78797a"`).
fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

/// Asserts that `result` is an error matching `pattern` (the error shown if not).
macro_rules! assert_fails {
    ($result:expr, $pattern:pat $(if $guard:expr)?) => {
        let err = $result.unwrap_err();
        assert!(matches!(&err, $pattern $(if $guard)?), "{err:?}");
    };
}

/// `bytes(range(n))`, the nonce of the vectors.
fn nonce(n: u8) -> Vec<u8> {
    (0..n).collect()
}

const LEGACY_CHALLENGE: &str =
    "0000001f 234348414c4c454e474523 000102030405060708090a0b0c0d0e0f10111213";
const LEGACY_ANSWER: &str = "00000010 e187ac8ed4c61c959c4dcf2acad0f007";
const MODERN_ANSWER: &str = "00000028 7b7368613235367d \
     cf02ade8e44ab7869f5a850efda3aedacd42ca2c00a17b2a5381b6744dd9a82f";
const LEGACY_ANSWER_TO_MODERN: &str = "00000010 1b80bd1da7e88b9ec76c2669246a7752";
const WELCOME_FRAME: &str = "00000009 2357454c434f4d4523";
const FAILURE_FRAME: &str = "00000009 234641494c55524523";

fn modern_challenge() -> String {
    format!(
        "0000003b 234348414c4c454e474523 7b7368613235367d {}",
        hex::encode(nonce(40))
    )
}

/// What the peer does, in order.
enum Peer {
    /// Reads one frame and checks it is exactly these bytes (header included).
    Expects(String),
    /// Writes these bytes.
    Sends(String),
}
use Peer::{Expects, Sends};

fn read_frame(peer: &mut UnixStream) -> Vec<u8> {
    let mut header = [0; 4];
    peer.read_exact(&mut header).unwrap();
    let mut payload = vec![0; u32::from_be_bytes(header) as usize];
    peer.read_exact(&mut payload).unwrap();
    [&header[..], &payload].concat()
}

/// Runs `ours` on one end of a socket pair while the script plays the other end; returns what
/// `ours` returned, after checking the peer saw nothing more than the script expects.
fn against<T: Send>(
    script: &[Peer],
    ours: impl FnOnce(&Connection) -> Result<T> + Send,
) -> Result<T> {
    let (a, mut peer) = UnixStream::pair().unwrap();
    let conn = Connection::new(a.into(), true, true).unwrap();
    std::thread::scope(|scope| {
        let ours = scope.spawn(move || {
            let result = ours(&conn);
            drop(conn);
            result
        });
        for step in script {
            match step {
                Expects(wire) => {
                    assert_eq!(hex::encode(read_frame(&mut peer)), hex::encode(hex(wire)))
                }
                Sends(wire) => peer.write_all(&hex(wire)).unwrap(),
            }
        }
        let result = ours.join().unwrap();
        let mut rest = Vec::new();
        // Our side closing with the peer's bytes unread resets the connection: also an end.
        if let Err(err) = peer.read_to_end(&mut rest) {
            assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
        }
        assert_eq!(hex::encode(&rest), "", "nothing beyond the script");
        result
    })
}

/// A deliverer whose nonce is `bytes(range(N))`, as in the vectors.
fn deliverer(dialect: Dialect) -> Deliverer {
    Deliverer::with_nonce(key(), dialect, &nonce(nonce_len(dialect) as u8))
}

/// The challenge of [`deliverer`] without `#CHALLENGE#`, as `_create_response` takes it.
fn challenge_body(dialect: Dialect) -> Vec<u8> {
    deliverer(dialect).challenge()[CHALLENGE.len()..].to_vec()
}

fn deliver(dialect: Dialect) -> impl FnOnce(&Connection) -> Result<()> + Send {
    move |conn| super::deliver(conn, deliverer(dialect))
}

fn answer(conn: &Connection) -> Result<()> {
    answer_challenge(conn, &key(), Dialect::default())
}

fn answer_as_3_11(conn: &Connection) -> Result<()> {
    answer_challenge(conn, &key(), Dialect::Legacy)
}

#[test]
fn legacy_deliverer_matches_cpython_3_11() {
    let script = delivered(LEGACY_CHALLENGE, LEGACY_ANSWER, WELCOME_FRAME);
    against(&script, deliver(Dialect::Legacy)).unwrap();
}

#[test]
fn modern_deliverer_matches_cpython_3_13() {
    let script = delivered(&modern_challenge(), MODERN_ANSWER, WELCOME_FRAME);
    against(&script, deliver(Dialect::default())).unwrap();
}

#[test]
fn modern_deliverer_welcomes_a_legacy_answerer() {
    // A 3.11 client MACs the whole `{sha256}`+nonce with MD5 and sends the bare 16 bytes.
    let script = delivered(&modern_challenge(), LEGACY_ANSWER_TO_MODERN, WELCOME_FRAME);
    against(&script, deliver(Dialect::default())).unwrap();
}

/// The peer's side of a delivery: it expects `challenge`, answers `answer`, expects `verdict`.
fn delivered(challenge: &str, answer: &str, verdict: &str) -> [Peer; 3] {
    [
        Expects(challenge.into()),
        Sends(answer.into()),
        Expects(verdict.into()),
    ]
}

/// The peer's side of an answer: it challenges, expects `answer`, and sends `verdict`.
fn answered(challenge: &str, answer: &str, verdict: &str) -> [Peer; 3] {
    [
        Sends(challenge.into()),
        Expects(answer.into()),
        Sends(verdict.into()),
    ]
}

fn welcomed(challenge: &str, answer: &str) -> [Peer; 3] {
    answered(challenge, answer, WELCOME_FRAME)
}

#[test]
fn modern_answerer_matches_cpython_against_both_dialects() {
    against(&welcomed(LEGACY_CHALLENGE, LEGACY_ANSWER), answer).unwrap();
    against(&welcomed(&modern_challenge(), MODERN_ANSWER), answer).unwrap();
}

#[test]
fn modern_deliverer_accepts_every_allowed_digest() {
    // hmac.new(KEY, b'{sha256}' + bytes(range(40)), name).hexdigest() from stock 3.13.0.
    let answers = [
        ("7b6d64357d", "1b80bd1da7e88b9ec76c2669246a7752"),
        (
            "7b7368613338347d",
            "ed28d64fe128838ec206249e0ba40f2c850dd3f3d7f0133a114e7f2e2d881d789d9a308a8182cc085e94f397666e1f9f",
        ),
        (
            "7b736861335f3235367d",
            "6975b207862d845d34f6d1624d5b201d715109792108711d12ad7bc771e3f07a",
        ),
        (
            "7b736861335f3338347d",
            "9c8454cf56f9a504065056224be6787a3df8a5305d48f25455c20c28439d4ed7f8fd8c7ffa224e84c80392b0da006c26",
        ),
    ];
    for (prefix, mac) in answers {
        let response = hex(&format!("{prefix}{mac}"));
        let script = delivered(
            &modern_challenge(),
            &format!("{:08x}{}", response.len(), hex::encode(&response)),
            WELCOME_FRAME,
        );
        against(&script, deliver(Dialect::default())).unwrap_or_else(|e| panic!("{prefix}: {e}"));
    }
}

#[test]
fn answers_name_the_digest_of_the_challenge() {
    // multiprocessing.connection._create_response(KEY, b'{name}' + bytes(range(40))), 3.13.0.
    let expected = [
        (Digest::Md5, "7b6d64357d2d87b0e84e0a0b695011780ba4bfc56c"),
        (
            Digest::Sha384,
            "7b7368613338347d2c26e261e08e8ecc2e40a1f9222f4da014a9544e154d7aa54a602e6e817dd1a34218563279ae5415a3d4957fa6fa8801",
        ),
        (
            Digest::Sha3_256,
            "7b736861335f3235367dc990b351c97c102753bfaa8849a2c7e9bd1675528c97001df66f4e0fee3ca28b",
        ),
        (
            Digest::Sha3_384,
            "7b736861335f3338347d1e09bbcb0d34ef366fa5dd99758fd44c860679589e379f733128d410ee2eb54f03470b66914a5797e74f2aa14cfec8bf",
        ),
    ];
    for (digest, response) in expected {
        let challenge = challenge_body(Dialect::Modern(digest));
        assert_eq!(
            hex::encode(create_response(&key(), &challenge).unwrap()),
            response
        );
        verify_response(&key(), &challenge, &hex(response), Dialect::Modern(digest)).unwrap();
    }
}

#[test]
fn a_wrong_answer_is_told_failure_on_both_sides() {
    let wrong = AuthKey::new(b"not the key".to_vec());
    let wrong_mac = create_response(&wrong, &challenge_body(Dialect::default())).unwrap();
    let script = delivered(
        &modern_challenge(),
        &format!("00000028{}", hex::encode(&wrong_mac)),
        FAILURE_FRAME,
    );
    assert_fails!(
        against(&script, deliver(Dialect::default())),
        Error::Auth(AuthError::DigestReceivedWrong)
    );

    let legacy = delivered(LEGACY_CHALLENGE, LEGACY_ANSWER_TO_MODERN, FAILURE_FRAME);
    assert_fails!(
        against(&legacy, deliver(Dialect::Legacy)),
        Error::Auth(AuthError::DigestReceivedWrong)
    );

    let refused = answered(&modern_challenge(), MODERN_ANSWER, FAILURE_FRAME);
    assert_fails!(
        against(&refused, answer),
        Error::Auth(AuthError::DigestSentRejected)
    );
}

#[test]
fn the_legacy_deliverer_refuses_a_modern_answer() {
    // A 3.11 listener compares the whole response with a bare HMAC-MD5.
    let md5 = Digest::Md5.hmac(KEY, &nonce(20));
    let prefixed = [&b"{md5}"[..], &md5].concat();
    assert!(verify_response(&key(), &nonce(20), &md5, Dialect::Legacy).is_ok());
    assert_eq!(
        verify_response(&key(), &nonce(20), &prefixed, Dialect::Legacy),
        Err(AuthError::DigestReceivedWrong)
    );
}

#[test]
fn an_oversized_response_is_a_bad_length_not_a_failure() {
    let script = [
        Expects(modern_challenge()),
        Sends(format!("00000101{}", "00".repeat(257))),
    ];
    assert_fails!(
        against(&script, deliver(Dialect::default())),
        Error::BadMessageLength
    );
}

#[test]
fn the_answerer_checks_the_challenge_first() {
    assert_fails!(
        against(&[Sends("00000007 68656c6c6f2700".into())], answer),
        Error::Auth(AuthError::ExpectedChallenge { message }) if message == b"hello'\0"
    );
    let short = format!("0000001e 234348414c4c454e474523 {}", hex::encode(nonce(19)));
    assert_fails!(
        against(&[Sends(short)], answer),
        Error::Auth(AuthError::ChallengeTooShort { len: 19 })
    );
    let unknown = format!(
        "00000024 234348414c4c454e474523 7b756e6b6e6f776e7d {}",
        hex::encode(nonce(16))
    );
    assert_fails!(
        against(&[Sends(unknown)], answer),
        Error::Auth(AuthError::UnsupportedDigest { .. })
    );
}

#[test]
fn digest_prefixes_parse_as_in_cpython() {
    // multiprocessing.connection._get_digest_name_and_payload, stock 3.13.0.
    let ok: &[(&[u8], Option<Digest>, &[u8])] = &[
        (
            b"{sha256}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            Some(Digest::Sha256),
            b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ),
        (b"{sha3_384}yyyyy", Some(Digest::Sha3_384), b"yyyyy"),
        (b"{sha3_384}", Some(Digest::Sha3_384), b""),
        (b"{sha256}", Some(Digest::Sha256), b""),
        (b"{md5}", Some(Digest::Md5), b""),
        (b"aaaaaaaaaaaaaaaaaaaa", None, b"aaaaaaaaaaaaaaaaaaaa"),
        (b"bbbbbbbbbbbbbbbb", None, b"bbbbbbbbbbbbbbbb"),
        // 16 and 20 bytes are bare legacy messages even when they look prefixed
        (b"{md5}eeeeeeeeeee", None, b"{md5}eeeeeeeeeee"),
        (b"{md5}eeeeeeeeeeeeeee", None, b"{md5}eeeeeeeeeeeeeee"),
    ];
    for &(message, digest, rest) in ok {
        assert_eq!(
            split_digest_prefix(message),
            Ok((digest, rest)),
            "{message:?}"
        );
    }
    let refused: &[&[u8]] = &[
        b"{unknown}zzzzzzzzzzzzzzzzzzzz",
        b"{}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        b"ccccccccccccccccccccc",
        b"{sha256dddddddddddddddddddddddddddddd",
        b"x{sha256}ffffffffffffffffffff",
        b"{ sha256}abc",
        b"",
    ];
    for &message in refused {
        assert!(split_digest_prefix(message).is_err(), "{message:?}");
    }
    let err = split_digest_prefix(b"{sha512}abc").unwrap_err();
    assert_eq!(
        err,
        AuthError::UnsupportedDigest {
            message: b"{sha512}abc".to_vec()
        },
        "the whole message, for the binding to quote as stock does"
    );
}

#[test]
fn responses_of_the_wrong_length_name_the_digest() {
    let challenge = challenge_body(Dialect::default());
    let check = |response: &[u8]| {
        verify_response(&key(), &challenge, response, Dialect::default()).unwrap_err()
    };
    let wrong_length = |digest, expected, got| AuthError::WrongDigestLength {
        digest,
        expected,
        got,
    };
    assert_eq!(
        check(&[&b"{sha256}"[..], &[0; 16]].concat()),
        wrong_length(Digest::Sha256, 32, 16)
    );
    assert_eq!(check(&[0; 20]), wrong_length(Digest::Md5, 16, 20));
    assert_eq!(check(&[0; 16]), AuthError::DigestReceivedWrong);
    assert_eq!(
        check(&[&b"{sha256}"[..], &[0; 32]].concat()),
        AuthError::DigestReceivedWrong
    );
}

#[test]
fn nonces_are_random_and_of_the_dialects_length() {
    let challenges: Vec<Vec<u8>> = (0..2)
        .map(|_| {
            let (a, b) = crate::pipe(true).unwrap();
            std::thread::scope(|scope| {
                scope.spawn(|| {
                    let _ = deliver_challenge(&a, &key(), Dialect::default());
                });
                let challenge = b.recv_bytes(None).unwrap();
                drop(b);
                challenge
            })
        })
        .collect();
    assert_eq!(challenges[0].len(), 11 + 8 + 40);
    assert!(challenges[0].starts_with(b"#CHALLENGE#{sha256}"));
    assert_ne!(challenges[0], challenges[1]);
}

#[test]
fn auth_key_debug_never_shows_the_bytes() {
    let key = AuthKey::new(b"hunter2-the-secret".to_vec());
    let shown = format!("{key:?} {key:#?} {:?}", Some(&key));
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains(&format!("{:?}", key.as_bytes())), "{shown}");
    assert!(shown.contains("censored"), "{shown}");
    assert_eq!(AuthKey::random().unwrap().as_bytes().len(), 32);
}

#[test]
fn a_legacy_answerer_answers_every_challenge_with_a_bare_md5() {
    // CPython 3.11 against a 3.11 listener, and against a 3.12+ one (whose `{sha256}` prefix
    // it does not parse: it MACs all 48 bytes).
    against(&welcomed(LEGACY_CHALLENGE, LEGACY_ANSWER), answer_as_3_11).unwrap();
    let modern = welcomed(&modern_challenge(), LEGACY_ANSWER_TO_MODERN);
    against(&modern, answer_as_3_11).unwrap();
    // It has no length rule: a short challenge is answered too (and then rejected).
    let md5 = format!("00000010 {}", hex::encode(Digest::Md5.hmac(KEY, b"abc")));
    let short = "0000000e 234348414c4c454e474523 616263";
    let refused = answered(short, &md5, FAILURE_FRAME);
    assert_fails!(
        against(&refused, answer_as_3_11),
        Error::Auth(AuthError::DigestSentRejected)
    );
}

#[test]
fn the_state_machines_meet_without_any_io() {
    for deliverer_dialect in [
        Dialect::Legacy,
        Dialect::default(),
        Dialect::Modern(Digest::Sha3_384),
    ] {
        for answerer_dialect in [Dialect::Legacy, Dialect::default()] {
            let deliverer = Deliverer::new(key(), deliverer_dialect).unwrap();
            let answerer = Answerer::new(key(), answerer_dialect);
            let response = answerer.respond(deliverer.challenge()).unwrap();
            let verdict = deliverer.verify(&response);
            let pair = format!("{deliverer_dialect:?} / {answerer_dialect:?}");
            assert_eq!(verdict.result, Ok(()), "{pair}");
            assert_eq!(verdict.reply, WELCOME, "{pair}");
            answerer.finish(verdict.reply).unwrap();
        }
    }
}

#[test]
fn the_state_machines_produce_the_vectors() {
    let modern = deliverer(Dialect::default());
    assert_eq!(
        hex::encode(modern.challenge()),
        hex::encode(&hex(&modern_challenge())[4..])
    );
    let answer = Answerer::new(key(), Dialect::default())
        .respond(modern.challenge())
        .unwrap();
    assert_eq!(hex::encode(&answer), hex::encode(&hex(MODERN_ANSWER)[4..]));
    let legacy = deliverer(Dialect::Legacy);
    assert_eq!(
        hex::encode(legacy.challenge()),
        hex::encode(&hex(LEGACY_CHALLENGE)[4..])
    );
    let answer = Answerer::new(key(), Dialect::Legacy)
        .respond(legacy.challenge())
        .unwrap();
    assert_eq!(hex::encode(&answer), hex::encode(&hex(LEGACY_ANSWER)[4..]));
}

#[test]
fn a_wrong_key_gets_failure_and_both_sides_learn_it() {
    let deliverer = Deliverer::new(key(), Dialect::default()).unwrap();
    let answerer = Answerer::new(AuthKey::new(b"another key".to_vec()), Dialect::default());
    let response = answerer.respond(deliverer.challenge()).unwrap();
    let verdict = deliverer.verify(&response);
    assert_eq!(verdict.reply, FAILURE);
    assert_eq!(verdict.result, Err(AuthError::DigestReceivedWrong));
    assert_eq!(
        answerer.finish(verdict.reply),
        Err(AuthError::DigestSentRejected)
    );
}
