//! `multiprocessing_rs._native`: CPython's `_multiprocessing` for 3.10 to 3.13, built on `mpcore`.
//!
//! The override shim (`python/multiprocessing_rs/_override/_multiprocessing.py`) re-exports it
//! under the stock name `_multiprocessing`.
//!
//! The module stock CPython ships as a C extension: `SemLock`, `sem_unlink` and `flags`, plus
//! `closesocket`, `recv` and `send` on Windows. Each item behaves like the stock one of the
//! interpreter that imports it, down to argument errors.
//!
//! It also carries what stock CPython leaves to Python code: the message framing of
//! `Connection` (`send_bytes`, `recv_bytes`, `recv_bytes_into`, `poll`, POSIX) and the
//! handshake (`Deliverer`, `Answerer`, `create_response`, `verify_response`), which
//! `multiprocessing_rs._connection` wires into `multiprocessing.connection`.
//!
//! Platforms: built and tested on Linux; linted for Windows and macOS (x86-64 and arm64) by
//! `scripts/cross-check.sh`, and linked for Windows by `scripts/wine-test.sh`; never run there.

mod args;
mod auth;
#[cfg(unix)]
mod buffer;
#[cfg(unix)]
mod connection;
mod exceptions;
mod fastcall;
#[cfg(target_os = "linux")]
mod named_objects;
mod semlock;
#[cfg(windows)]
mod winsock;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

/// `_multiprocessing.flags`: the build options stock CPython reports on this platform (the
/// calls they name are the ones `mpcore` makes there).
const FLAGS: &[(&str, i32)] = if cfg!(windows) {
    &[]
} else if cfg!(target_vendor = "apple") {
    &[("HAVE_SEM_OPEN", 1), ("HAVE_BROKEN_SEM_GETVALUE", 1)]
} else {
    &[("HAVE_SEM_OPEN", 1), ("HAVE_SEM_TIMEDWAIT", 1)]
};

#[pyfunction]
#[pyo3(signature = (*args, **kwargs), text_signature = "($module, name, /)")]
fn sem_unlink(args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    const QUALNAME: &str = "_multiprocessing.sem_unlink";
    args::no_keywords(QUALNAME, kwargs)?;
    args::check_positional(&args::Arity::One { qualname: QUALNAME }, args.len())?;
    let name = args::clinic_str("sem_unlink", "argument", &args.get_item(0)?)?;
    Ok(mpcore::unlink(&name).map_err(exceptions::CoreError)?)
}

/// Semaphores and the helpers `multiprocessing` builds on, in Rust.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    args::init(py);
    m.add_class::<semlock::PySemLock>()?;
    m.add(
        "BadMessageLength",
        py.get_type::<exceptions::BadMessageLength>(),
    )?;
    semlock::make_immutable(py);
    let unlink = wrap_pyfunction!(sem_unlink, m)?;
    // The stock function belongs to `_multiprocessing`, which is also where pickle looks it up;
    // ours would otherwise name the package module it is built as.
    unlink.setattr("__module__", "_multiprocessing")?;
    m.add_function(unlink)?;
    #[cfg(windows)]
    winsock::add(m)?;
    #[cfg(unix)]
    {
        m.add_function(wrap_pyfunction!(connection::send_bytes, m)?)?;
        m.add_function(wrap_pyfunction!(connection::recv_bytes, m)?)?;
        m.add_function(wrap_pyfunction!(connection::recv_bytes_into, m)?)?;
        m.add_function(wrap_pyfunction!(connection::recv_bytes_reusing, m)?)?;
        m.add_function(wrap_pyfunction!(connection::poll, m)?)?;
    }
    #[cfg(target_os = "linux")]
    named_objects::add(m)?;
    auth::add(m)?;
    let flags = PyDict::new(py);
    for (name, value) in FLAGS {
        flags.set_item(name, value)?;
    }
    m.add("flags", flags)?;
    Ok(())
}
