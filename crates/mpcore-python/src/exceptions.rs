//! The one place where the binding makes Python exceptions: `mpcore` errors as stock
//! `_multiprocessing` and `multiprocessing.connection` raise them, in stock's words, and the few
//! exceptions that are not about arguments (those are in `args.rs`).
//!
//! `mpcore`'s own messages are written for Rust users; every Python-facing message is here.

use pyo3::exceptions::{
    PyAssertionError, PyAttributeError, PyEOFError, PyInterruptedError, PyNotImplementedError,
    PyOSError, PyOverflowError, PyRuntimeError, PyValueError,
};
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use mpcore::{AuthError, Error};

/// An `mpcore` error on its way to Python, as PyO3's guide converts a foreign error type: `?`
/// turns an `mpcore::Error` into it in a function that returns `Result<T, CoreError>`, and
/// `.map_err(CoreError)?` in one that returns `PyResult<T>`; PyO3 then raises the stock
/// exception (`From<CoreError> for PyErr`).
#[derive(Debug)]
pub(crate) struct CoreError(pub(crate) Error);

impl From<Error> for CoreError {
    fn from(err: Error) -> Self {
        CoreError(err)
    }
}

impl From<AuthError> for CoreError {
    fn from(err: AuthError) -> Self {
        CoreError(Error::Auth(err))
    }
}

impl From<CoreError> for PyErr {
    fn from(CoreError(err): CoreError) -> PyErr {
        // Every caller holds the GIL already, so this only borrows it.
        Python::attach(|py| to_py(py, err))
    }
}

pyo3::create_exception!(
    multiprocessing_rs._native,
    BadMessageLength,
    PyOSError,
    "A message longer than the receiver's `maxlength`: `OSError('bad message length')`. The \
     `Connection` wrappers catch it and call `_bad_message_length()`, as stock does."
);

/// The Python exception for an `mpcore` error, with stock's type and words.
fn to_py(py: Python<'_>, err: Error) -> PyErr {
    match err {
        Error::Interrupted => PyInterruptedError::new_err((EINTR, "Interrupted system call")),
        Error::UnrecognizedKind => PyValueError::new_err("unrecognized kind"),
        Error::ReleasedTooManyTimes => {
            PyValueError::new_err("semaphore or lock released too many times")
        }
        Error::NotOwner => {
            PyAssertionError::new_err("attempt to release recursive lock not owned by thread")
        }
        Error::ValueUnavailable => PyNotImplementedError::new_err(()),
        // Stock trusts any handle (and may crash); we refuse the unknown ones as an OS error.
        Error::InvalidHandle => {
            PyOSError::new_err((EINVAL, "not the handle of a semaphore open in this process"))
        }
        Error::TimeoutTooLarge => PyOverflowError::new_err("timeout is too large"),
        Error::UnrecognizedWaitResult(value) => PyRuntimeError::new_err(format!(
            "WaitForSingleObject() or WaitForMultipleObjects() gave unrecognized value {value}"
        )),
        Error::Eof => PyEOFError::new_err(()),
        Error::EofInMessage => PyOSError::new_err("got end of file during message"),
        Error::BadMessageLength => BadMessageLength::new_err("bad message length"),
        Error::Closed => PyOSError::new_err("handle is closed"),
        Error::WriteOnly => PyOSError::new_err("connection is write-only"),
        Error::ReadOnly => PyOSError::new_err("connection is read-only"),
        Error::NeitherReadableNorWritable => {
            PyValueError::new_err("at least one of `readable` and `writable` must be True")
        }
        Error::SendPending => PyValueError::new_err(err.to_string()),
        Error::Auth(auth) => authentication_error(py, auth, None),
        // `errno` on POSIX, a Windows error code on Windows: `os_error` knows which.
        Error::Os(io) => match io.raw_os_error() {
            Some(code) => os_error(py, code),
            None => PyOSError::new_err(io.to_string()),
        },
    }
}

/// `multiprocessing.AuthenticationError` for a failed handshake, in stock's words.
///
/// `too_short(length)` words [`AuthError::ChallengeTooShort`] as the running interpreter does:
/// CPython 3.12 and 3.13.0 forgot the f-prefix of that message, so it shows `{len(message)}` as
/// written, and later releases interpolate the length. `_connection.py` reads the wording from
/// stock's own code; without it, the length is interpolated.
pub(crate) fn authentication_error(
    py: Python<'_>,
    err: AuthError,
    too_short: Option<&Bound<'_, PyAny>>,
) -> PyErr {
    let message = match err {
        AuthError::DigestReceivedWrong => Ok("digest received was wrong".to_owned()),
        AuthError::DigestSentRejected => Ok("digest sent was rejected".to_owned()),
        AuthError::ExpectedChallenge { message } => bytes_repr(py, &message)
            .map(|message| format!("Protocol error, expected challenge: message={message}")),
        AuthError::ChallengeTooShort { len } => match too_short {
            Some(wording) => wording.call1((len,)).and_then(|m| m.extract::<String>()),
            None => Ok(format!("challenge too short: {len} bytes")),
        },
        AuthError::UnsupportedDigest { message } => bytes_repr(py, &message).map(|message| {
            format!(
                "unsupported message length, missing digest prefix, or unsupported digest: \
                 message={message}"
            )
        }),
        AuthError::WrongDigestLength {
            digest,
            expected,
            got,
        } => Ok(format!(
            "expected '{digest}' of length {expected} got {got}"
        )),
    };
    let class = py
        .import("multiprocessing")
        .and_then(|module| module.getattr("AuthenticationError"));
    match message.and_then(|message| class?.call1((message,))) {
        Ok(instance) => PyErr::from_value(instance),
        Err(err) => err,
    }
}

/// What CPython 3.10 and 3.11's `answer_challenge` raises for a first message that is not a
/// challenge: `assert message[:11] == CHALLENGE, 'message = %r' % message`.
pub(crate) fn not_a_challenge(py: Python<'_>, message: &[u8]) -> PyErr {
    match bytes_repr(py, message) {
        Ok(message) => PyAssertionError::new_err(format!("message = {message}")),
        Err(err) => err,
    }
}

/// What a handshake object says when used past its end (each judges one answer).
pub(crate) fn handshake_over() -> PyErr {
    PyValueError::new_err("this handshake is over")
}

/// `repr(bytes)`, by Python itself, as stock's messages quote the bytes a peer sent.
fn bytes_repr(py: Python<'_>, bytes: &[u8]) -> PyResult<String> {
    Ok(PyBytes::new(py, bytes).repr()?.to_string())
}

/// `OSError(errno, os.strerror(errno))`: the constructor picks the subclass
/// (`FileExistsError`, ...) and the message matches the one CPython builds from `errno`.
#[cfg(not(windows))]
pub(crate) fn os_error(py: Python<'_>, errno: i32) -> PyErr {
    use pyo3::sync::PyOnceLock;

    static STRERROR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let message = STRERROR
        .get_or_try_init(py, || {
            py.import("os")
                .and_then(|os| os.getattr("strerror"))
                .map(Bound::unbind)
        })
        .and_then(|strerror| strerror.bind(py).call1((errno,)))
        .and_then(|message| message.extract::<String>());
    match message {
        Ok(message) => PyOSError::new_err((errno, message)),
        Err(err) => err,
    }
}

/// What `PyErr_SetExcFromWindowsErr(PyExc_OSError, code)` raises, for a Windows error code
/// (`GetLastError()`, `WSAGetLastError()`): `OSError(code, message, None, code)`, whose
/// constructor derives `errno` and the subclass from the fourth argument, `winerror`. The
/// message is the system's (`FormatMessageW`), as the standard library formats it.
#[cfg(windows)]
pub(crate) fn os_error(py: Python<'_>, code: i32) -> PyErr {
    let full = std::io::Error::from_raw_os_error(code).to_string();
    let suffix = format!(" (os error {code})");
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
    PyOSError::new_err((code, message, py.None(), code))
}

/// A digest name the handshake does not know.
pub(crate) fn unsupported_digest(name: &str) -> PyErr {
    PyValueError::new_err(format!("unsupported digest {name:?}"))
}

/// What stock's read-only members raise when set or deleted.
pub(crate) fn readonly_attribute() -> PyErr {
    PyAttributeError::new_err("readonly attribute")
}

/// What a failed allocation raises: a bare `MemoryError`, as `PyErr_NoMemory()`.
#[cfg(windows)]
pub(crate) fn out_of_memory() -> PyErr {
    pyo3::exceptions::PyMemoryError::new_err(())
}

/// A Rust panic caught at the edge of a raw method, as PyO3 reports the ones it catches.
pub(crate) fn panic_exception(payload: Box<dyn std::any::Any + Send>) -> PyErr {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic from Rust code".to_owned());
    PanicException::new_err((message,))
}

/// `errno` values that are the same on every platform we build for (Linux, macOS, Windows CRT).
const EINTR: i32 = 4;
const EINVAL: i32 = 22;
