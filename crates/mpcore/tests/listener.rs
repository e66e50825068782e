//! `Listener` and `connect` between two Rust ends: addresses, socket files, the handshake in
//! both dialects. Interop with stock CPython peers is in `cpython_interop.rs`.

#![cfg(unix)]

use std::net::{Ipv4Addr, SocketAddr};
use std::thread;
use std::time::{Duration, Instant};

use mpcore::{
    connect, connect_with_dialect, Address, AuthError, AuthKey, Dialect, Digest, Error, Listener,
};

fn localhost() -> Address {
    Address::Inet(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
}

fn key(bytes: &[u8]) -> AuthKey {
    AuthKey::new(bytes)
}

/// Accepts one connection on a thread, echoes one message, returns what accept gave.
fn echo_once(mut listener: Listener) -> thread::JoinHandle<(Listener, mpcore::Result<()>)> {
    thread::spawn(move || {
        let result = listener.accept().and_then(|conn| {
            let message = conn.recv_bytes(None)?;
            conn.send_bytes(&message)
        });
        (listener, result)
    })
}

#[test]
fn tcp_with_a_key_echoes_and_reports_the_peer() {
    let listener = Listener::bind(&localhost(), 1, Some(key(b"k"))).unwrap();
    let address = listener.address().clone();
    let Address::Inet(bound) = address else {
        panic!("{address:?}")
    };
    assert_ne!(bound.port(), 0, "the chosen port is reported");
    let server = echo_once(listener);
    let conn = connect(&address, Some(&key(b"k"))).unwrap();
    conn.send_bytes(b"over tcp").unwrap();
    assert_eq!(conn.recv_bytes(None).unwrap(), b"over tcp");
    let (listener, result) = server.join().unwrap();
    result.unwrap();
    match listener.last_accepted() {
        Some(Address::Inet(peer)) => assert_eq!(peer.ip(), Ipv4Addr::LOCALHOST),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_unix_socket_file_lives_as_long_as_its_listener() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("listener.sock");
    let address = Address::Unix(path.clone());
    let listener = Listener::bind(&address, 5, None).unwrap();
    assert_eq!(listener.address(), &address);
    assert!(path.exists());
    let server = echo_once(listener);
    let conn = connect(&address, None).unwrap();
    conn.send_bytes(b"over a path").unwrap();
    assert_eq!(conn.recv_bytes(None).unwrap(), b"over a path");
    let (listener, result) = server.join().unwrap();
    result.unwrap();
    assert_eq!(
        listener.last_accepted(),
        Some(&Address::Unix(Default::default())),
        "an unnamed client socket has an empty path"
    );
    assert!(path.exists());
    listener.close();
    assert!(!path.exists(), "close removes the socket file");

    let again = Listener::bind(&address, 1, None).unwrap();
    drop(again);
    assert!(!path.exists(), "so does drop");
}

#[test]
fn a_python_style_name_with_a_leading_nul_is_abstract() {
    let name = format!("\0mpcore-test-{}", std::process::id());
    let address = Address::unix(name.as_bytes());
    assert_eq!(address, Address::Abstract(name.as_bytes()[1..].to_vec()));
    assert_eq!(
        Address::unix("/tmp/x.sock"),
        Address::Unix("/tmp/x.sock".into())
    );

    let listener = Listener::bind(&address, 1, Some(key(b"abstract"))).unwrap();
    assert_eq!(listener.address(), &address);
    let server = echo_once(listener);
    let conn = connect(&address, Some(&key(b"abstract"))).unwrap();
    conn.send_bytes(b"no file").unwrap();
    assert_eq!(conn.recv_bytes(None).unwrap(), b"no file");
    server.join().unwrap().1.unwrap();
}

#[test]
fn a_wrong_key_fails_on_both_sides_at_once() {
    let mut listener = Listener::bind(&localhost(), 1, Some(key(b"right"))).unwrap();
    let address = listener.address().clone();
    let start = Instant::now();
    let server = thread::spawn(move || listener.accept().map(drop));
    let client = connect(&address, Some(&key(b"wrong"))).map(drop);
    let server = server.join().unwrap();
    assert!(
        matches!(client, Err(Error::Auth(AuthError::DigestSentRejected))),
        "{client:?}"
    );
    assert!(
        matches!(server, Err(Error::Auth(AuthError::DigestReceivedWrong))),
        "{server:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn every_dialect_pairing_authenticates() {
    let dialects = [
        Dialect::Legacy,
        Dialect::Modern(Digest::Sha256),
        Dialect::Modern(Digest::Md5),
        Dialect::Modern(Digest::Sha3_384),
    ];
    for server_dialect in dialects {
        for client_dialect in dialects {
            let listener = Listener::bind(&localhost(), 1, Some(key(b"k")))
                .unwrap()
                .with_dialect(server_dialect);
            let address = listener.address().clone();
            let server = echo_once(listener);
            let conn = connect_with_dialect(&address, Some(&key(b"k")), client_dialect)
                .unwrap_or_else(|e| panic!("{server_dialect:?} / {client_dialect:?}: {e}"));
            conn.send_bytes(b"hi").unwrap();
            assert_eq!(conn.recv_bytes(None).unwrap(), b"hi");
            server.join().unwrap().1.unwrap();
        }
    }
}

#[test]
fn an_empty_key_still_authenticates() {
    // CPython 3.13's rule (bpo-43952): `authkey is not None` runs the handshake.
    let listener = Listener::bind(&localhost(), 1, Some(key(b""))).unwrap();
    let address = listener.address().clone();
    let server = echo_once(listener);
    let client = connect(&address, None).unwrap();
    let challenge = client.recv_bytes(None).unwrap();
    assert!(challenge.starts_with(b"#CHALLENGE#{sha256}"));
    drop(client);
    assert!(server.join().unwrap().1.is_err());
}

#[test]
fn a_tcp_port_can_be_bound_again_at_once() {
    // The server closes first, leaving its port in TIME_WAIT: only SO_REUSEADDR lets a new
    // listener bind it straight away.
    let mut listener = Listener::bind(&localhost(), 1, None).unwrap();
    let address = listener.address().clone();
    let client = thread::spawn({
        let address = address.clone();
        move || {
            let conn = connect(&address, None).unwrap();
            assert!(matches!(conn.recv_bytes(None), Err(Error::Eof)));
        }
    });
    let conn = listener.accept().unwrap();
    drop(conn);
    client.join().unwrap();
    drop(listener);
    Listener::bind(&address, 1, None).expect("rebinding a port in TIME_WAIT");
}
