//! Our `Listener` and `connect` against real stock CPython 3.11 (legacy handshake) and 3.13
//! (modern handshake) peers, over AF_INET and AF_UNIX, in both directions: payloads of every
//! interesting size arrive intact both ways, and a wrong authkey fails on both sides at once.
//!
//! Needs stock CPython 3.11 and 3.13 from pyenv (fails, never skips, without them), as every
//! `cpython_*.rs` test does: `cargo test -p mpcore --test 'cpython_*'` runs them alone.

#![cfg(unix)]

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use mpcore::{connect, Address, AuthError, AuthKey, Error, Listener};
use support::{pattern, sizes_arg, Peer, KEY, SIZES, WRONG_KEY};

#[derive(Clone, Copy, Debug)]
enum Family {
    Inet,
    Unix,
    Abstract,
}

/// An address of `family` for our listener (the socket file, if any, inside `dir`).
fn our_address(family: Family, dir: &std::path::Path) -> Address {
    match family {
        Family::Inet => Address::Inet(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
        Family::Unix => Address::Unix(dir.join("ours.sock")),
        Family::Abstract => {
            let unique = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            Address::Abstract(
                format!("mpcore-interop-{}-{unique}", std::process::id()).into_bytes(),
            )
        }
    }
}

/// How `peer.py` spells an address.
fn peer_spelling(address: &Address) -> String {
    match address {
        Address::Inet(addr) => format!("inet:{}:{}", addr.ip(), addr.port()),
        Address::Unix(path) => format!("unix:{}", path.display()),
        Address::Abstract(name) => format!("abstract:{}", String::from_utf8_lossy(name)),
    }
}

/// Parses `address inet HOST PORT`, `address unix PATH` or `address abstract NAME`.
fn parse_announced(line: &str) -> Address {
    let words: Vec<&str> = line.splitn(3, ' ').collect();
    match words[..] {
        ["address", "inet", rest] => {
            let (host, port) = rest.split_once(' ').unwrap();
            Address::Inet(format!("{host}:{port}").parse().unwrap())
        }
        ["address", "unix", path] => Address::Unix(path.into()),
        ["address", "abstract", name] => Address::Abstract(name.as_bytes().to_vec()),
        _ => panic!("unexpected line from the peer: {line:?}"),
    }
}

/// `listener.accept()`, failing the test instead of hanging if the peer never connects.
fn accept_within_30s(mut listener: Listener) -> (Listener, mpcore::Result<mpcore::Connection>) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let result = listener.accept();
        let _ = tx.send((listener, result));
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the stock peer never connected")
}

/// Our listener, a stock client: the client sends every size, we check and echo it.
fn our_listener_stock_client(version: &str, family: Family) {
    let dir = tempfile::tempdir().unwrap();
    let listener =
        Listener::bind(&our_address(family, dir.path()), 1, Some(AuthKey::new(KEY))).unwrap();
    let address = peer_spelling(listener.address());
    let mut peer = Peer::python(
        version,
        "peer.py",
        &["connect", &address, &hex::encode(KEY), &sizes_arg()],
    );
    let (_listener, conn) = accept_within_30s(listener);
    let conn = conn.unwrap();
    let mut received = Vec::new();
    loop {
        match conn.recv_bytes(None) {
            Ok(message) => {
                assert!(
                    message == pattern(message.len()),
                    "{} bytes corrupted",
                    message.len()
                );
                received.push(message.len());
                conn.send_bytes(&message).unwrap();
            }
            Err(Error::Eof) => break,
            Err(err) => panic!("{err}"),
        }
    }
    assert_eq!(received, SIZES);
    let expected = format!("echoed {}", SIZES.map(|n| n.to_string()).join(" "));
    assert_eq!(peer.line(), expected);
}

/// A stock listener, our client: we send every size, the listener checks and echoes it.
fn stock_listener_our_client(version: &str, family: Family) {
    let dir = tempfile::tempdir().unwrap();
    let spelling = match our_address(family, dir.path()) {
        Address::Inet(_) => "inet".to_owned(),
        other => peer_spelling(&other),
    };
    let mut peer = Peer::python(
        version,
        "peer.py",
        &["listen", &spelling, &hex::encode(KEY)],
    );
    let address = parse_announced(&peer.line());
    let conn = connect(&address, Some(&AuthKey::new(KEY))).unwrap();
    for size in SIZES {
        let payload = pattern(size);
        conn.send_bytes(&payload).unwrap();
        assert!(
            conn.recv_bytes(None).unwrap() == payload,
            "{size} bytes corrupted"
        );
    }
    drop(conn);
    let expected = format!("received {}", SIZES.map(|n| n.to_string()).join(" "));
    assert_eq!(peer.line(), expected);
    assert_eq!(peer.wait(), Some(0));
}

/// Parses `AuthenticationError SECONDS MESSAGE` into the peer's time and message.
fn peer_auth_failure(line: &str) -> (Duration, String) {
    let mut words = line.splitn(3, ' ');
    assert_eq!(words.next(), Some("AuthenticationError"), "{line}");
    let seconds: f64 = words.next().unwrap().parse().unwrap();
    (
        Duration::from_secs_f64(seconds),
        words.next().unwrap_or("").to_owned(),
    )
}

/// Our listener with the right key, a stock client with a wrong one.
fn wrong_key_against_stock_client(version: &str) {
    let dir = tempfile::tempdir().unwrap();
    let listener = Listener::bind(
        &our_address(Family::Inet, dir.path()),
        1,
        Some(AuthKey::new(KEY)),
    )
    .unwrap();
    let address = peer_spelling(listener.address());
    let mut peer = Peer::python(
        version,
        "peer.py",
        &["connect", &address, &hex::encode(WRONG_KEY), "1"],
    );
    let (_listener, result) = accept_within_30s(listener);
    assert!(
        matches!(result, Err(Error::Auth(AuthError::DigestReceivedWrong))),
        "{result:?}"
    );
    let (elapsed, message) = peer_auth_failure(&peer.line());
    assert_eq!(message, "digest sent was rejected");
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
}

/// A stock listener with the right key, our client with a wrong one.
fn wrong_key_against_stock_listener(version: &str) {
    let mut peer = Peer::python(version, "peer.py", &["listen", "inet", &hex::encode(KEY)]);
    let address = parse_announced(&peer.line());
    let start = Instant::now();
    let result = connect(&address, Some(&AuthKey::new(WRONG_KEY)));
    let elapsed = start.elapsed();
    assert!(
        matches!(result, Err(Error::Auth(AuthError::DigestSentRejected))),
        "{result:?}"
    );
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    let (peer_elapsed, message) = peer_auth_failure(&peer.line());
    assert_eq!(message, "digest received was wrong");
    assert!(peer_elapsed < Duration::from_secs(1), "{peer_elapsed:?}");
}

macro_rules! interop_tests {
    ($($name:ident: $version:literal, $family:expr;)*) => {$(
        mod $name {
            use super::*;

            #[test]
            fn our_listener_stock_client() {
                super::our_listener_stock_client($version, $family);
            }

            #[test]
            fn stock_listener_our_client() {
                super::stock_listener_our_client($version, $family);
            }
        }
    )*};
}

interop_tests! {
    py311_inet: "3.11", Family::Inet;
    py311_unix: "3.11", Family::Unix;
    py313_inet: "3.13", Family::Inet;
    py313_unix: "3.13", Family::Unix;
    py313_abstract: "3.13", Family::Abstract;
}

#[test]
fn py311_wrong_key_fails_on_both_sides() {
    wrong_key_against_stock_client("3.11");
    wrong_key_against_stock_listener("3.11");
}

#[test]
fn py313_wrong_key_fails_on_both_sides() {
    wrong_key_against_stock_client("3.13");
    wrong_key_against_stock_listener("3.13");
}
