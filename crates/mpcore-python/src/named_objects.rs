//! Where this process's named objects live (Linux): the semaphore backend in use and the private
//! directory of the file-backed one, for `python -m multiprocessing_rs semaphores`, and the
//! private-directory half of `SharedMemory`'s fallback (`_override/_posixshmem.py`).
//!
//! Not part of stock `_multiprocessing`: only the package's own modules use these.

use std::os::fd::IntoRawFd;

use pyo3::prelude::*;

use crate::exceptions::CoreError;

/// The semaphore backend this process creates with, `"posix"` or `"file"`, choosing it now if
/// no semaphore has been created yet.
#[pyfunction]
fn semaphore_backend() -> PyResult<&'static str> {
    match mpcore::semaphore_backend().map_err(CoreError)? {
        mpcore::SemaphoreBackend::Posix => Ok("posix"),
        mpcore::SemaphoreBackend::File => Ok("file"),
    }
}

/// The private directory of file-backed semaphores and shared memory (it may not exist yet).
#[pyfunction]
fn private_directory() -> std::ffi::OsString {
    mpcore::private_dir::path().as_os_str().to_os_string()
}

/// `shm_open(path, flags, mode)` in the private directory: a new descriptor the caller owns.
#[pyfunction]
#[pyo3(signature = (path, flags, mode = 0o777))]
fn private_shm_open(path: &str, flags: i32, mode: u32) -> PyResult<i32> {
    let file = mpcore::private_dir::shm_open(path, flags, mode)
        .map_err(|e| CoreError(mpcore::Error::Os(e)))?;
    Ok(file.into_raw_fd())
}

/// `shm_unlink(path)` in the private directory.
#[pyfunction]
fn private_shm_unlink(path: &str) -> PyResult<()> {
    mpcore::private_dir::shm_unlink(path).map_err(|e| CoreError(mpcore::Error::Os(e)).into())
}

/// Adds the functions above to the extension module.
pub(crate) fn add(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(semaphore_backend, m)?)?;
    m.add_function(wrap_pyfunction!(private_directory, m)?)?;
    m.add_function(wrap_pyfunction!(private_shm_open, m)?)?;
    m.add_function(wrap_pyfunction!(private_shm_unlink, m)?)?;
    Ok(())
}
