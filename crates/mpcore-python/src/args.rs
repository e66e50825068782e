//! Argument parsing that behaves like the stock module's Argument Clinic code, word for word.
//!
//! PyO3's own argument errors are worded differently from CPython's, and stock
//! `_multiprocessing` changed its rules between versions (3.11 accepts only integers for
//! `block`/`unlink`, 3.12 any object's truth; 3.13 rewords unknown keywords). Methods take
//! `*args, **kwargs` and bind them here, following the interpreter the module runs in.

#[cfg(unix)]
use std::ops::Range;
use std::sync::OnceLock;

use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple, PyType};

use crate::fastcall::FastArgs;

static PYTHON_MINOR: OnceLock<u8> = OnceLock::new();

/// Records the running interpreter's version; called once when the module is loaded.
pub(crate) fn init(py: Python<'_>) {
    PYTHON_MINOR.get_or_init(|| py.version_info().minor);
}

/// The running interpreter's minor version (3.x).
pub(crate) fn python_minor() -> u8 {
    PYTHON_MINOR.get().copied().unwrap_or(11)
}

/// The parameters of a function that takes positional-or-keyword arguments.
pub(crate) struct Signature {
    /// The name in error messages, `acquire` or `SemLock`.
    pub(crate) func: &'static str,
    /// Parameter names, in order.
    pub(crate) params: &'static [&'static str],
    /// How many leading parameters are required.
    pub(crate) required: usize,
}

impl Signature {
    /// Binds a tuple and dict of arguments (PyO3's `*args, **kwargs`).
    pub(crate) fn bind<'py, const N: usize>(
        &self,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<[Option<Bound<'py, PyAny>>; N]> {
        let keywords: Vec<_> = kwargs.into_iter().flat_map(|kw| kw.iter()).collect();
        self.bind_with(args.len(), |i| args.get_item(i), &keywords)
    }

    /// Binds the arguments of a vectorcall. Kept out of line: the hot no-argument calls never
    /// come here, and inlining it would bloat their frames.
    #[inline(never)]
    pub(crate) fn bind_fast<'py, const N: usize>(
        &self,
        args: &FastArgs<'_, 'py>,
    ) -> PyResult<[Option<Bound<'py, PyAny>>; N]> {
        let keywords = if args.nkwargs() == 0 {
            Vec::new()
        } else {
            args.keywords()
        };
        self.bind_with(
            args.nargs(),
            |i| Ok(args.positional(i).to_owned()),
            &keywords,
        )
    }

    /// Argument Clinic's algorithm: too many arguments; then positional values; then each
    /// remaining parameter by keyword, a missing required one being an error; then any keyword
    /// left over (a duplicate of a positional one, or an unknown name).
    fn bind_with<'py, const N: usize>(
        &self,
        nargs: usize,
        positional: impl Fn(usize) -> PyResult<Bound<'py, PyAny>>,
        keywords: &[(Bound<'py, PyAny>, Bound<'py, PyAny>)],
    ) -> PyResult<[Option<Bound<'py, PyAny>>; N]> {
        debug_assert_eq!(N, self.params.len());
        let nkw = keywords.len();
        let arity = Arity::Takes {
            func: self.func,
            min: 0,
            max: N,
        };
        check_positional(&arity, nargs + nkw)?;
        let mut bound: [Option<Bound<'py, PyAny>>; N] = std::array::from_fn(|_| None);
        let mut matched = 0;
        for (i, slot) in bound.iter_mut().enumerate() {
            if i < nargs {
                *slot = Some(positional(i)?);
                continue;
            }
            if nkw > 0 {
                let param = self.params[i];
                if let Some((_, value)) = keywords.iter().find(|(name, _)| key_is(name, param)) {
                    *slot = Some(value.clone());
                    matched += 1;
                    continue;
                }
            }
            if i < self.required {
                return Err(PyTypeError::new_err(format!(
                    "{}() missing required argument '{}' (pos {})",
                    self.func,
                    self.params[i],
                    i + 1
                )));
            }
        }
        if matched < nkw {
            return Err(self.unexpected_keyword(keywords.iter().map(|(name, _)| name), nargs));
        }
        Ok(bound)
    }

    /// The error for the first keyword that matched no free parameter.
    fn unexpected_keyword<'a, 'py: 'a>(
        &self,
        names: impl Iterator<Item = &'a Bound<'py, PyAny>>,
        nargs: usize,
    ) -> PyErr {
        for key in names {
            let Ok(key) = key.cast::<PyString>() else {
                return PyTypeError::new_err("keywords must be strings");
            };
            let key = key.to_string_lossy().into_owned();
            match self.params.iter().position(|p| *p == key) {
                Some(pos) if pos < nargs => {
                    return PyTypeError::new_err(format!(
                        "argument for {}() given by name ('{}') and position ({})",
                        self.func,
                        key,
                        pos + 1
                    ));
                }
                Some(_) => continue,
                None if python_minor() >= 13 => {
                    return PyTypeError::new_err(format!(
                        "{}() got an unexpected keyword argument '{}'",
                        self.func, key
                    ));
                }
                None => {
                    return PyTypeError::new_err(format!(
                        "'{}' is an invalid keyword argument for {}()",
                        key, self.func
                    ));
                }
            }
        }
        PyTypeError::new_err(format!("{}() got unexpected keyword arguments", self.func))
    }
}

/// Whether a keyword argument's name is `param`.
fn key_is(name: &Bound<'_, PyAny>, param: &str) -> bool {
    name.cast::<PyString>()
        .ok()
        .and_then(|n| n.to_str().ok())
        .is_some_and(|n| n == param)
}

/// How a stock function counts its positional arguments, which decides the words of its error.
pub(crate) enum Arity {
    /// A `METH_O` function: `_multiprocessing.sem_unlink() takes exactly one argument (2 given)`.
    One {
        /// The qualified name, `_multiprocessing.sem_unlink`.
        qualname: &'static str,
    },
    /// `PyArg_ParseTuple` and Argument Clinic's keyword parser:
    /// `_rebuild() takes exactly 4 arguments (3 given)`, `acquire() takes at most 2 arguments
    /// (3 given)`.
    Takes {
        /// The name in the message, `_rebuild`.
        func: &'static str,
        /// The fewest positional arguments it takes.
        min: usize,
        /// The most.
        max: usize,
    },
    /// Argument Clinic's positional-only check: `recv expected 2 arguments, got 1`,
    /// `__exit__ expected at most 3 arguments, got 4`.
    Expected {
        /// The name in the message, `recv`.
        func: &'static str,
        /// The fewest positional arguments it takes.
        min: usize,
        /// The most.
        max: usize,
    },
}

/// Checks the number of positional arguments a function was given, with stock's message.
pub(crate) fn check_positional(arity: &Arity, given: usize) -> PyResult<()> {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let bounds = |min: usize, max: usize| match given {
        n if n < min && min == max => Some(("exactly ", min)),
        n if n < min => Some(("at least ", min)),
        n if n > max && min == max => Some(("exactly ", max)),
        n if n > max => Some(("at most ", max)),
        _ => None,
    };
    let message = match *arity {
        Arity::One { qualname } => {
            (given != 1).then(|| format!("{qualname}() takes exactly one argument ({given} given)"))
        }
        Arity::Takes { func, min, max } => bounds(min, max).map(|(how, n)| {
            format!(
                "{func}() takes {how}{n} argument{} ({given} given)",
                plural(n)
            )
        }),
        // Clinic says "expected 2 arguments", not "expected exactly 2 arguments".
        Arity::Expected { func, min, max } => bounds(min, max).map(|(how, n)| {
            let how = if min == max { "" } else { how };
            format!(
                "{func} expected {how}{n} argument{}, got {given}",
                plural(n)
            )
        }),
    };
    match message {
        Some(message) => Err(PyTypeError::new_err(message)),
        None => Ok(()),
    }
}

/// A converter's type error: `_rebuild() argument 1 must be int, not str`.
pub(crate) fn wrong_type(func: &str, what: &str, expected: &str, obj: &Bound<'_, PyAny>) -> PyErr {
    PyTypeError::new_err(format!(
        "{func}() {what} must be {expected}, not {}",
        type_name(obj)
    ))
}

/// Refuses keyword arguments, as a positional-only builtin does.
pub(crate) fn no_keywords(qualname: &str, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    match kwargs {
        Some(kw) if !kw.is_empty() => Err(PyTypeError::new_err(format!(
            "{qualname}() takes no keyword arguments"
        ))),
        _ => Ok(()),
    }
}

/// The type name CPython puts in "must be X, not Y" messages (`tp_name`): the bare name for
/// builtins and classes defined in Python, `module.name` for extension types.
pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    if obj.is_none() {
        return "None".to_owned();
    }
    let ty: Bound<'_, PyType> = obj.get_type();
    let name = ty
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned());
    // SAFETY: `ty` is a live type object for the duration of the call.
    let flags = unsafe { ffi::PyType_GetFlags(ty.as_type_ptr()) };
    if flags & ffi::Py_TPFLAGS_HEAPTYPE != 0 {
        return name;
    }
    match ty.module().map(|m| m.to_string()) {
        Ok(module) if module != "builtins" => format!("{module}.{name}"),
        _ => name,
    }
}

/// `_PyLong_AsInt`: an integer (or `__index__`) that fits a C `int`.
pub(crate) fn c_int(obj: &Bound<'_, PyAny>) -> PyResult<i32> {
    match long_value(obj)? {
        Some(v) if i32::try_from(v).is_ok() => Ok(v as i32),
        _ => Err(PyOverflowError::new_err(
            "Python int too large to convert to C int",
        )),
    }
}

/// `PyArg_ParseTuple`'s `i` format: an integer (or `__index__`) that fits a C `int`, with its
/// own overflow messages.
pub(crate) fn parse_tuple_int(obj: &Bound<'_, PyAny>) -> PyResult<i32> {
    match long_value(obj)? {
        None => Err(PyOverflowError::new_err(
            "Python int too large to convert to C long",
        )),
        Some(v) if v > i32::MAX as i64 => Err(PyOverflowError::new_err(
            "signed integer is greater than maximum",
        )),
        Some(v) if v < i32::MIN as i64 => Err(PyOverflowError::new_err(
            "signed integer is less than minimum",
        )),
        Some(v) => Ok(v as i32),
    }
}

/// `PyLong_AsLongAndOverflow`: `None` if the integer does not fit a C `long`.
fn long_value(obj: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    let mut overflow: std::os::raw::c_int = 0;
    // SAFETY: `obj` is a live object and `overflow` a valid out-pointer; the call may run
    // `__index__` (we hold the GIL) and reports failure as -1 with an exception set.
    let value = unsafe { ffi::PyLong_AsLongAndOverflow(obj.as_ptr(), &mut overflow) };
    if value == -1 {
        if let Some(err) = PyErr::take(obj.py()) {
            return Err(err);
        }
    }
    Ok((overflow == 0).then_some(value as i64))
}

/// The stock converters for `block` and `unlink`: an `int` on 3.10/3.11, any object's truth
/// from 3.12.
pub(crate) fn clinic_bool(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    if python_minor() >= 12 {
        obj.is_truthy()
    } else {
        Ok(c_int(obj)? != 0)
    }
}

/// The clinic `str` converter: a `str` without NUL characters, encoded as UTF-8.
/// `what` names the argument in the error (`argument 'name'`, or just `argument`).
pub(crate) fn clinic_str(func: &str, what: &str, obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let Ok(s) = obj.cast::<PyString>() else {
        return Err(wrong_type(func, what, "str", obj));
    };
    let s = s.to_str()?;
    if s.contains('\0') {
        return Err(PyValueError::new_err("embedded null character"));
    }
    Ok(s.to_owned())
}

/// The timeout rule of `acquire`: `None` is "no timeout", anything else goes through
/// `float()` conversion (`PyFloat_AsDouble`).
pub(crate) fn optional_seconds(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<f64>> {
    match obj {
        None => Ok(None),
        Some(obj) if obj.is_none() => Ok(None),
        Some(obj) => obj.extract::<f64>().map(Some),
    }
}

/// The bytes `Connection.send_bytes(buf, offset, size)` sends out of a buffer of `len` bytes,
/// with stock's checks and messages (`size` `None`: the rest of the buffer).
#[cfg(unix)]
pub(crate) fn send_range(len: usize, offset: i64, size: Option<i64>) -> PyResult<Range<usize>> {
    let len = len as i64;
    if offset < 0 {
        return Err(PyValueError::new_err("offset is negative"));
    }
    if len < offset {
        return Err(PyValueError::new_err("buffer length < offset"));
    }
    let end = match size {
        None => len,
        Some(size) if size < 0 => return Err(PyValueError::new_err("size is negative")),
        Some(size) => match offset.checked_add(size) {
            Some(end) if end <= len => end,
            _ => return Err(PyValueError::new_err("buffer length < offset + size")),
        },
    };
    Ok(offset as usize..end as usize)
}

/// Where `Connection.recv_bytes_into(buf, offset)` writes in a buffer of `len` bytes, with
/// stock's checks and messages.
#[cfg(unix)]
pub(crate) fn recv_into_offset(len: usize, offset: i64) -> PyResult<usize> {
    if offset < 0 {
        return Err(PyValueError::new_err("negative offset"));
    }
    if offset > len as i64 {
        return Err(PyValueError::new_err("offset too large"));
    }
    Ok(offset as usize)
}

/// The size `recv(handle, size)` reads, with stock's error for a negative one (raised where
/// stock allocates its result).
#[cfg(windows)]
pub(crate) fn recv_size(size: i32) -> PyResult<usize> {
    usize::try_from(size).map_err(|_| {
        pyo3::exceptions::PySystemError::new_err(
            "Negative size passed to PyBytes_FromStringAndSize",
        )
    })
}

/// The `Py_buffer` converter's error for an object without the buffer protocol.
#[cfg(windows)]
pub(crate) fn bytes_like_required(obj: &Bound<'_, PyAny>) -> PyErr {
    PyTypeError::new_err(format!(
        "a bytes-like object is required, not '{}'",
        type_name(obj)
    ))
}
