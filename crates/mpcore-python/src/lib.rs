//! `_multiprocessing` for CPython 3.10 to 3.13, built on `mpcore`.
//!
//! The module stock CPython ships as a C extension: `SemLock`, `sem_unlink` and `flags`, plus
//! `closesocket`, `recv` and `send` on Windows. Each item behaves like the stock one of the
//! interpreter that imports it, down to argument errors.
//!
//! Platforms: built and tested on Linux; type-checked for Windows and macOS (x86-64 and arm64)
//! by `scripts/cross-check.sh`, never run there.

mod args;
mod errors;
mod fastcall;
mod semlock;
#[cfg(windows)]
mod winsock;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

#[pyfunction]
#[pyo3(signature = (*args, **kwargs), text_signature = "($module, name, /)")]
fn sem_unlink(
    py: Python<'_>,
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<()> {
    args::no_keywords("_multiprocessing.sem_unlink", kwargs)?;
    if args.len() != 1 {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "_multiprocessing.sem_unlink() takes exactly one argument ({} given)",
            args.len()
        )));
    }
    let name = args::clinic_str("sem_unlink", "argument", &args.get_item(0)?)?;
    mpcore::unlink(&name).map_err(errors::py_err(py))
}

/// Semaphores and the helpers `multiprocessing` builds on, in Rust.
#[pymodule]
fn _multiprocessing(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    args::init(py);
    m.add_class::<semlock::PySemLock>()?;
    m.add_function(wrap_pyfunction!(sem_unlink, m)?)?;
    #[cfg(windows)]
    winsock::add(m)?;
    let flags = PyDict::new(py);
    for (name, value) in mpcore::PLATFORM_FLAGS {
        flags.set_item(name, value)?;
    }
    m.add("flags", flags)?;
    Ok(())
}
