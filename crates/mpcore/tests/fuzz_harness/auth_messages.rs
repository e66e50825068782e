//! The handshake without I/O, on arbitrary challenges, answers, verdicts and keys.
//!
//! `create_response` and `verify_response` parse peer bytes (digest prefixes, lengths), and the
//! state machines `Deliverer` and `Answerer` take peer messages whole: none may panic. An answer
//! made for a challenge must verify in every dialect that accepts its form, and one made with
//! another key must not; a deliverer never accepts an answer made without its nonce, and tells
//! the peer `#FAILURE#`; an answerer answers as the reference rules say, and is welcomed by
//! `#WELCOME#` alone.

use mpcore::auth::{
    create_response, verify_response, Answerer, Deliverer, CHALLENGE, FAILURE, LEGACY_NONCE_LEN,
    WELCOME,
};
use mpcore::{AuthKey, Dialect, Digest};

use super::handshake::{dialect_of, expected_answer};
use super::Input;

pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let selector = input.byte();
    let dialect = dialect_of(selector);
    let key_bytes = input.chunk().to_vec();
    let challenge = input.chunk().to_vec();
    let verdict = input.chunk().to_vec();
    let response = input.rest().to_vec();
    let key = AuthKey::new(key_bytes.clone());
    // The answerer takes the whole first message: with the prefix, mostly.
    let message = match selector & 0x80 {
        0 => [CHALLENGE, &challenge].concat(),
        _ => challenge.clone(),
    };
    state_machines(&key, dialect, &message, &response, &verdict);
    let dialects = [Dialect::Legacy]
        .into_iter()
        .chain(Digest::ALL.map(Dialect::Modern));

    // Arbitrary answers: any outcome, no panic.
    for dialect in dialects.clone() {
        let _ = verify_response(&key, &challenge, &response, dialect);
    }

    let Ok(answer) = create_response(&key, &challenge) else {
        return;
    };
    let legacy_form = challenge.len() == LEGACY_NONCE_LEN;
    for dialect in dialects {
        // A legacy deliverer sends only bare 20-byte challenges and takes bare answers.
        if dialect == Dialect::Legacy && !legacy_form {
            continue;
        }
        assert!(verify_response(&key, &challenge, &answer, dialect).is_ok());
        // Another key of the same length (at most an HMAC block: no key hashing, no
        // zero-padding aliases) gives another MAC.
        if !key_bytes.is_empty() && key_bytes.len() <= 64 {
            let mut other = key_bytes.clone();
            other[0] ^= 1;
            assert!(verify_response(&AuthKey::new(other), &challenge, &answer, dialect).is_err());
        }
    }
}

fn state_machines(
    key: &AuthKey,
    dialect: Dialect,
    message: &[u8],
    response: &[u8],
    verdict: &[u8],
) {
    let deliverer = Deliverer::new(key.clone(), dialect).unwrap();
    let outcome = deliverer.verify(response);
    assert!(
        outcome.result.is_err(),
        "an answer made without the nonce was accepted"
    );
    assert_eq!(outcome.reply, FAILURE);

    let answerer = Answerer::new(key.clone(), dialect);
    let expected = message
        .strip_prefix(CHALLENGE)
        .and_then(|challenge| expected_answer(key, dialect, challenge));
    assert_eq!(answerer.respond(message).ok(), expected);
    assert_eq!(answerer.finish(verdict).is_ok(), verdict == WELCOME);
}
