//! `_multiprocessing.SemLock`: a thin shell over [`mpcore::SemLock`].
//!
//! What lives here is only what Python adds: argument parsing, the GIL (held for the
//! non-blocking attempt, released for the wait), and running signal handlers when a wait is
//! interrupted, with the same deadline on every retry.
//!
//! The same loop serves every platform: `SemLock::wait` also returns `Interrupted` between the
//! polling steps of a macOS timed wait and the 50 ms slices of a Windows wait, which is where
//! stock CPython checks signals there too (Ctrl-C on Windows then raises `KeyboardInterrupt`
//! from the handler, where stock raises `InterruptedError` from its private SIGINT event).
//! What differs on Windows is kept in the few `cfg(windows)` lines below: when the timeout is
//! converted, and `_rebuild` taking over the handle its parent duplicated for it.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString, PyTuple, PyType};
use std::ffi::CStr;

use mpcore::{Deadline, Error, Kind, SemLock};

use crate::args::{self, Arity, Signature};
use crate::exceptions::{self, CoreError};
use crate::fastcall::{self, Convention, FastArgs, FastMethod};

/// Semaphore/Mutex type
#[pyclass(module = "_multiprocessing", name = "SemLock", subclass, frozen)]
pub(crate) struct PySemLock {
    inner: SemLock,
    /// The kind exactly as given: `_rebuild` does not validate it, and any value but 0 behaves
    /// as a semaphore.
    kind: i32,
}

const NEW: Signature = Signature {
    func: "SemLock",
    params: &["kind", "value", "maxvalue", "name", "unlink"],
    required: 5,
};

const ACQUIRE: Signature = Signature {
    func: "acquire",
    params: &["block", "timeout"],
    required: 0,
};

fn core_kind(kind: i32) -> Kind {
    Kind::try_from(kind).unwrap_or(Kind::Semaphore)
}

impl PySemLock {
    /// Acquires with stock's algorithm: the owner's recursive re-acquire first, with no system
    /// call; then the timeout is converted (as stock does before its first try); one try with
    /// the GIL held; and only then a wait without the GIL.
    #[inline]
    fn acquire_impl(
        &self,
        py: Python<'_>,
        block: bool,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        // Stock Windows converts a blocking call's timeout before anything else, and never looks
        // at a non-blocking call's.
        #[cfg(windows)]
        let timeout = match block {
            true => {
                let secs = args::optional_seconds(timeout)?;
                deadline_of(secs)?;
                secs
            }
            false => None,
        };
        if self.inner.try_reacquire() {
            return Ok(true);
        }
        #[cfg(not(windows))]
        let timeout = args::optional_seconds(timeout)?;
        match self.inner.try_acquire() {
            Ok(true) => Ok(true),
            Ok(false) if !block => Ok(false),
            result => self.acquire_slow(py, result.map(|_| ()), block, timeout),
        }
    }

    /// `acquire()` and `__enter__()`, the hottest calls: a blocking acquire without a timeout,
    /// whose non-blocking first try is all that is inlined (the owner's re-acquire of a
    /// recursive mutex comes first inside it, as in stock).
    #[inline(always)]
    fn acquire_blocking(&self, py: Python<'_>) -> PyResult<bool> {
        match self.inner.try_acquire() {
            Ok(true) => Ok(true),
            first_try => self.acquire_slow(py, first_try.map(|_| ()), true, None),
        }
    }

    /// The rest of an acquire once the first try did not get a unit (or was interrupted): on
    /// `EINTR` run the signal handlers (an exception from them ends the call) and go on; wait
    /// without the GIL, every retry for the same deadline.
    #[cold]
    #[inline(never)]
    fn acquire_slow(
        &self,
        py: Python<'_>,
        first_try: Result<(), Error>,
        block: bool,
        timeout: Option<f64>,
    ) -> PyResult<bool> {
        let mut attempt = first_try;
        loop {
            match attempt {
                Ok(()) => break,
                Err(Error::Interrupted) => py.check_signals()?,
                Err(err) => return Err(CoreError(err).into()),
            }
            attempt = match self.inner.try_acquire() {
                Ok(true) => return Ok(true),
                Ok(false) => Ok(()),
                Err(err) => Err(err),
            };
        }
        if !block {
            return Ok(false);
        }
        let deadline = deadline_of(timeout)?;
        loop {
            match py.detach(|| self.inner.wait(deadline)) {
                Ok(acquired) => return Ok(acquired),
                Err(Error::Interrupted) => py.check_signals()?,
                Err(err) => return Err(CoreError(err).into()),
            }
        }
    }
}

/// The absolute deadline of a timeout in seconds, converted with the platform's stock rules and
/// errors (`EINVAL` for one a `timespec` cannot hold on POSIX, `OverflowError` from about 24.8
/// days on Windows).
fn deadline_of(timeout: Option<f64>) -> Result<Option<Deadline>, CoreError> {
    Ok(timeout.map(Deadline::from_timeout).transpose()?)
}

#[pymethods]
impl PySemLock {
    #[new]
    #[pyo3(signature = (*args, **kwargs), text_signature = None)]
    fn new(args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        if let Some(rebuilt) = REBUILT.with(|slot| slot.take()) {
            return Ok(rebuilt);
        }
        let [kind, value, maxvalue, name, unlink] = NEW.bind(args, kwargs)?.map(Option::unwrap);
        let kind = args::c_int(&kind)?;
        let value = args::c_int(&value)?;
        let maxvalue = args::c_int(&maxvalue)?;
        let name = args::clinic_str("SemLock", "argument 'name'", &name)?;
        let unlink = args::clinic_bool(&unlink)?;
        let core = Kind::try_from(kind).map_err(CoreError)?;
        // A negative value reaches sem_open as a huge unsigned one and fails with EINVAL there,
        // as in stock CPython.
        let inner =
            SemLock::create(core, value as u32, maxvalue, &name, unlink).map_err(CoreError)?;
        Ok(PySemLock { inner, kind })
    }

    #[classattr]
    #[pyo3(name = "acquire")]
    fn acquire_method(py: Python<'_>) -> PyResult<Py<PyAny>> {
        fastcall::descriptor::<Acquire>(&py.get_type::<PySemLock>())
    }

    #[classattr]
    #[pyo3(name = "release")]
    fn release_method(py: Python<'_>) -> PyResult<Py<PyAny>> {
        fastcall::descriptor::<Release>(&py.get_type::<PySemLock>())
    }

    #[classattr]
    #[pyo3(name = "__enter__")]
    fn enter_method(py: Python<'_>) -> PyResult<Py<PyAny>> {
        fastcall::descriptor::<Enter>(&py.get_type::<PySemLock>())
    }

    #[classattr]
    #[pyo3(name = "__exit__")]
    fn exit_method(py: Python<'_>) -> PyResult<Py<PyAny>> {
        fastcall::descriptor::<Exit>(&py.get_type::<PySemLock>())
    }

    /// Num of `acquire()`s minus num of `release()`s for this process.
    #[pyo3(text_signature = "($self, /)")]
    fn _count(&self) -> i32 {
        self.inner.count()
    }

    /// Whether the lock is owned by this thread.
    #[pyo3(text_signature = "($self, /)")]
    fn _is_mine(&self) -> bool {
        self.inner.is_mine()
    }

    /// Get the value of the semaphore.
    #[pyo3(text_signature = "($self, /)")]
    fn _get_value(&self) -> Result<i32, CoreError> {
        Ok(self.inner.value()?)
    }

    /// Return whether semaphore has value zero.
    #[pyo3(text_signature = "($self, /)")]
    fn _is_zero(&self) -> Result<bool, CoreError> {
        Ok(self.inner.is_zero()?)
    }

    /// Rezero the net acquisition count after fork().
    #[pyo3(text_signature = "($self, /)")]
    fn _after_fork(&self) {
        self.inner.after_fork();
    }

    #[classmethod]
    #[pyo3(
        signature = (*args, **kwargs),
        text_signature = "($type, handle, kind, maxvalue, name, /)"
    )]
    fn _rebuild(
        cls: &Bound<'_, PyType>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        args::no_keywords("SemLock._rebuild", kwargs)?;
        let arity = Arity::Takes {
            func: "_rebuild",
            min: 4,
            max: 4,
        };
        args::check_positional(&arity, args.len())?;
        let handle = args.get_item(0)?;
        if !handle.is_instance_of::<pyo3::types::PyInt>() {
            return Err(args::wrong_type("_rebuild", "argument 1", "int", &handle));
        }
        // Stock parses the handle with the mask conversion of pointer width (`k` where `long`
        // is 64 bits, `K` on 64-bit Windows): the 64-bit mask cut to `usize` is that on every
        // target.
        // SAFETY: `handle` is an int (checked above); the call only reads it.
        let handle = unsafe { ffi::PyLong_AsUnsignedLongLongMask(handle.as_ptr()) } as usize;
        let kind = args::parse_tuple_int(&args.get_item(1)?)?;
        let maxvalue = args::parse_tuple_int(&args.get_item(2)?)?;
        let name = args.get_item(3)?;
        let name = if name.is_none() {
            None
        } else if name.is_instance_of::<PyString>() {
            Some(args::clinic_str("_rebuild", "argument 4", &name)?)
        } else {
            return Err(args::wrong_type(
                "_rebuild",
                "argument 4",
                "str or None",
                &name,
            ));
        };
        #[cfg(not(windows))]
        let inner = match &name {
            Some(name) => SemLock::open(name, core_kind(kind), maxvalue),
            None => SemLock::from_handle(handle, core_kind(kind), maxvalue),
        };
        // Windows semaphores are unnamed: the handle is always used and the name kept as data.
        // SAFETY: as in stock, the handle is trusted to be one the parent duplicated into this
        // process for this lock (multiprocessing's `duplicate_for_child`), which nothing else
        // here uses; the handle of a lock this process already has is shared, not taken over.
        #[cfg(windows)]
        let inner =
            unsafe { SemLock::from_raw_handle(handle, core_kind(kind), maxvalue, name.as_deref()) };
        let inner = inner.map_err(CoreError)?;
        instance_of(cls, PySemLock { inner, kind })
    }

    #[classattr]
    #[allow(non_snake_case)]
    fn SEM_VALUE_MAX() -> i32 {
        mpcore::SEM_VALUE_MAX
    }

    // Stock's members are read-only `PyMemberDef`s with an empty docstring: `__doc__` is `""`
    // (a literal `#[doc = ""]` would give PyO3 no doc at all, hence `concat!`), and setting or
    // deleting them raises `AttributeError("readonly attribute")`, also through the descriptor.
    // Any other attribute goes through the generic `object.__setattr__`, with its messages.
    #[getter]
    #[doc = concat!("")]
    #[expect(clippy::empty_docs, reason = "stock's members have an empty docstring")]
    fn handle(&self) -> usize {
        self.inner.handle()
    }

    #[setter(handle)]
    fn set_handle(&self, _value: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(exceptions::readonly_attribute())
    }

    #[deleter(handle)]
    fn del_handle(&self) -> PyResult<()> {
        Err(exceptions::readonly_attribute())
    }

    #[getter]
    #[doc = concat!("")]
    #[expect(clippy::empty_docs, reason = "stock's members have an empty docstring")]
    fn kind(&self) -> i32 {
        self.kind
    }

    #[setter(kind)]
    fn set_kind(&self, _value: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(exceptions::readonly_attribute())
    }

    #[deleter(kind)]
    fn del_kind(&self) -> PyResult<()> {
        Err(exceptions::readonly_attribute())
    }

    #[getter]
    #[doc = concat!("")]
    #[expect(clippy::empty_docs, reason = "stock's members have an empty docstring")]
    fn maxvalue(&self) -> i32 {
        self.inner.maxvalue()
    }

    #[setter(maxvalue)]
    fn set_maxvalue(&self, _value: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(exceptions::readonly_attribute())
    }

    #[deleter(maxvalue)]
    fn del_maxvalue(&self) -> PyResult<()> {
        Err(exceptions::readonly_attribute())
    }

    #[getter]
    #[doc = concat!("")]
    #[expect(clippy::empty_docs, reason = "stock's members have an empty docstring")]
    fn name(&self) -> Option<&str> {
        self.inner.name()
    }

    #[setter(name)]
    fn set_name(&self, _value: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(exceptions::readonly_attribute())
    }

    #[deleter(name)]
    fn del_name(&self) -> PyResult<()> {
        Err(exceptions::readonly_attribute())
    }
}

/// `acquire(block=True, timeout=None)`, the hottest call: a vectorcall method.
struct Acquire;

impl FastMethod for Acquire {
    const NAME: &'static CStr = c"acquire";
    const DOC: &'static CStr =
        c"acquire($self, /, block=True, timeout=None)\n--\n\nAcquire the semaphore/lock.";
    const CONVENTION: Convention = Convention::FastWithKeywords;

    fn call<'py>(slf: Borrowed<'_, 'py, PyAny>, args: FastArgs<'_, 'py>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let this = semlock(slf);
        let acquired = if args.nargs() == 0 && args.nkwargs() == 0 {
            this.acquire_impl(py, true, None)?
        } else {
            let [block, timeout] = ACQUIRE.bind_fast(&args)?;
            let block = match block {
                Some(block) => args::clinic_bool(&block)?,
                None => true,
            };
            this.acquire_impl(py, block, timeout.as_ref())?
        };
        Ok(PyBool::new(py, acquired).to_owned().into_any().unbind())
    }

    #[inline(always)]
    fn call_bare<'py>(slf: Borrowed<'_, 'py, PyAny>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let acquired = semlock(slf).acquire_blocking(py)?;
        Ok(PyBool::new(py, acquired).to_owned().into_any().unbind())
    }
}

/// `__exit__(exc_type=None, exc_value=None, exc_tb=None, /)`: releases; a vectorcall method
/// because `with lock:` calls it with three arguments every time.
struct Exit;

impl FastMethod for Exit {
    const NAME: &'static CStr = c"__exit__";
    const DOC: &'static CStr = c"__exit__($self, exc_type=None, exc_value=None, exc_tb=None, /)\n--\n\nExit the semaphore/lock.";
    const CONVENTION: Convention = Convention::Fast;

    fn call<'py>(slf: Borrowed<'_, 'py, PyAny>, args: FastArgs<'_, 'py>) -> PyResult<Py<PyAny>> {
        let arity = Arity::Expected {
            func: "__exit__",
            min: 0,
            max: 3,
        };
        args::check_positional(&arity, args.nargs())?;
        release(slf)
    }
}

/// `release()`: a vectorcall method, the other half of every lock round trip.
struct Release;

impl FastMethod for Release {
    const NAME: &'static CStr = c"release";
    const DOC: &'static CStr = c"release($self, /)\n--\n\nRelease the semaphore/lock.";
    const CONVENTION: Convention = Convention::NoArgs;

    fn call<'py>(slf: Borrowed<'_, 'py, PyAny>, _: FastArgs<'_, 'py>) -> PyResult<Py<PyAny>> {
        release(slf)
    }

    #[inline(always)]
    fn call_bare<'py>(slf: Borrowed<'_, 'py, PyAny>) -> PyResult<Py<PyAny>> {
        release(slf)
    }
}

/// `__enter__()`: a blocking acquire, as `with lock:` does.
struct Enter;

impl FastMethod for Enter {
    const NAME: &'static CStr = c"__enter__";
    const DOC: &'static CStr = c"__enter__($self, /)\n--\n\nEnter the semaphore/lock.";
    const CONVENTION: Convention = Convention::NoArgs;

    fn call<'py>(slf: Borrowed<'_, 'py, PyAny>, _: FastArgs<'_, 'py>) -> PyResult<Py<PyAny>> {
        Self::call_bare(slf)
    }

    #[inline(always)]
    fn call_bare<'py>(slf: Borrowed<'_, 'py, PyAny>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let acquired = semlock(slf).acquire_blocking(py)?;
        Ok(PyBool::new(py, acquired).to_owned().into_any().unbind())
    }
}

/// The `SemLock` behind `self` of a method descriptor made for this class.
#[inline(always)]
fn semlock<'a>(slf: Borrowed<'a, '_, PyAny>) -> &'a PySemLock {
    // SAFETY: the descriptors are made for SemLock, and CPython checks `self` against the
    // descriptor's type before calling the method.
    unsafe { slf.cast_unchecked::<PySemLock>() }.get()
}

/// `release()`, `__exit__()`: the release inline, the error out of line.
#[inline(always)]
fn release(slf: Borrowed<'_, '_, PyAny>) -> PyResult<Py<PyAny>> {
    let py = slf.py();
    match semlock(slf).inner.release() {
        Ok(()) => Ok(py.None()),
        Err(err) => Err(release_error(err)),
    }
}

#[cold]
#[inline(never)]
fn release_error(err: Error) -> PyErr {
    CoreError(err).into()
}

/// Makes `SemLock` an immutable type, as stock's is (`Py_TPFLAGS_IMMUTABLETYPE`): its attributes
/// can then be neither set nor deleted (`SemLock.acquire = f` raises `TypeError: cannot set
/// 'acquire' attribute of immutable type '_multiprocessing.SemLock'`). Call it once the class is
/// complete (after `add_class`): PyO3 fills the class attributes in after creating the type.
///
/// PyO3's `#[pyclass(immutable_type)]` would do this, but not in this build: PyO3 0.30 sets the
/// flag only outside the limited API, or with `PyType_Freeze` (3.14+), and refuses the option at
/// compile time for an abi3 build below 3.14 (`assert_immutable_type_supported`). The limited
/// API has no call that sets type flags either. So the flag is written straight into
/// `tp_flags`, whose offset is the same in every CPython 3.10-3.13 release build:
/// `PyObject_VAR_HEAD` and then 18 pointer-sized fields. The word found there is first checked
/// against `PyType_GetFlags`; on an unexpected layout nothing is written and the type stays
/// mutable.
pub(crate) fn make_immutable(py: Python<'_>) {
    use std::os::raw::c_ulong;

    const TP_FLAGS_OFFSET: usize =
        std::mem::size_of::<ffi::PyVarObject>() + 18 * std::mem::size_of::<usize>();
    let ty = py.get_type::<PySemLock>();
    let tp = ty.as_type_ptr();
    // SAFETY: `tp` is a live type object, which PyType_GetFlags only reads.
    let flags = unsafe { ffi::PyType_GetFlags(tp) };
    // SAFETY: a type object is larger than `TP_FLAGS_OFFSET` plus a `c_ulong`, and `tp_flags`,
    // when it is there, is an aligned `c_ulong`; the read is checked before anything is written.
    let slot = unsafe { tp.cast::<u8>().add(TP_FLAGS_OFFSET) }.cast::<c_ulong>();
    // SAFETY: as above: an aligned word inside the type object.
    if unsafe { slot.read() } != flags {
        return;
    }
    // SAFETY: the word is `tp_flags` (it holds exactly the type's flags); we hold the GIL, and
    // PyType_Modified tells the interpreter the type changed, as after any flag change.
    unsafe {
        slot.write(flags | ffi::Py_TPFLAGS_IMMUTABLETYPE);
        ffi::PyType_Modified(tp);
    }
}

thread_local! {
    /// A rebuilt lock on its way into an instance of a subclass (see [`instance_of`]).
    static REBUILT: std::cell::Cell<Option<PySemLock>> = const { std::cell::Cell::new(None) };
}

/// An instance of `cls` (SemLock or a subclass) holding `lock`, made without running a
/// subclass's `__new__` or `__init__`, as stock `_rebuild` does.
///
/// PyO3 can only allocate a subclass instance through the type's `tp_new`, so the prepared
/// lock is handed to [`PySemLock::new`] through a thread-local slot, which it takes first.
fn instance_of(cls: &Bound<'_, PyType>, lock: PySemLock) -> PyResult<Py<PyAny>> {
    let py = cls.py();
    let base = py.get_type::<PySemLock>();
    if cls.is(&base) {
        return Ok(Bound::new(py, lock)?.into_any().unbind());
    }
    // SAFETY: `base` is a heap type (PyO3 creates them so), for which PyType_GetSlot is allowed.
    let slot = unsafe { ffi::PyType_GetSlot(base.as_type_ptr(), ffi::Py_tp_new) };
    // SAFETY: the Py_tp_new slot of a type holds a `newfunc` (PyO3 always installs one).
    let tp_new: ffi::newfunc = unsafe { std::mem::transmute(slot) };
    let no_args = PyTuple::empty(py);
    REBUILT.with(|slot| slot.set(Some(lock)));
    // SAFETY: `cls` is a subtype of `base`, `no_args` a tuple, NULL kwargs is allowed; the
    // result is a new reference or NULL with an exception set.
    let obj = unsafe { tp_new(cls.as_type_ptr(), no_args.as_ptr(), std::ptr::null_mut()) };
    REBUILT.with(|slot| drop(slot.take()));
    // SAFETY: `obj` is an owned reference (or NULL, which from_owned_ptr_or_err reports).
    unsafe { Bound::from_owned_ptr_or_err(py, obj) }.map(Bound::unbind)
}
