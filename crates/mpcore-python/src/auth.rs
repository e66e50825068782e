//! The cryptography of `multiprocessing.connection`'s challenge handshake, in Rust.
//!
//! The Python wrappers keep the order of the six messages (it must run over any
//! `Connection`-like object, as the stock functions do); the nonces, MACs, prefix parsing and
//! the constant-time comparison are `mpcore::auth`.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use mpcore::auth::{create_response, new_challenge, verify_response};
use mpcore::{AuthKey, Dialect, Digest};

use crate::exceptions::{self, CoreError};

/// The challenge dialect: the legacy one (`None`), or the modern one naming `digest`.
fn dialect(digest: Option<&str>) -> PyResult<Dialect> {
    match digest {
        None => Ok(Dialect::Legacy),
        Some(name) => Digest::from_name(name.as_bytes())
            .map(Dialect::Modern)
            .ok_or_else(|| exceptions::unsupported_digest(name)),
    }
}

/// A fresh challenge message (what follows `#CHALLENGE#`): a 20-byte nonce when `digest` is
/// `None` (CPython 3.11), otherwise `{digest}` and a 40-byte nonce (3.12+).
#[pyfunction]
#[pyo3(signature = (digest))]
pub(crate) fn auth_challenge<'py>(
    py: Python<'py>,
    digest: Option<&str>,
) -> PyResult<Bound<'py, PyBytes>> {
    let challenge = new_challenge(dialect(digest)?).map_err(CoreError)?;
    Ok(PyBytes::new(py, &challenge))
}

/// The answer to `message`: with `legacy`, CPython 3.11's bare HMAC-MD5 of the whole message;
/// otherwise 3.12's `_create_response`.
#[pyfunction]
pub(crate) fn auth_response<'py>(
    py: Python<'py>,
    authkey: &[u8],
    message: &[u8],
    legacy: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let key = AuthKey::new(authkey);
    let response = if legacy {
        Digest::Md5.hmac(key.as_bytes(), message)
    } else {
        create_response(&key, message).map_err(CoreError::from)?
    };
    Ok(PyBytes::new(py, &response))
}

/// Checks `response` to our challenge `message`, raising `AuthenticationError` as the stock
/// deliverer does: with `legacy`, CPython 3.11's comparison with a bare HMAC-MD5; otherwise
/// 3.12's `_verify_challenge`. In constant time.
#[pyfunction]
pub(crate) fn auth_verify(
    authkey: &[u8],
    message: &[u8],
    response: &[u8],
    legacy: bool,
) -> PyResult<()> {
    let dialect = if legacy {
        Dialect::Legacy
    } else {
        Dialect::default()
    };
    Ok(
        verify_response(&AuthKey::new(authkey), message, response, dialect)
            .map_err(CoreError::from)?,
    )
}
