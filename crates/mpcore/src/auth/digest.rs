//! The MACs of the handshake: which digests a message may name, and how a response to a
//! challenge is made and checked. Pure functions of the key and the messages.

use std::fmt;

use hmac::digest::block_api::BlockSizeUser;
use hmac::{KeyInit, Mac, SimpleHmac};
use subtle::ConstantTimeEq;

use super::{AuthKey, Dialect, LEGACY_NONCE_LEN};
use crate::error::AuthError;

/// A bare MD5 MAC, which a modern deliverer accepts as a legacy answer.
const MD5_LEN: usize = 16;
/// Where the `}` closing a digest prefix may be at the latest (CPython's
/// `find(b'}', 1, _MAX_DIGEST_LEN + 2)` searches indices 1 to 9).
const DIGEST_PREFIX_SEARCH_END: usize = 10;

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

    /// `{name}`, the prefix that names this digest in a modern message.
    pub(super) fn prefix(self) -> Vec<u8> {
        [b"{", self.name().as_bytes(), b"}"].concat()
    }
}

/// The hashlib name, as in `{sha256}`.
impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
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

/// The answer to `challenge` (the message after `#CHALLENGE#`), CPython 3.12+'s
/// `_create_response`: a bare HMAC-MD5 for a bare legacy challenge, otherwise the challenge's
/// `{digest}` prefix followed by the HMAC of the whole challenge, prefix included.
pub fn create_response(key: &AuthKey, challenge: &[u8]) -> Result<Vec<u8>, AuthError> {
    match split_digest_prefix(challenge)? {
        (None, _) => Ok(Digest::Md5.hmac(key.as_bytes(), challenge)),
        (Some(digest), _) => {
            let mac = digest.hmac(key.as_bytes(), challenge);
            Ok([digest.prefix(), mac].concat())
        }
    }
}

/// Checks the peer's `response` to our `challenge` (the message after `#CHALLENGE#`), as the
/// deliverer of `dialect` does (CPython 3.12+'s `_verify_challenge` for a modern one). In
/// constant time once the lengths match.
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
            digest,
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

/// Splits a challenge or response into its digest and the rest, CPython 3.12+'s
/// `_get_digest_name_and_payload`: 20 or 16 bytes are a bare legacy message (`None`);
/// otherwise it must start with `{name}` (the `}` at index 9 at the latest) naming an allowed
/// digest.
pub(super) fn split_digest_prefix(message: &[u8]) -> Result<(Option<Digest>, &[u8]), AuthError> {
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
