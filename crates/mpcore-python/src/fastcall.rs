//! Raw `METH_FASTCALL` methods for the hot paths (`acquire`, `__exit__`).
//!
//! PyO3 gives a method that takes `**kwargs` the tuple-and-dict calling convention, which
//! allocates a tuple per call and costs more than the whole `sem_trywait`. Stock CPython's
//! `acquire` is a vectorcall method, and ours must be as cheap, while still parsing arguments
//! ourselves (for CPython's exact error messages). So these few methods are plain
//! `METH_FASTCALL | METH_KEYWORDS` functions, installed on the class as method descriptors from
//! a `#[classattr]`.

use std::ffi::CStr;
use std::os::raw::c_int;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::exceptions;

/// The arguments of one vectorcall: positional values, then keyword values named by `kwnames`.
pub(crate) struct FastArgs<'a, 'py> {
    py: Python<'py>,
    args: &'a [*mut ffi::PyObject],
    nargs: usize,
    kwnames: Option<Borrowed<'a, 'py, pyo3::types::PyTuple>>,
}

impl<'a, 'py> FastArgs<'a, 'py> {
    /// How many positional arguments were passed.
    pub(crate) fn nargs(&self) -> usize {
        self.nargs
    }

    /// How many keyword arguments were passed.
    pub(crate) fn nkwargs(&self) -> usize {
        self.args.len() - self.nargs
    }

    /// Positional argument `i` (`i < nargs()`).
    pub(crate) fn positional(&self, i: usize) -> Borrowed<'a, 'py, PyAny> {
        debug_assert!(i < self.nargs);
        // SAFETY: the caller of the vectorcall keeps every argument alive for the call.
        unsafe { Borrowed::from_ptr(self.py, self.args[i]) }
    }

    /// The keyword arguments, as (name, value) pairs in call order.
    pub(crate) fn keywords(&self) -> Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let Some(names) = self.kwnames else {
            return Vec::new();
        };
        self.args[self.nargs..]
            .iter()
            .enumerate()
            .map(|(i, &value)| {
                // SAFETY: vectorcall passes one name in `kwnames` per keyword value, and both
                // stay alive for the duration of the call.
                let name = unsafe { names.get_borrowed_item_unchecked(i) }.to_owned();
                // SAFETY: as for positional arguments.
                let value = unsafe { Borrowed::from_ptr(self.py, value) }.to_owned();
                (name, value)
            })
            .collect()
    }
}

/// The calling conventions used here.
pub(crate) enum Convention {
    /// `METH_NOARGS`: `method()`.
    NoArgs,
    /// `METH_FASTCALL`: positional arguments only.
    Fast,
    /// `METH_FASTCALL | METH_KEYWORDS`.
    FastWithKeywords,
}

/// A method implemented with the vectorcall convention.
pub(crate) trait FastMethod {
    /// The method's name.
    const NAME: &'static CStr;
    /// `__doc__`, with the `name(sig)\n--\n\n` header that sets `__text_signature__`.
    const DOC: &'static CStr;
    /// How the interpreter passes arguments; with anything but `FastWithKeywords` it refuses
    /// keyword arguments itself (and with `NoArgs`, any argument), with CPython's messages.
    const CONVENTION: Convention;
    /// The method body. `slf` is an instance of the class the descriptor was made for.
    fn call<'py>(slf: Borrowed<'_, 'py, PyAny>, args: FastArgs<'_, 'py>) -> PyResult<Py<PyAny>>;
    /// The method called with no arguments at all, the hot case of `acquire()` and
    /// `release()`. Same as `call` with no arguments unless a method has a shorter way.
    #[inline(always)]
    fn call_bare<'py>(slf: Borrowed<'_, 'py, PyAny>) -> PyResult<Py<PyAny>> {
        Self::call(
            slf,
            FastArgs {
                py: slf.py(),
                args: &[],
                nargs: 0,
                kwnames: None,
            },
        )
    }
}

/// Runs a method body with panics caught, and turns its result into what the interpreter
/// expects: a new reference, or NULL with the exception set.
#[inline(always)]
fn finish<'py>(py: Python<'py>, body: impl FnOnce() -> PyResult<Py<PyAny>>) -> *mut ffi::PyObject {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(Ok(value)) => value.into_ptr(),
        Ok(Err(err)) => raise(py, err),
        Err(payload) => raise_panic(py, payload),
    }
}

#[cold]
#[inline(never)]
fn raise(py: Python<'_>, err: PyErr) -> *mut ffi::PyObject {
    err.restore(py);
    std::ptr::null_mut()
}

#[cold]
#[inline(never)]
fn raise_panic(py: Python<'_>, payload: Box<dyn std::any::Any + Send>) -> *mut ffi::PyObject {
    raise(py, exceptions::panic_exception(payload))
}

/// The body of every trampoline for a call without arguments: kept small, so that the hot calls
/// pay for no argument handling and no register saves they do not need.
///
/// # Safety
/// `slf` is the live instance the method was called on, by the interpreter, with the GIL held.
#[inline(always)]
unsafe fn call_bare<M: FastMethod>(slf: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: the interpreter calls methods with the GIL held (attached thread), and nothing
    // derived from this token outlives the call.
    let py = unsafe { Python::assume_attached() };
    // SAFETY: `slf` is the live instance the method was called on.
    let slf = unsafe { Borrowed::from_ptr(py, slf) };
    finish(py, || M::call_bare(slf))
}

/// A call with arguments: gathers them into [`FastArgs`]. Out of line, away from the hot path.
///
/// # Safety
/// The vectorcall contract: `slf` is live, `args` holds `nargs` positional values followed by
/// one value per name in `kwnames` (a tuple, or NULL for none), all alive for the call, and the
/// GIL is held.
#[inline(never)]
unsafe fn call_with_args<M: FastMethod>(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: usize,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: as in `call_bare`.
    let py = unsafe { Python::assume_attached() };
    let nkw = if kwnames.is_null() {
        0
    } else {
        // SAFETY: a non-NULL `kwnames` is a tuple.
        unsafe { ffi::PyTuple_Size(kwnames) as usize }
    };
    let all: &[*mut ffi::PyObject] = if nargs + nkw == 0 {
        &[]
    } else {
        // SAFETY: vectorcall passes `nargs` positional values followed by one value per
        // keyword name, all valid for the duration of the call.
        unsafe { std::slice::from_raw_parts(args, nargs + nkw) }
    };
    let kwnames = (!kwnames.is_null()).then(|| {
        // SAFETY: non-NULL `kwnames` is a live tuple borrowed for the call.
        unsafe { Borrowed::from_ptr(py, kwnames).cast_unchecked() }
    });
    let fast_args = FastArgs {
        py,
        args: all,
        nargs,
        kwnames,
    };
    // SAFETY: `slf` is the live instance the method was called on.
    let slf = unsafe { Borrowed::from_ptr(py, slf) };
    finish(py, || M::call(slf, fast_args))
}

unsafe extern "C" fn trampoline<M: FastMethod>(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargsf: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // The high bit is PY_VECTORCALL_ARGUMENTS_OFFSET, a flag, not part of the count.
    let nargs = (nargsf as usize) & !(1usize << (usize::BITS - 1));
    if nargs == 0 && kwnames.is_null() {
        // SAFETY: the interpreter's call: `slf` is live and the GIL held.
        return unsafe { call_bare::<M>(slf) };
    }
    // SAFETY: the interpreter's vectorcall, passed on as it came.
    unsafe { call_with_args::<M>(slf, args, nargs, kwnames) }
}

unsafe extern "C" fn trampoline_positional<M: FastMethod>(
    slf: *mut ffi::PyObject,
    args: *mut *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    // SAFETY: same contract as `trampoline`, with no keyword names.
    unsafe { trampoline::<M>(slf, args, nargs, std::ptr::null_mut()) }
}

unsafe extern "C" fn trampoline_noargs<M: FastMethod>(
    slf: *mut ffi::PyObject,
    _unused: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: the interpreter's METH_NOARGS call: `slf` is live and the GIL held.
    unsafe { call_bare::<M>(slf) }
}

/// The method descriptor for `M` on `cls`: what a `#[classattr]` returns to install it.
pub(crate) fn descriptor<M: FastMethod>(cls: &Bound<'_, PyType>) -> PyResult<Py<PyAny>> {
    let (meth, flags): (ffi::PyMethodDefPointer, c_int) = match M::CONVENTION {
        Convention::NoArgs => (
            ffi::PyMethodDefPointer {
                PyCFunction: trampoline_noargs::<M>,
            },
            ffi::METH_NOARGS,
        ),
        Convention::Fast => (
            ffi::PyMethodDefPointer {
                PyCFunctionFast: trampoline_positional::<M>,
            },
            ffi::METH_FASTCALL,
        ),
        Convention::FastWithKeywords => (
            ffi::PyMethodDefPointer {
                PyCFunctionFastWithKeywords: trampoline::<M>,
            },
            ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
        ),
    };
    // The descriptor keeps a pointer to its definition for its whole life: leak one per class
    // initialisation (once per interpreter).
    let def = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: M::NAME.as_ptr(),
        ml_meth: meth,
        ml_flags: flags,
        ml_doc: M::DOC.as_ptr(),
    }));
    // SAFETY: `cls` is a live type object and `def` a method definition that lives forever.
    let descr = unsafe { ffi::PyDescr_NewMethod(cls.as_type_ptr(), def) };
    // SAFETY: PyDescr_NewMethod returns a new reference or NULL with an exception set.
    unsafe { Bound::from_owned_ptr_or_err(cls.py(), descr) }.map(Bound::unbind)
}
