//! The buffer protocol (`PyObject_GetBuffer`), for reading and writing any bytes-like object in
//! place.
//!
//! It joined the stable ABI in 3.11, so PyO3's abi3-py310 build leaves it out; but the
//! functions and the `Py_buffer` layout are the same in every CPython this module supports
//! (3.10 included), so they are declared here. Without them, `send_bytes(memoryview)` (what
//! `Connection.send` passes) would need a copy.

use std::os::raw::{c_char, c_int, c_void};
use std::ptr;

use pyo3::ffi::{PyObject, Py_ssize_t};
use pyo3::prelude::*;

#[repr(C)]
struct RawBuffer {
    buf: *mut c_void,
    obj: *mut PyObject,
    len: Py_ssize_t,
    itemsize: Py_ssize_t,
    readonly: c_int,
    ndim: c_int,
    format: *mut c_char,
    shape: *mut Py_ssize_t,
    strides: *mut Py_ssize_t,
    suboffsets: *mut Py_ssize_t,
    internal: *mut c_void,
}

extern "C" {
    fn PyObject_GetBuffer(obj: *mut PyObject, view: *mut RawBuffer, flags: c_int) -> c_int;
    fn PyBuffer_Release(view: *mut RawBuffer);
}

/// `PyBUF_ND`: a C-contiguous run of bytes, whatever the item type, with its shape (without it
/// a `memoryview` reports every export as one-dimensional, and the caller could not tell).
const PYBUF_ND: c_int = 0x0008;
/// `PyBUF_WRITABLE`.
const PYBUF_WRITABLE: c_int = 0x0001;

/// An exported buffer: the object's memory, pinned (a `bytearray` cannot resize) until drop.
/// Not `Send`: it must be released with the GIL held, where it was taken.
pub(crate) struct Buffer {
    view: RawBuffer,
}

impl Buffer {
    /// The bytes of `obj`, read-only; `None` if it has no C-contiguous buffer (the exception is
    /// cleared: callers fall back to the stock code path, which raises the stock error).
    pub(crate) fn readable(obj: &Bound<'_, PyAny>) -> Option<Buffer> {
        Self::get(obj, PYBUF_ND)
    }

    /// The bytes of `obj`, writable; `None` as for [`readable`](Self::readable).
    pub(crate) fn writable(obj: &Bound<'_, PyAny>) -> Option<Buffer> {
        Self::get(obj, PYBUF_WRITABLE | PYBUF_ND)
    }

    fn get(obj: &Bound<'_, PyAny>, flags: c_int) -> Option<Buffer> {
        let mut view = RawBuffer {
            buf: ptr::null_mut(),
            obj: ptr::null_mut(),
            len: 0,
            itemsize: 0,
            readonly: 0,
            ndim: 0,
            format: ptr::null_mut(),
            shape: ptr::null_mut(),
            strides: ptr::null_mut(),
            suboffsets: ptr::null_mut(),
            internal: ptr::null_mut(),
        };
        // SAFETY: `obj` is a live object, `view` a writable Py_buffer; we hold the GIL.
        if unsafe { PyObject_GetBuffer(obj.as_ptr(), &mut view, flags) } != 0 {
            drop(PyErr::take(obj.py()));
            return None;
        }
        Some(Buffer { view })
    }

    /// The size of one item (`array('i')` has 4): offsets in bytes mean something else to
    /// code that counts items.
    pub(crate) fn itemsize(&self) -> usize {
        self.view.itemsize as usize
    }

    /// The number of dimensions (0 for a scalar such as `ctypes.c_int`): the stock code indexes
    /// and measures a `memoryview` by its first dimension, so only 1 means "a run of items".
    pub(crate) fn ndim(&self) -> usize {
        self.view.ndim as usize
    }

    /// The buffer's bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        if self.view.len == 0 {
            return &[];
        }
        // SAFETY: a PyBUF_ND (and WRITABLE) export is `len` C-contiguous bytes at `buf`, valid and
        // unmoved until PyBuffer_Release (in drop), which `&self` outlives.
        unsafe { std::slice::from_raw_parts(self.view.buf.cast(), self.view.len as usize) }
    }

    /// The buffer's bytes, for writing; only from [`writable`](Self::writable).
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        debug_assert_eq!(self.view.readonly, 0);
        if self.view.len == 0 {
            return &mut [];
        }
        // SAFETY: as in `as_slice`; the export was requested writable, and `&mut self` makes
        // this the only slice of it.
        unsafe { std::slice::from_raw_parts_mut(self.view.buf.cast(), self.view.len as usize) }
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        // SAFETY: the view was filled by a successful PyObject_GetBuffer and is released once.
        // `Buffer` is not Send, so this runs on the thread that holds the GIL.
        unsafe { PyBuffer_Release(&mut self.view) };
    }
}
