//! The one place where `mpcore` errors become Python exceptions, as stock `_multiprocessing`
//! raises them.

use pyo3::exceptions::{
    PyAssertionError, PyEOFError, PyInterruptedError, PyNotImplementedError, PyOSError,
    PyOverflowError, PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;

use mpcore::Error;

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

/// The Python exception for an `mpcore` error.
pub(crate) fn to_py(py: Python<'_>, err: Error) -> PyErr {
    match err {
        Error::Interrupted => PyInterruptedError::new_err((EINTR, "Interrupted system call")),
        Error::UnrecognizedKind | Error::ReleasedTooManyTimes => {
            PyValueError::new_err(err.to_string())
        }
        Error::NotOwner => PyAssertionError::new_err(err.to_string()),
        Error::ValueUnavailable => PyNotImplementedError::new_err(()),
        Error::InvalidHandle => PyOSError::new_err((EINVAL, err.to_string())),
        Error::TimeoutTooLarge => PyOverflowError::new_err(err.to_string()),
        Error::UnrecognizedWaitResult(_) => PyRuntimeError::new_err(err.to_string()),
        Error::Eof => PyEOFError::new_err(()),
        Error::EofInMessage
        | Error::BadMessageLength
        | Error::Closed
        | Error::WriteOnly
        | Error::ReadOnly => PyOSError::new_err(err.to_string()),
        Error::NeitherReadableNorWritable | Error::SendPending => {
            PyValueError::new_err(err.to_string())
        }
        Error::Auth(auth) => authentication_error(py, auth.to_string()),
        // `errno` on POSIX, a Windows error code on Windows: `os_error` knows which.
        Error::Os(io) => match io.raw_os_error() {
            Some(code) => os_error(py, code),
            None => PyOSError::new_err(io.to_string()),
        },
    }
}

/// `multiprocessing.AuthenticationError(message)`.
fn authentication_error(py: Python<'_>, message: String) -> PyErr {
    let class = py
        .import("multiprocessing")
        .and_then(|module| module.getattr("AuthenticationError"));
    match class.and_then(|class| class.call1((message,))) {
        Ok(instance) => PyErr::from_value(instance),
        Err(err) => err,
    }
}

/// `errno` values that are the same on every platform we build for (Linux, macOS, Windows CRT).
const EINTR: i32 = 4;
const EINVAL: i32 = 22;

/// `?`-friendly conversion: `result.map_err(py_err(py))`.
pub(crate) fn py_err(py: Python<'_>) -> impl Fn(Error) -> PyErr + '_ {
    move |err| to_py(py, err)
}
