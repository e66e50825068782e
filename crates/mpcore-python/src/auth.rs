//! The handshake of `multiprocessing.connection` for the wrappers in `_connection.py`:
//! `mpcore`'s state machines as small Python objects, one per handshake, and stock's two
//! private helpers (`_create_response`, `_verify_challenge`).
//!
//! The wrappers only move the messages over whatever connection object they are given, as the
//! stock functions do; the nonce, the MACs, the prefix rules, the verdict and the errors (in
//! stock's words, `exceptions.rs`) are `mpcore::auth` and this file. Both dialects: `Legacy`
//! for the wrappers of CPython 3.10 and 3.11, `Modern` from 3.12.

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyByteArray, PyBytes, PyTuple};

use mpcore::auth::{self, Answerer, Deliverer, CHALLENGE};
use mpcore::{AuthError, AuthKey, Dialect, Digest};

use crate::exceptions::{self, CoreError};

/// The deliverer's dialect: the legacy one for `None`, otherwise the modern one naming `digest`
/// (which must be one of `DIGESTS`: the wrappers hand any other to stock's own code).
fn dialect(digest: Option<&str>) -> PyResult<Dialect> {
    match digest {
        None => Ok(Dialect::Legacy),
        Some(name) => Digest::from_name(name.as_bytes())
            .map(Dialect::Modern)
            .ok_or_else(|| exceptions::unsupported_digest(name)),
    }
}

/// One side of a handshake that challenges: `Deliverer(authkey, digest)`.
///
/// Send `challenge`, pass the peer's answer to `verify`, send the reply it returns, then raise
/// the error it returns, if any.
#[pyclass(module = "multiprocessing_rs._native", name = "Deliverer")]
pub(crate) struct PyDeliverer {
    /// Taken by `verify`: a deliverer judges one answer.
    inner: Option<Deliverer>,
}

#[pymethods]
impl PyDeliverer {
    #[new]
    #[pyo3(signature = (authkey, digest))]
    fn new(authkey: &[u8], digest: Option<&str>) -> PyResult<Self> {
        let deliverer = Deliverer::new(AuthKey::new(authkey), dialect(digest)?);
        Ok(PyDeliverer {
            inner: Some(deliverer.map_err(CoreError)?),
        })
    }

    /// The first message: `#CHALLENGE#` and a fresh challenge.
    #[getter]
    fn challenge<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, self.deliverer()?.challenge()))
    }

    /// Judges the peer's answer: `(reply, error)`, where `reply` is `#WELCOME#` or `#FAILURE#`
    /// for the peer, and `error` the `AuthenticationError` to raise after sending it (`None`
    /// when the peer proved it has the key).
    /// The answer may be `bytes` or `bytearray` (what a `Connection` subclass's `recv_bytes`
    /// returned), as stock's comparison takes either.
    fn verify<'py>(
        &mut self,
        py: Python<'py>,
        response: PyBackedBytes,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let deliverer = self.inner.take().ok_or_else(exceptions::handshake_over)?;
        let verdict = deliverer.verify(&response);
        let error = match verdict.result {
            Ok(()) => None,
            Err(err) => Some(exceptions::authentication_error(py, err, None).into_value(py)),
        };
        (PyBytes::new(py, verdict.reply), error).into_pyobject(py)
    }
}

impl PyDeliverer {
    fn deliverer(&self) -> PyResult<&Deliverer> {
        self.inner.as_ref().ok_or_else(exceptions::handshake_over)
    }
}

/// One side of a handshake that answers: `Answerer(authkey, legacy, too_short)`.
///
/// Pass the peer's first message to `respond` and send what it returns; pass the peer's
/// verdict to `finish`, which raises `AuthenticationError` unless it is `#WELCOME#`.
/// `too_short(length)` words the error for a challenge under 20 bytes as the running
/// interpreter does (the legacy dialect has no such error).
#[pyclass(module = "multiprocessing_rs._native", name = "Answerer")]
pub(crate) struct PyAnswerer {
    /// Taken by `finish`.
    inner: Option<Answerer>,
    legacy: bool,
    too_short: Option<Py<PyAny>>,
}

#[pymethods]
impl PyAnswerer {
    #[new]
    #[pyo3(signature = (authkey, legacy, too_short))]
    fn new(authkey: &[u8], legacy: bool, too_short: Option<Py<PyAny>>) -> Self {
        let dialect = if legacy {
            Dialect::Legacy
        } else {
            Dialect::default()
        };
        PyAnswerer {
            inner: Some(Answerer::new(AuthKey::new(authkey), dialect)),
            legacy,
            too_short,
        }
    }

    /// The answer to the peer's first message (`bytes` or `bytearray`), which must be
    /// `#CHALLENGE#` and a challenge.
    fn respond<'py>(
        &self,
        py: Python<'py>,
        message: PyBackedBytes,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let message: &[u8] = &message;
        let answerer = self.inner.as_ref().ok_or_else(exceptions::handshake_over)?;
        let response = match answerer.respond(message) {
            Err(AuthError::ExpectedChallenge { .. }) if self.legacy => {
                legacy_respond(py, answerer, message)?
            }
            Err(err) => {
                let too_short = self.too_short.as_ref().map(|f| f.bind(py));
                return Err(exceptions::authentication_error(py, err, too_short));
            }
            Ok(response) => response,
        };
        Ok(PyBytes::new(py, &response))
    }

    /// Reads the peer's verdict on the answer: `AuthenticationError` unless it is
    /// `#WELCOME#` (anything else, of any type, is a rejection, as in stock).
    fn finish(&mut self, py: Python<'_>, verdict: &Bound<'_, PyAny>) -> PyResult<()> {
        let answerer = self.inner.take().ok_or_else(exceptions::handshake_over)?;
        // Stock compares with `==`, which a `bytearray` of the same bytes passes too.
        let verdict = match verdict.cast::<PyByteArray>() {
            Ok(array) => array.to_vec(),
            Err(_) => verdict
                .cast::<PyBytes>()
                .map_or(Vec::new(), |b| b.as_bytes().to_vec()),
        };
        answerer
            .finish(&verdict)
            .map_err(|err| exceptions::authentication_error(py, err, None))
    }
}

/// CPython 3.10 and 3.11 only *assert* that the first message is a challenge: that raises
/// `AssertionError('message = ...')`, and under `python -O` nothing, the answer then being the
/// MAC of whatever follows the first 11 bytes.
fn legacy_respond(py: Python<'_>, answerer: &Answerer, message: &[u8]) -> PyResult<Vec<u8>> {
    if !asserts_are_off(py)? {
        return Err(exceptions::not_a_challenge(py, message));
    }
    let rest = message.get(CHALLENGE.len()..).unwrap_or_default();
    Ok(answerer
        .respond(&[CHALLENGE, rest].concat())
        .map_err(CoreError::from)?)
}

/// Whether `assert` statements are skipped (`python -O`): `sys.flags.optimize`.
fn asserts_are_off(py: Python<'_>) -> PyResult<bool> {
    let optimize = py.import("sys")?.getattr("flags")?.getattr("optimize")?;
    Ok(optimize.extract::<i64>()? > 0)
}

/// `multiprocessing.connection._create_response(authkey, message)` (3.12+): the answer to a
/// challenge (`message` without `#CHALLENGE#`).
#[pyfunction]
pub(crate) fn create_response<'py>(
    py: Python<'py>,
    authkey: &[u8],
    message: PyBackedBytes,
) -> PyResult<Bound<'py, PyBytes>> {
    let response = auth::create_response(&AuthKey::new(authkey), &message)
        .map_err(|err| exceptions::authentication_error(py, err, None))?;
    Ok(PyBytes::new(py, &response))
}

/// `multiprocessing.connection._verify_challenge(authkey, message, response)` (3.12+): raises
/// `AuthenticationError` unless `response` answers the challenge `message`. In constant time.
#[pyfunction]
pub(crate) fn verify_response(
    py: Python<'_>,
    authkey: &[u8],
    message: PyBackedBytes,
    response: PyBackedBytes,
) -> PyResult<()> {
    auth::verify_response(
        &AuthKey::new(authkey),
        &message,
        &response,
        Dialect::default(),
    )
    .map_err(|err| exceptions::authentication_error(py, err, None))
}

/// Adds the handshake to the module, with the constants the wrappers share with `mpcore`.
pub(crate) fn add(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDeliverer>()?;
    m.add_class::<PyAnswerer>()?;
    m.add_function(wrap_pyfunction!(create_response, m)?)?;
    m.add_function(wrap_pyfunction!(verify_response, m)?)?;
    m.add("MAX_HANDSHAKE_MESSAGE", auth::MAX_HANDSHAKE_MESSAGE)?;
    let names: Vec<&str> = Digest::ALL.iter().map(|d| d.name()).collect();
    m.add("DIGESTS", PyTuple::new(m.py(), names)?)?;
    Ok(())
}
