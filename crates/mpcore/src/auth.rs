//! The authentication handshake of `multiprocessing.connection`, and the key it uses.
//!
//! One side *delivers* a challenge (a random nonce), the other *answers* with an HMAC of it
//! keyed with the shared authkey, and the first replies `#WELCOME#` or `#FAILURE#`. Listeners
//! deliver then answer; clients answer then deliver, so both sides prove they know the key.
//!
//! Two dialects exist on the wire, and both interoperate:
//!
//! * **legacy** (CPython ≤ 3.11): a bare 20-byte nonce, answered with a bare HMAC-MD5;
//! * **modern** (CPython 3.12+): `{sha256}` followed by a 40-byte nonce, answered with
//!   `{sha256}` and the HMAC of the *whole* prefixed challenge (the prefix is covered, so it
//!   cannot be downgraded). A modern deliverer accepts any allowed digest, and a bare 16-byte
//!   answer as MD5, which is what a legacy answerer sends. A modern answerer answers a bare
//!   20-byte challenge the legacy way.
//!
//! The MAC comparison is constant-time; error messages never contain the key.

use std::fmt;

use hmac::digest::block_api::BlockSizeUser;
use hmac::{KeyInit, Mac, SimpleHmac};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

#[cfg(unix)]
use crate::connection::Connection;
use crate::error::{AuthError, Error, Result};

/// The prefix of a challenge message.
pub const CHALLENGE: &[u8] = b"#CHALLENGE#";
/// The reply to a correct answer.
pub const WELCOME: &[u8] = b"#WELCOME#";
/// The reply to a wrong answer.
pub const FAILURE: &[u8] = b"#FAILURE#";
/// The longest handshake message either side accepts.
pub const MAX_HANDSHAKE_MESSAGE: usize = 256;
/// The nonce length of the legacy dialect, and the shortest challenge a modern answerer takes.
pub const LEGACY_NONCE_LEN: usize = 20;
/// The nonce length of the modern dialect.
pub const MODERN_NONCE_LEN: usize = 40;
/// A bare MD5 MAC, which a modern deliverer accepts as a legacy answer.
const MD5_LEN: usize = 16;
/// Where the `}` closing a digest prefix may be at the latest (CPython's
/// `find(b'}', 1, _MAX_DIGEST_LEN + 2)` searches indices 1 to 9).
const DIGEST_PREFIX_SEARCH_END: usize = 10;

/// A shared secret for the handshake: CPython's `authkey` (`AuthenticationString`).
///
/// The bytes are wiped when the key is dropped, and `Debug` never shows them.
///
/// ```
/// let key = mpcore::AuthKey::new(b"secret".to_vec());
/// assert_eq!(format!("{key:?}"), "AuthKey(<censored for security reasons>)");
/// ```
#[derive(Clone)]
pub struct AuthKey(Vec<u8>);

impl AuthKey {
    /// A key holding `bytes` (moved in, not copied, when given a `Vec`).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        AuthKey(bytes.into())
    }

    /// A fresh random 32-byte key, as CPython gives every main process.
    pub fn random() -> Result<Self> {
        let mut bytes = vec![0; 32];
        fill_random(&mut bytes)?;
        Ok(AuthKey(bytes))
    }

    /// The key's bytes, to hand to the peer that must share it.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for AuthKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthKey(<censored for security reasons>)")
    }
}

/// The digests a modern challenge may name, CPython's `_ALLOWED_DIGESTS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum Digest {
    /// `md5`
    Md5,
    /// `sha256`, what CPython 3.12+ challenges with.
    Sha256,
    /// `sha384`
    Sha384,
    /// `sha3_256`
    Sha3_256,
    /// `sha3_384`
    Sha3_384,
}

impl Digest {
    /// Every allowed digest.
    pub const ALL: [Digest; 5] = [
        Digest::Md5,
        Digest::Sha256,
        Digest::Sha384,
        Digest::Sha3_256,
        Digest::Sha3_384,
    ];

    /// The name used in the `{name}` prefix (hashlib's name).
    pub fn name(self) -> &'static str {
        match self {
            Digest::Md5 => "md5",
            Digest::Sha256 => "sha256",
            Digest::Sha384 => "sha384",
            Digest::Sha3_256 => "sha3_256",
            Digest::Sha3_384 => "sha3_384",
        }
    }

    /// The digest a prefix names, if it is allowed.
    pub fn from_name(name: &[u8]) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name().as_bytes() == name)
    }

    /// HMAC of `message` under `key` with this digest.
    pub fn hmac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        match self {
            Digest::Md5 => hmac_with::<md5::Md5>(key, message),
            Digest::Sha256 => hmac_with::<sha2::Sha256>(key, message),
            Digest::Sha384 => hmac_with::<sha2::Sha384>(key, message),
            Digest::Sha3_256 => hmac_with::<sha3::Sha3_256>(key, message),
            Digest::Sha3_384 => hmac_with::<sha3::Sha3_384>(key, message),
        }
    }
}

/// HMAC with any digest. `SimpleHmac` rather than `Hmac`: the SHA-3 sponges lack the
/// block-level API `Hmac` needs, and a handshake MACs well under a kilobyte.
fn hmac_with<D: hmac::digest::Digest + BlockSizeUser>(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length (long ones are hashed first), so this cannot fail.
    let mut mac =
        <SimpleHmac<D> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Which challenge a deliverer sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// CPython ≤ 3.11: a bare 20-byte nonce; only a bare HMAC-MD5 answer is accepted.
    Legacy,
    /// CPython 3.12+: `{digest}` and a 40-byte nonce; answers in any allowed digest, or a bare
    /// HMAC-MD5 from a legacy peer, are accepted.
    Modern(Digest),
}

impl Default for Dialect {
    /// What CPython 3.12+ sends: `Modern(Sha256)`.
    fn default() -> Self {
        Dialect::Modern(Digest::Sha256)
    }
}

/// Challenges the peer to prove it knows `key`, and tells it whether it did (`#WELCOME#` or
/// `#FAILURE#`). A wrong answer fails with [`AuthError::DigestReceivedWrong`] (or another
/// [`AuthError`] for an answer that cannot be parsed).
///
/// A signal ([`Error::Interrupted`]) abandons the handshake: drop the connection.
#[cfg(unix)]
pub fn deliver_challenge(conn: &Connection, key: &AuthKey, dialect: Dialect) -> Result<()> {
    let mut nonce = [0; MODERN_NONCE_LEN];
    let nonce = &mut nonce[..nonce_len(dialect)];
    fill_random(nonce)?;
    deliver_challenge_with_nonce(conn, key, dialect, nonce)
}

/// A fresh challenge for `dialect`: the message that follows `#CHALLENGE#` (a 20-byte nonce,
/// or `{digest}` and a 40-byte nonce). For callers that move the messages themselves, then
/// check the answer with [`verify_response`].
pub fn new_challenge(dialect: Dialect) -> Result<Vec<u8>> {
    let mut nonce = [0; MODERN_NONCE_LEN];
    let nonce = &mut nonce[..nonce_len(dialect)];
    fill_random(nonce)?;
    Ok(challenge_body(dialect, nonce))
}

/// [`deliver_challenge`] with a chosen nonce, for reproducible test vectors.
#[cfg(unix)]
pub(crate) fn deliver_challenge_with_nonce(
    conn: &Connection,
    key: &AuthKey,
    dialect: Dialect,
    nonce: &[u8],
) -> Result<()> {
    let challenge = challenge_body(dialect, nonce);
    conn.send_bytes(&[CHALLENGE, &challenge].concat())?;
    let response = conn.recv_bytes(Some(MAX_HANDSHAKE_MESSAGE))?;
    match verify_response(key, &challenge, &response, dialect) {
        Ok(()) => conn.send_bytes(WELCOME),
        Err(err) => {
            // The failure is what the caller needs to hear about, even if the peer has gone
            // and cannot be told.
            let _ = conn.send_bytes(FAILURE);
            Err(err.into())
        }
    }
}

/// Answers the peer's challenge with `key`, and fails with
/// [`AuthError::DigestSentRejected`] unless the peer welcomes the answer. Answers both
/// dialects.
///
/// A signal ([`Error::Interrupted`]) abandons the handshake: drop the connection.
#[cfg(unix)]
pub fn answer_challenge(conn: &Connection, key: &AuthKey) -> Result<()> {
    let message = conn.recv_bytes(Some(MAX_HANDSHAKE_MESSAGE))?;
    let Some(challenge) = message.strip_prefix(CHALLENGE) else {
        return Err(AuthError::ExpectedChallenge { message }.into());
    };
    if challenge.len() < LEGACY_NONCE_LEN {
        return Err(AuthError::ChallengeTooShort {
            len: challenge.len(),
        }
        .into());
    }
    conn.send_bytes(&create_response(key, challenge)?)?;
    if conn.recv_bytes(Some(MAX_HANDSHAKE_MESSAGE))? != WELCOME {
        return Err(AuthError::DigestSentRejected.into());
    }
    Ok(())
}

/// The answer to `challenge` (the message after `#CHALLENGE#`), CPython 3.12+'s
/// `_create_response`: a bare HMAC-MD5 for a bare legacy challenge, otherwise the challenge's
/// `{digest}` prefix followed by the HMAC of the whole challenge, prefix included.
pub fn create_response(key: &AuthKey, challenge: &[u8]) -> Result<Vec<u8>, AuthError> {
    match split_digest_prefix(challenge)? {
        (None, _) => Ok(Digest::Md5.hmac(key.as_bytes(), challenge)),
        (Some(digest), _) => {
            let mac = digest.hmac(key.as_bytes(), challenge);
            Ok([b"{", digest.name().as_bytes(), b"}", &mac].concat())
        }
    }
}

/// Checks the peer's `response` to our `challenge` (the message after `#CHALLENGE#`), as the
/// deliverer of `dialect` does. In constant time once the lengths match.
pub fn verify_response(
    key: &AuthKey,
    challenge: &[u8],
    response: &[u8],
    dialect: Dialect,
) -> Result<(), AuthError> {
    let (digest, mac) = match dialect {
        // CPython ≤ 3.11 compares the whole response with a bare HMAC-MD5.
        Dialect::Legacy => (Digest::Md5, response),
        Dialect::Modern(_) => {
            let (digest, mac) = split_digest_prefix(response)?;
            (digest.unwrap_or(Digest::Md5), mac)
        }
    };
    let expected = digest.hmac(key.as_bytes(), challenge);
    if dialect != Dialect::Legacy && expected.len() != mac.len() {
        return Err(AuthError::WrongDigestLength {
            digest: digest.name(),
            expected: expected.len(),
            got: mac.len(),
        });
    }
    if bool::from(expected.ct_eq(mac)) {
        Ok(())
    } else {
        Err(AuthError::DigestReceivedWrong)
    }
}

/// The challenge (without `#CHALLENGE#`) for `nonce` in `dialect`.
fn challenge_body(dialect: Dialect, nonce: &[u8]) -> Vec<u8> {
    match dialect {
        Dialect::Legacy => nonce.to_vec(),
        Dialect::Modern(digest) => [b"{", digest.name().as_bytes(), b"}", nonce].concat(),
    }
}

fn nonce_len(dialect: Dialect) -> usize {
    match dialect {
        Dialect::Legacy => LEGACY_NONCE_LEN,
        Dialect::Modern(_) => MODERN_NONCE_LEN,
    }
}

/// Splits a challenge or response into its digest and the rest, CPython 3.12+'s
/// `_get_digest_name_and_payload`: 20 or 16 bytes are a bare legacy message (`None`);
/// otherwise it must start with `{name}` (the `}` at index 9 at the latest) naming an allowed
/// digest.
fn split_digest_prefix(message: &[u8]) -> Result<(Option<Digest>, &[u8]), AuthError> {
    if message.len() == LEGACY_NONCE_LEN || message.len() == MD5_LEN {
        return Ok((None, message));
    }
    let search_end = message.len().min(DIGEST_PREFIX_SEARCH_END);
    let close = (message.first() == Some(&b'{'))
        .then(|| message.get(1..search_end)?.iter().position(|&b| b == b'}'))
        .flatten()
        .map(|i| i + 1);
    close
        .and_then(|close| {
            let digest = Digest::from_name(&message[1..close])?;
            Some((Some(digest), &message[close + 1..]))
        })
        .ok_or_else(|| AuthError::UnsupportedDigest {
            message: message.to_vec(),
        })
}

/// Fills `buf` from the system's random source, `os.urandom`'s equivalent.
fn fill_random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|err| match err.raw_os_error() {
        Some(errno) => Error::from_os(std::io::Error::from_raw_os_error(errno)),
        None => Error::Os(std::io::Error::other(err.to_string())),
    })
}

#[cfg(all(test, unix))]
mod tests;
