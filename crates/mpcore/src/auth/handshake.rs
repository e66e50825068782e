//! The handshake as two state machines without I/O: each takes the peer's messages and gives
//! back the messages to send and the verdict, so that any transport can carry them (a
//! [`Connection`](crate::Connection), or a Python connection object in the binding).
//!
//! ```text
//! Deliverer                                   Answerer
//! challenge()  -- #CHALLENGE#{sha256}nonce -->  respond(challenge)
//! verify(response) <----- {sha256}mac -------
//!   .reply     ------- #WELCOME# / #FAILURE# -->  finish(verdict)
//! ```

use super::digest::{create_response, verify_response};
use super::{
    fill_random, AuthKey, Dialect, Digest, CHALLENGE, FAILURE, LEGACY_NONCE_LEN, MODERN_NONCE_LEN,
    WELCOME,
};
use crate::error::{AuthError, Result};

/// The side that challenges: sends a random nonce, checks the peer's MAC of it, and tells the
/// peer whether it passed.
///
/// ```
/// use mpcore::auth::{Answerer, Deliverer, WELCOME};
/// use mpcore::{AuthKey, Dialect};
///
/// let key = AuthKey::new(b"secret".to_vec());
/// let deliverer = Deliverer::new(key.clone(), Dialect::default())?;
/// let answerer = Answerer::new(key, Dialect::default());
/// let response = answerer.respond(deliverer.challenge())?;
/// let verdict = deliverer.verify(&response);
/// assert_eq!(verdict.reply, WELCOME);
/// verdict.result?;
/// answerer.finish(verdict.reply)?;
/// # Ok::<(), mpcore::Error>(())
/// ```
#[derive(Debug)]
pub struct Deliverer {
    key: AuthKey,
    dialect: Dialect,
    /// The first message: `#CHALLENGE#` and the challenge.
    message: Vec<u8>,
}

impl Deliverer {
    /// A deliverer of `dialect` with a fresh random nonce (20 bytes for the legacy dialect, 40
    /// after the `{digest}` prefix for the modern one).
    pub fn new(key: AuthKey, dialect: Dialect) -> Result<Self> {
        let mut nonce = [0; MODERN_NONCE_LEN];
        let nonce = &mut nonce[..nonce_len(dialect)];
        fill_random(nonce)?;
        Ok(Self::with_nonce(key, dialect, nonce))
    }

    /// A deliverer with a chosen nonce, for reproducible test vectors.
    pub(crate) fn with_nonce(key: AuthKey, dialect: Dialect, nonce: &[u8]) -> Self {
        let prefix = match dialect {
            Dialect::Legacy => Vec::new(),
            Dialect::Modern(digest) => digest.prefix(),
        };
        Deliverer {
            key,
            dialect,
            message: [CHALLENGE, &prefix, nonce].concat(),
        }
    }

    /// The message to send first: `#CHALLENGE#` and the challenge.
    pub fn challenge(&self) -> &[u8] {
        &self.message
    }

    /// Checks the peer's answer to [`challenge`](Self::challenge), as a deliverer of this
    /// dialect does: the legacy one takes only a bare HMAC-MD5, the modern one an answer in
    /// any allowed digest (or a bare HMAC-MD5 from a legacy peer), compared in constant time.
    /// The [`Verdict`] says what to reply, which the peer must be sent even when the answer
    /// was wrong.
    pub fn verify(self, response: &[u8]) -> Verdict {
        let challenge = &self.message[CHALLENGE.len()..];
        let result = verify_response(&self.key, challenge, response, self.dialect);
        Verdict {
            reply: if result.is_ok() { WELCOME } else { FAILURE },
            result,
        }
    }
}

/// What a [`Deliverer`] made of the peer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "the peer waits for the reply, and the result says whether it may be trusted"]
pub struct Verdict {
    /// The last message, for the peer: [`WELCOME`] or [`FAILURE`].
    pub reply: &'static [u8],
    /// Whether the peer proved it knows the key: [`AuthError::DigestReceivedWrong`] for a wrong
    /// MAC, another [`AuthError`] for an answer that cannot be parsed.
    pub result: Result<(), AuthError>,
}

/// The side that answers: MACs the peer's challenge with the key and learns whether the peer
/// accepted it. Its use is shown with [`Deliverer`].
#[derive(Debug)]
pub struct Answerer {
    key: AuthKey,
    dialect: Dialect,
}

impl Answerer {
    /// An answerer speaking `dialect`: the modern one (any digest: the answer names the digest
    /// the challenge names) answers both kinds of challenge as CPython 3.12+ does; the legacy
    /// one answers as CPython ≤ 3.11, a bare HMAC-MD5 of whatever the challenge holds.
    pub fn new(key: AuthKey, dialect: Dialect) -> Self {
        Answerer { key, dialect }
    }

    /// The answer to the peer's first message, which must be `#CHALLENGE#` and a challenge
    /// ([`AuthError::ExpectedChallenge`] otherwise). A modern answerer also refuses a challenge
    /// under 20 bytes ([`AuthError::ChallengeTooShort`]) and one that names no allowed digest
    /// ([`AuthError::UnsupportedDigest`]).
    pub fn respond(&self, message: &[u8]) -> Result<Vec<u8>, AuthError> {
        let Some(challenge) = message.strip_prefix(CHALLENGE) else {
            return Err(AuthError::ExpectedChallenge {
                message: message.to_vec(),
            });
        };
        match self.dialect {
            Dialect::Legacy => Ok(Digest::Md5.hmac(self.key.as_bytes(), challenge)),
            Dialect::Modern(_) if challenge.len() < LEGACY_NONCE_LEN => {
                Err(AuthError::ChallengeTooShort {
                    len: challenge.len(),
                })
            }
            Dialect::Modern(_) => create_response(&self.key, challenge),
        }
    }

    /// Reads the peer's verdict on the answer: [`WELCOME`] ends the handshake, anything else
    /// is [`AuthError::DigestSentRejected`].
    pub fn finish(self, verdict: &[u8]) -> Result<(), AuthError> {
        if verdict == WELCOME {
            Ok(())
        } else {
            Err(AuthError::DigestSentRejected)
        }
    }
}

/// How many random bytes a challenge of `dialect` carries.
pub(super) fn nonce_len(dialect: Dialect) -> usize {
    match dialect {
        Dialect::Legacy => LEGACY_NONCE_LEN,
        Dialect::Modern(_) => MODERN_NONCE_LEN,
    }
}
