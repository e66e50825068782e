//! The handshake's pure message functions on arbitrary challenges, answers and keys.
//!
//! `create_response` and `verify_response` parse peer bytes (digest prefixes, lengths): they
//! must never panic, an answer made for a challenge must verify in every dialect that accepts
//! its form, and one made with another key must not.

use mpcore::auth::{create_response, verify_response, LEGACY_NONCE_LEN};
use mpcore::{AuthKey, Dialect, Digest};

use super::Input;

pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let key_bytes = input.chunk().to_vec();
    let challenge = input.chunk().to_vec();
    let response = input.rest().to_vec();
    let key = AuthKey::new(key_bytes.clone());
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
