//! The part of `multiprocessing.connection` that mpcore builds on Windows: the authentication
//! handshake's messages (the `Connection` itself is POSIX-only), checked against the bytes stock
//! CPython produces, with nonces and keys from Windows' random source (`ProcessPrng`). Run
//! under Wine on every `make test` (`scripts/wine-test.sh`).

#![cfg(windows)]

use mpcore::auth::{create_response, new_challenge, verify_response};
use mpcore::{AuthError, AuthKey, Dialect, Digest};

const KEY: &[u8] = b"test-authkey-0123456789abcdef!!!";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// `bytes(range(n))`, the nonce of stock's vectors.
fn nonce(n: u8) -> Vec<u8> {
    (0..n).collect()
}

#[test]
fn answers_match_stock_cpythons_bytes() {
    // multiprocessing.connection's answer to `bytes(range(20))` (3.11.7) and to
    // `b'{sha256}' + bytes(range(40))` (3.13.0) under KEY, and 3.11's bare MD5 answer to the
    // latter: the vectors the Linux tests check (src/auth/tests.rs).
    let key = AuthKey::new(KEY);
    let legacy = nonce(20);
    assert_eq!(
        hex(&create_response(&key, &legacy).unwrap()),
        "e187ac8ed4c61c959c4dcf2acad0f007"
    );
    let modern = [b"{sha256}".as_slice(), &nonce(40)].concat();
    let answer = create_response(&key, &modern).unwrap();
    assert_eq!(
        hex(&answer),
        "7b7368613235367dcf02ade8e44ab7869f5a850efda3aedacd42ca2c00a17b2a5381b6744dd9a82f"
    );
    let modern_dialect = Dialect::Modern(Digest::Sha256);
    verify_response(&key, &modern, &answer, modern_dialect).unwrap();
    let legacy_answer = unhex("1b80bd1da7e88b9ec76c2669246a7752");
    verify_response(&key, &modern, &legacy_answer, modern_dialect).unwrap();
}

#[test]
fn challenges_and_keys_come_from_the_system_random_source() {
    let legacy = new_challenge(Dialect::Legacy).unwrap();
    assert_eq!(legacy.len(), 20);
    let modern = new_challenge(Dialect::default()).unwrap();
    assert!(modern.starts_with(b"{sha256}"));
    assert_eq!(modern.len(), 8 + 40);
    assert_ne!(modern, new_challenge(Dialect::default()).unwrap());
    let key = AuthKey::random().unwrap();
    assert_eq!(key.as_bytes().len(), 32);
    assert_ne!(key.as_bytes(), AuthKey::random().unwrap().as_bytes());
    assert_ne!(key.as_bytes(), &[0; 32], "not left zeroed");
}

#[test]
fn a_wrong_key_is_refused_and_never_shown() {
    let key = AuthKey::new(KEY);
    let challenge = new_challenge(Dialect::default()).unwrap();
    let wrong = create_response(&AuthKey::new(b"not the key".to_vec()), &challenge).unwrap();
    let err = verify_response(&key, &challenge, &wrong, Dialect::default()).unwrap_err();
    assert_eq!(err, AuthError::DigestReceivedWrong);
    let shown = format!("{err} {err:?} {key:?}");
    assert!(!shown.contains("authkey"), "{shown}");
    assert_eq!(
        format!("{key:?}"),
        "AuthKey(<censored for security reasons>)"
    );
}
