//! The part of `multiprocessing.connection` that mpcore builds on Windows: the authentication
//! handshake's state machines (the `Connection` that carries them elsewhere is POSIX-only),
//! checked against the bytes stock CPython produces, with nonces and keys from Windows' random
//! source (`ProcessPrng`). Run under Wine on every `make test` (`scripts/wine-test.sh`).

#![cfg(windows)]

use mpcore::auth::{
    create_response, verify_response, Answerer, Deliverer, CHALLENGE, FAILURE, WELCOME,
};
use mpcore::{AuthError, AuthKey, Dialect, Digest};

const KEY: &[u8] = b"test-authkey-0123456789abcdef!!!";

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
    let modern_dialect = Dialect::Modern(Digest::Sha256);
    let answerer = Answerer::new(key.clone(), modern_dialect);
    let legacy = nonce(20);
    let legacy_answer = "e187ac8ed4c61c959c4dcf2acad0f007";
    assert_eq!(
        hex::encode(create_response(&key, &legacy).unwrap()),
        legacy_answer
    );
    let message = [CHALLENGE, &legacy].concat();
    assert_eq!(
        hex::encode(answerer.respond(&message).unwrap()),
        legacy_answer
    );

    let modern = [b"{sha256}".as_slice(), &nonce(40)].concat();
    let modern_answer =
        "7b7368613235367dcf02ade8e44ab7869f5a850efda3aedacd42ca2c00a17b2a5381b6744dd9a82f";
    let message = [CHALLENGE, &modern].concat();
    assert_eq!(
        hex::encode(answerer.respond(&message).unwrap()),
        modern_answer
    );
    verify_response(
        &key,
        &modern,
        &hex::decode(modern_answer).unwrap(),
        modern_dialect,
    )
    .unwrap();
    let answer_of_3_11 = hex::decode("1b80bd1da7e88b9ec76c2669246a7752").unwrap();
    verify_response(&key, &modern, &answer_of_3_11, modern_dialect).unwrap();
}

#[test]
fn both_dialects_complete_a_handshake_with_random_nonces() {
    let key = AuthKey::random().unwrap();
    for (deliverer_speaks, answerer_speaks) in [
        (Dialect::default(), Dialect::default()),
        (Dialect::Legacy, Dialect::Legacy),
        (Dialect::Legacy, Dialect::default()),
    ] {
        let deliverer = Deliverer::new(key.clone(), deliverer_speaks).unwrap();
        let answerer = Answerer::new(key.clone(), answerer_speaks);
        let response = answerer.respond(deliverer.challenge()).unwrap();
        let verdict = deliverer.verify(&response);
        assert_eq!(verdict.reply, WELCOME, "{deliverer_speaks:?}");
        verdict.result.unwrap();
        answerer.finish(verdict.reply).unwrap();
    }
}

#[test]
fn challenges_and_keys_come_from_the_system_random_source() {
    let key = AuthKey::new(KEY);
    let legacy = Deliverer::new(key.clone(), Dialect::Legacy).unwrap();
    assert_eq!(legacy.challenge().len(), CHALLENGE.len() + 20);
    let modern = Deliverer::new(key.clone(), Dialect::default()).unwrap();
    let again = Deliverer::new(key, Dialect::default()).unwrap();
    let body = modern.challenge().strip_prefix(CHALLENGE).unwrap();
    assert!(body.starts_with(b"{sha256}"));
    assert_eq!(body.len(), 8 + 40);
    assert_ne!(
        modern.challenge(),
        again.challenge(),
        "a fresh nonce each time"
    );
    let random = AuthKey::random().unwrap();
    assert_eq!(random.as_bytes().len(), 32);
    assert_ne!(random.as_bytes(), AuthKey::random().unwrap().as_bytes());
    assert_ne!(random.as_bytes(), &[0; 32], "not left zeroed");
}

#[test]
fn a_wrong_key_is_refused_on_both_sides_and_never_shown() {
    let key = AuthKey::new(KEY);
    let deliverer = Deliverer::new(key.clone(), Dialect::default()).unwrap();
    let impostor = Answerer::new(AuthKey::new(b"not the key".to_vec()), Dialect::default());
    let response = impostor.respond(deliverer.challenge()).unwrap();
    let verdict = deliverer.verify(&response);
    assert_eq!(verdict.reply, FAILURE);
    assert_eq!(verdict.result, Err(AuthError::DigestReceivedWrong));
    let rejected = impostor.finish(verdict.reply).unwrap_err();
    assert_eq!(rejected, AuthError::DigestSentRejected);
    let shown = format!("{rejected} {rejected:?} {verdict:?} {key:?}");
    assert!(!shown.contains("authkey"), "{shown}");
    assert_eq!(
        format!("{key:?}"),
        "AuthKey(<censored for security reasons>)"
    );
}
