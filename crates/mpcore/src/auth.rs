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
//! The handshake is written once, as two state machines without I/O ([`Deliverer`] and
//! [`Answerer`], in `handshake.rs`) that take the peer's messages and give back the messages
//! to send and the verdict; [`deliver_challenge`] and [`answer_challenge`] drive them over a
//! [`Connection`], and the Python binding over any Python connection
//! object. The MACs are in `digest.rs`. The MAC comparison is constant-time; error messages
//! never contain the key.

mod digest;
mod handshake;

use std::fmt;

use zeroize::Zeroize;

pub use digest::{create_response, verify_response, Digest};
pub use handshake::{Answerer, Deliverer, Verdict};

#[cfg(unix)]
use crate::connection::Connection;
use crate::error::{Error, Result};

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

/// Which CPython a side of the handshake behaves as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// CPython ≤ 3.11. A deliverer sends a bare 20-byte nonce and accepts only a bare HMAC-MD5
    /// answer; an answerer answers any challenge with a bare HMAC-MD5 of it.
    Legacy,
    /// CPython 3.12+. A deliverer sends `{digest}` and a 40-byte nonce, and accepts answers in
    /// any allowed digest, or a bare HMAC-MD5 from a legacy peer; an answerer answers in the
    /// digest the challenge names (a bare HMAC-MD5 to a bare legacy challenge), whatever the
    /// digest given here.
    Modern(Digest),
}

impl Default for Dialect {
    /// What CPython 3.12+ sends: `Modern(Sha256)`.
    fn default() -> Self {
        Dialect::Modern(Digest::Sha256)
    }
}

/// Challenges the peer to prove it knows `key`, and tells it whether it did (`#WELCOME#` or
/// `#FAILURE#`): a [`Deliverer`] driven over `conn`. A wrong answer fails with
/// [`AuthError::DigestReceivedWrong`](crate::AuthError::DigestReceivedWrong) (or another
/// [`AuthError`](crate::AuthError) for an answer that cannot be parsed).
///
/// A signal ([`Error::Interrupted`]) abandons the handshake: drop the connection.
#[cfg(unix)]
pub fn deliver_challenge(conn: &Connection, key: &AuthKey, dialect: Dialect) -> Result<()> {
    deliver(conn, Deliverer::new(key.clone(), dialect)?)
}

#[cfg(unix)]
fn deliver(conn: &Connection, deliverer: Deliverer) -> Result<()> {
    conn.send_bytes(deliverer.challenge())?;
    let response = conn.recv_bytes(Some(MAX_HANDSHAKE_MESSAGE))?;
    let verdict = deliverer.verify(&response);
    let told = conn.send_bytes(verdict.reply);
    // A failure is what the caller needs to hear about, even if the peer has gone and cannot
    // be told.
    verdict.result?;
    told
}

/// Answers the peer's challenge with `key`, in `dialect` (see [`Answerer::new`]), and fails
/// with [`AuthError::DigestSentRejected`](crate::AuthError::DigestSentRejected) unless the peer
/// welcomes the answer: an [`Answerer`] driven over `conn`.
///
/// A signal ([`Error::Interrupted`]) abandons the handshake: drop the connection.
#[cfg(unix)]
pub fn answer_challenge(conn: &Connection, key: &AuthKey, dialect: Dialect) -> Result<()> {
    let answerer = Answerer::new(key.clone(), dialect);
    let response = answerer.respond(&conn.recv_bytes(Some(MAX_HANDSHAKE_MESSAGE))?)?;
    conn.send_bytes(&response)?;
    answerer.finish(&conn.recv_bytes(Some(MAX_HANDSHAKE_MESSAGE))?)?;
    Ok(())
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
