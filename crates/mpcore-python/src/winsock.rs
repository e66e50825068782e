//! The Windows-only functions of stock `_multiprocessing`: `closesocket(handle, /)`,
//! `recv(handle, size, /)` and `send(handle, buf, /)`, which `multiprocessing.connection` uses
//! for socket connections on Windows. Each releases the GIL around its Winsock call, and a
//! failure is `OSError` from `WSAGetLastError()`, as in stock.
//!
//! Compiled for Windows only: linted from Linux (`scripts/cross-check.sh`) and linked into the
//! Windows wheel (`scripts/wine-test.sh`); never run, for want of a Windows CPython.
//! One difference, forced by the abi3-py310 build (the buffer protocol joined the limited API
//! only in 3.11): `send` takes `bytes` as is and copies any other bytes-like object once.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};
use windows_sys::Win32::Networking::WinSock::{self, WSAGetLastError, SOCKET};

use crate::args::{self, Arity};
use crate::exceptions::{os_error, out_of_memory};

/// The Windows error of the last failed Winsock call, as `OSError`.
fn socket_error(py: Python<'_>) -> PyErr {
    // SAFETY: WSAGetLastError only reads this thread's last-error slot.
    os_error(py, unsafe { WSAGetLastError() })
}

/// The clinic `HANDLE` converter: `PyLong_AsVoidPtr`.
fn handle_arg(obj: &Bound<'_, PyAny>) -> PyResult<SOCKET> {
    // SAFETY: `obj` is a live object and we hold the GIL; failure is NULL with an exception set.
    let handle = unsafe { ffi::PyLong_AsVoidPtr(obj.as_ptr()) };
    if handle.is_null() {
        if let Some(err) = PyErr::take(obj.py()) {
            return Err(err);
        }
    }
    Ok(handle as SOCKET)
}

/// No keywords and the positional arguments `arity` says, with stock's messages.
fn positional<'py>(
    func: &str,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
    arity: Arity,
) -> PyResult<()> {
    args::no_keywords(func, kwargs)?;
    args::check_positional(&arity, args.len())
}

/// `recv` and `send`: two positional arguments, counted by Argument Clinic.
fn two(func: &'static str) -> Arity {
    Arity::Expected {
        func,
        min: 2,
        max: 2,
    }
}

#[pyfunction]
#[pyo3(signature = (*args, **kwargs), text_signature = "($module, handle, /)")]
fn closesocket(
    py: Python<'_>,
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<()> {
    let arity = Arity::One {
        qualname: "_multiprocessing.closesocket",
    };
    positional("closesocket", args, kwargs, arity)?;
    let socket = handle_arg(&args.get_item(0)?)?;
    // SAFETY: closesocket takes any value; an invalid one is reported as WSAENOTSOCK.
    let rc = py.detach(|| unsafe { WinSock::closesocket(socket) });
    if rc != 0 {
        return Err(socket_error(py));
    }
    Ok(())
}

#[pyfunction]
#[pyo3(signature = (*args, **kwargs), text_signature = "($module, handle, size, /)")]
fn recv<'py>(
    py: Python<'py>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyBytes>> {
    positional("recv", args, kwargs, two("recv"))?;
    let socket = handle_arg(&args.get_item(0)?)?;
    let size = args::c_int(&args.get_item(1)?)?;
    let len = args::recv_size(size)?;
    let mut buf = Vec::new();
    buf.try_reserve_exact(len).map_err(|_| out_of_memory())?;
    buf.resize(len, 0u8);
    let data = buf.as_mut_slice();
    // SAFETY: `data` is `size` writable bytes, borrowed exclusively for the whole call.
    let nread = py.detach(|| unsafe { WinSock::recv(socket, data.as_mut_ptr(), size, 0) });
    let Ok(nread) = usize::try_from(nread) else {
        return Err(socket_error(py));
    };
    Ok(PyBytes::new(py, &buf[..nread.min(len)]))
}

#[pyfunction]
#[pyo3(signature = (*args, **kwargs), text_signature = "($module, handle, buf, /)")]
fn send(
    py: Python<'_>,
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<i32> {
    positional("send", args, kwargs, two("send"))?;
    let socket = handle_arg(&args.get_item(0)?)?;
    let buf = args.get_item(1)?;
    let bytes = match buf.cast::<PyBytes>() {
        Ok(bytes) => bytes.clone(),
        Err(_) => copy_of_buffer(&buf)?,
    };
    let data = bytes.as_bytes();
    // Stock sends at most INT_MAX bytes at a time and reports how many went.
    let length = i32::try_from(data.len()).unwrap_or(i32::MAX);
    // SAFETY: `data` is at least `length` bytes of an immutable bytes object that we hold a
    // reference to for the whole call.
    let sent = py.detach(|| unsafe { WinSock::send(socket, data.as_ptr(), length, 0) });
    if sent < 0 {
        return Err(socket_error(py));
    }
    Ok(sent)
}

/// The bytes of any bytes-like object (`memoryview(obj).tobytes()`), with the `Py_buffer`
/// converter's error for anything else.
fn copy_of_buffer<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let py = obj.py();
    let view = py
        .import("builtins")?
        .getattr("memoryview")?
        .call1((obj,))
        .map_err(|_| args::bytes_like_required(obj))?;
    Ok(view.call_method0("tobytes")?.cast_into::<PyBytes>()?)
}

/// Adds the three functions to the module.
pub(crate) fn add(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(closesocket, m)?)?;
    m.add_function(wrap_pyfunction!(recv, m)?)?;
    m.add_function(wrap_pyfunction!(send, m)?)?;
    Ok(())
}
