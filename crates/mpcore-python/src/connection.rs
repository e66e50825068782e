//! The byte transport of `multiprocessing.connection.Connection`, on `mpcore`'s framing.
//!
//! Stock CPython frames messages in Python: `struct.pack`, a loop of `os.write`, a loop of
//! `os.read` into a `BytesIO`, and two more copies on the way out. These functions take the
//! connection's descriptor and do a whole message in Rust: the GIL is released around every
//! system call, and a signal runs the Python handlers (an exception from them ends the call,
//! as it does in stock) before the same message continues where it stopped.
//!
//! Each function returns `NotImplemented` for arguments it does not take (a buffer that is not
//! one contiguous run of bytes, an offset that is not an `int`); the Python wrappers then run
//! the stock code, which gives the stock result or error for those rare cases. A message longer
//! than `maxlength` raises `BadMessageLength` (an `OSError`), which the wrappers turn into
//! stock's `_bad_message_length()`.

use std::mem::MaybeUninit;
use std::os::fd::BorrowedFd;
use std::os::raw::c_int;
use std::time::{Duration, Instant};

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyInt};

use mpcore::{Error, RecvInto, RecvState, SendState};

use crate::args;
use crate::buffer::Buffer;
use crate::exceptions::CoreError;

/// Payloads up to this size are read straight into the `bytes` object that is returned, which
/// is allocated at its full size once the header is in. The allocation commits no memory until
/// data arrives (the kernel maps pages as they are written), so a peer that announces more
/// than it sends costs address space, not memory. Longer payloads grow a buffer as data comes
/// and are copied once at the end.
const DIRECT_LIMIT: usize = 256 << 20;

/// Runs `op` without the GIL until it stops being interrupted: on `EINTR` the Python signal
/// handlers run (with the GIL), and an exception from them ends the call (the outer error).
/// Any other outcome of `op` is returned as it is.
fn without_gil<T: Send>(
    py: Python<'_>,
    mut op: impl FnMut() -> Result<T, Error> + Send,
) -> PyResult<Result<T, Error>> {
    loop {
        match py.detach(&mut op) {
            Err(Error::Interrupted) => py.check_signals()?,
            result => return Ok(result),
        }
    }
}

/// Messages up to this size are first moved without waiting and with the GIL held (the
/// `try_` methods of the states): when the peer's data or the socket's room is already there,
/// as it is in a busy stream, the call then never gives up the GIL, which costs more than the
/// transfer itself for small messages. Only what cannot move at once waits, without the GIL.
/// Larger payloads go straight to the waiting path, so no long copy holds the GIL.
const NOWAIT_LIMIT: usize = 64 << 10;

/// Whether this thread should try its next header read without waiting.
///
/// Unlike a payload (which follows its header in the same write) or a send (which waits only
/// on a full socket), a message's header has often not arrived yet: a receiver that keeps up
/// with its peer, or waits for a reply, would pay a failed system call on top of every wait.
/// So after a try that found nothing, the next tries are skipped, twice as many after each
/// further miss (up to 64); the first try that finds data there restores trying every time.
/// A busy stream thus never gives up the GIL, and a waiting receiver wastes at most one call
/// in 64.
mod header_hint {
    use std::cell::Cell;

    thread_local! {
        /// (tries still to skip, how many to skip after the next miss).
        static SKIP: Cell<(u8, u8)> = const { Cell::new((0, 0)) };
    }

    /// Whether to try now (consumes one skipped try otherwise).
    pub(super) fn should_try() -> bool {
        SKIP.with(|skip| {
            let (left, next) = skip.get();
            if left == 0 {
                return true;
            }
            skip.set((left - 1, next));
            false
        })
    }

    /// Records how a try went.
    pub(super) fn tried(found_data: bool) {
        SKIP.with(|skip| {
            let (_, next) = skip.get();
            skip.set(if found_data {
                (0, 0)
            } else {
                let next = next.clamp(1, 64);
                (next, next * 2)
            })
        });
    }
}

/// One step of a send or receive on `state`: first `try_op` with the GIL held if `try_first`,
/// and if that could not finish without waiting (a resumable error: the state keeps what
/// moved), `op` without the GIL, as [`without_gil`] runs it.
fn attempt<S: Send, T: Send>(
    py: Python<'_>,
    state: &mut S,
    try_first: bool,
    try_op: impl FnOnce(&mut S) -> Result<T, Error>,
    mut op: impl FnMut(&mut S) -> Result<T, Error> + Send,
) -> PyResult<Result<T, Error>> {
    if try_first {
        match try_op(state) {
            Err(err) if err.is_resumable() => {}
            done => return Ok(done),
        }
    }
    without_gil(py, || op(state))
}

/// [`without_gil`], with `op`'s own errors raised as their Python exceptions.
fn blocking<T: Send>(py: Python<'_>, op: impl FnMut() -> Result<T, Error> + Send) -> PyResult<T> {
    Ok(without_gil(py, op)?.map_err(CoreError)?)
}

/// `EBADF`, the same number on every POSIX system.
const EBADF: i32 = 9;

/// The descriptor of a Python `Connection`. A negative number (a `_handle` set by hand) is no
/// descriptor: the `OSError(EBADF)` stock's `os.read`/`os.write` raise for it.
fn borrow_fd<'a>(fd: c_int) -> PyResult<BorrowedFd<'a>> {
    if fd < 0 {
        let ebadf = Error::Os(std::io::Error::from_raw_os_error(EBADF));
        return Err(CoreError(ebadf).into());
    }
    // SAFETY: `fd` is not negative (`borrow_raw` requires it not to be -1), and the calling
    // Connection owns it and keeps it open for the call. Closing it from another thread
    // meanwhile is the same race stock's `os.write(self._handle, ...)` has.
    Ok(unsafe { BorrowedFd::borrow_raw(fd) })
}

/// An `int` argument as `i64`; `None` for anything else (or an int too large for it).
fn small_int(obj: &Bound<'_, PyAny>) -> Option<i64> {
    obj.cast::<PyInt>().ok()?.extract::<i64>().ok()
}

/// `Connection.send_bytes(buf, offset, size)` after its closed/read-only checks: sends
/// `buf[offset:offset + size]` (in bytes) as one message.
#[pyfunction]
pub(crate) fn send_bytes(
    py: Python<'_>,
    fd: c_int,
    buf: &Bound<'_, PyAny>,
    offset: &Bound<'_, PyAny>,
    size: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let not_implemented = || Ok(py.NotImplemented());
    // Stock casts a buffer of wider items to bytes, but slices and frames a multi-dimensional
    // (or 0-dimensional) buffer of single bytes by its first dimension: leave that to stock.
    let Some(buffer) = Buffer::readable(buf).filter(|b| b.itemsize() != 1 || b.ndim() == 1) else {
        return not_implemented();
    };
    let Some(offset) = small_int(offset) else {
        return not_implemented();
    };
    // `None` (the whole buffer from `offset`) arrives as `None`; any other size must be an int.
    let size = match size.map(small_int) {
        None => None,
        Some(Some(size)) => Some(size),
        Some(None) => return not_implemented(),
    };
    let payload = &buffer.as_slice()[args::send_range(buffer.as_slice().len(), offset, size)?];
    let fd = borrow_fd(fd)?;
    let mut state = SendState::new();
    attempt(
        py,
        &mut state,
        payload.len() <= NOWAIT_LIMIT,
        |s| s.try_send(fd, payload),
        |s| s.send(fd, payload),
    )?
    .map_err(CoreError)?;
    Ok(py.None())
}

/// `Connection.recv_bytes(maxlength)` after its checks: the next message as `bytes`. A message
/// longer than `maxlength` raises `BadMessageLength`, its payload left unread (the wrapper then
/// calls `_bad_message_length()`, as stock does).
#[pyfunction]
#[pyo3(signature = (fd, maxlength=None))]
pub(crate) fn recv_bytes(
    py: Python<'_>,
    fd: c_int,
    maxlength: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let maxlength = match maxlength {
        None => None,
        Some(max) if max.is_none() => None,
        Some(max) => match small_int(max) {
            Some(max) => Some(usize::try_from(max).unwrap_or(0)),
            None => return Ok(py.NotImplemented()),
        },
    };
    let fd = borrow_fd(fd)?;
    let mut state = RecvState::new();
    let len = read_header(py, &mut state, fd, maxlength)?.map_err(CoreError)?;
    receive_fresh(py, &mut state, fd, len, maxlength)
}

/// The payload (of `len` bytes) of the message whose header `state` has read, as a new `bytes`.
fn receive_fresh(
    py: Python<'_>,
    state: &mut RecvState,
    fd: BorrowedFd<'_>,
    len: usize,
    maxlength: Option<usize>,
) -> PyResult<Py<PyAny>> {
    if len > DIRECT_LIMIT {
        let payload = blocking(py, || state.recv(fd, maxlength))?;
        return Ok(PyBytes::new(py, &payload).into_any().unbind());
    }
    let mut bytes = FreshBytes::new(py, len)?;
    let dest = bytes.contents();
    mpcore::advise_huge_pages(dest);
    receive_payload(py, state, fd, dest)?;
    Ok(bytes.into_any())
}

/// Payloads over [`NOWAIT_LIMIT`] and up to this size are received by
/// [`recv_bytes_reusing`] into the caller's reused buffer (which grows to the largest of them).
const REUSE_LIMIT: usize = 4 << 20;

/// The next message, for a caller that only unpickles it (`Connection.recv`, `Queue.get`): a
/// payload of more than 64 KiB and at most 4 MiB is read into `thread.buffer` (a `bytearray`,
/// grown to fit, never shrunk) unless `thread.lent` is true, and its length is returned, with
/// `thread.lent` set (the caller unpickles it and sets it back); any other message comes back
/// as a new `bytes`, as from `recv_bytes`. `thread` is the calling thread's
/// `_reused_buffer._ThreadBuffer`.
///
/// Why: a received message is garbage as soon as it is unpickled, and unpickling copies the
/// large objects out of it. Two large allocations per message (the message and the copy) are
/// freed together, which is what makes glibc give the memory back to the kernel and fault it
/// in again for the next message (a page fault per 4 KiB, about half the cost of a 1 MiB
/// item); with the message in a buffer that stays, only the copy is allocated, and glibc keeps
/// reusing its memory.
#[pyfunction]
pub(crate) fn recv_bytes_reusing(
    py: Python<'_>,
    fd: c_int,
    thread: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    let fd = borrow_fd(fd)?;
    let mut state = RecvState::new();
    let len = read_header(py, &mut state, fd, None)?.map_err(CoreError)?;
    if len <= NOWAIT_LIMIT || len > REUSE_LIMIT || thread.getattr("lent")?.is_truthy()? {
        return receive_fresh(py, &mut state, fd, len, None);
    }
    let buffer = thread.getattr("buffer")?;
    let Ok(buffer) = buffer.cast::<PyByteArray>() else {
        return receive_fresh(py, &mut state, fd, len, None);
    };
    // A buffer that cannot grow (exported elsewhere): this message goes to new memory instead.
    if buffer.len() < len && buffer.resize(len).is_err() {
        return receive_fresh(py, &mut state, fd, len, None);
    }
    // Exported for the call, so the buffer cannot be resized or freed while it is written.
    let Some(mut view) = Buffer::writable(buffer.as_any()) else {
        return receive_fresh(py, &mut state, fd, len, None);
    };
    // Checked, not sliced: a bytearray subclass may export a shorter buffer (`__buffer__`).
    let Some(dest) = view.as_mut_slice().get_mut(..len) else {
        return receive_fresh(py, &mut state, fd, len, None);
    };
    // SAFETY: `[u8]` and `[MaybeUninit<u8>]` have the same layout, and every value written
    // through the latter is an initialised byte.
    let dest = unsafe { &mut *(dest as *mut [u8] as *mut [MaybeUninit<u8>]) };
    // Lent from here: a signal handler that receives on this thread meanwhile must not use it.
    thread.setattr("lent", true)?;
    if let Err(err) = receive_payload(py, &mut state, fd, dest) {
        thread.setattr("lent", false)?;
        return Err(err);
    }
    Ok(len.into_pyobject(py)?.into_any().unbind())
}

/// `Connection.recv_bytes_into(buf, offset)` after its checks: reads the next message into the
/// writable buffer at byte `offset` and returns its length; if it does not fit, returns it as
/// `bytes` (consumed), for the wrapper to raise `BufferTooShort` with.
#[pyfunction]
pub(crate) fn recv_bytes_into(
    fd: c_int,
    buf: &Bound<'_, PyAny>,
    offset: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    let py = buf.py();
    // Stock counts the room of any other buffer in items of its first dimension: leave it to stock.
    let Some(mut buffer) = Buffer::writable(buf).filter(|b| b.itemsize() == 1 && b.ndim() == 1)
    else {
        return Ok(py.NotImplemented());
    };
    let Some(offset) = small_int(offset) else {
        return Ok(py.NotImplemented());
    };
    let offset = args::recv_into_offset(buffer.as_slice().len(), offset)?;
    let fd = borrow_fd(fd)?;
    let mut state = RecvState::new();
    let len = read_header(py, &mut state, fd, None)?.map_err(CoreError)?;
    // The rest is the core's `recv_into`: the payload straight into the buffer, or the whole
    // message handed back if it does not fit.
    let received = attempt(
        py,
        &mut (&mut state, &mut buffer.as_mut_slice()[offset..]),
        len <= NOWAIT_LIMIT,
        |(s, dest)| s.try_recv_into(fd, dest),
        |(s, dest)| s.recv_into(fd, dest),
    )?
    .map_err(CoreError)?;
    Ok(match received {
        RecvInto::Received(len) => len.into_pyobject(py)?.into_any().unbind(),
        RecvInto::BufferTooShort(message) => PyBytes::new(py, &message).into_any().unbind(),
    })
}

/// The next message's header: its payload length, checked against `maxlength`. Tried without
/// waiting first when [`header_hint`] says it is worth it.
fn read_header(
    py: Python<'_>,
    state: &mut RecvState,
    fd: BorrowedFd<'_>,
    maxlength: Option<usize>,
) -> PyResult<Result<usize, Error>> {
    let try_first = header_hint::should_try();
    let mut found = None;
    let result = attempt(
        py,
        state,
        try_first,
        |s| {
            let header = s.try_recv_header(fd, maxlength);
            found = Some(!matches!(&header, Err(err) if err.is_resumable()));
            header
        },
        |s| s.recv_header(fd, maxlength),
    );
    if let Some(found) = found {
        header_hint::tried(found);
    }
    result
}

/// The payload of the message whose header `state` has read, into `dest` (of its length).
fn receive_payload(
    py: Python<'_>,
    state: &mut RecvState,
    fd: BorrowedFd<'_>,
    dest: &mut [MaybeUninit<u8>],
) -> PyResult<()> {
    let try_first = dest.len() <= NOWAIT_LIMIT;
    attempt(
        py,
        &mut (state, dest),
        try_first,
        |(s, d)| s.try_recv_payload_into(fd, d),
        |(s, d)| s.recv_payload_into(fd, d),
    )?
    .map_err(CoreError)?;
    Ok(())
}

/// `Connection._poll(timeout)`: whether a message (or end of file) can be read within `timeout`
/// seconds (`None`: wait as long as it takes). A signal whose handler returns lets the wait go
/// on for the time that is left (PEP 475), as `multiprocessing.connection.wait` does.
#[pyfunction]
#[pyo3(signature = (fd, timeout))]
pub(crate) fn poll(py: Python<'_>, fd: c_int, timeout: Option<f64>) -> PyResult<Py<PyAny>> {
    let fd = borrow_fd(args::descriptor_to_wait_on(fd)?)?;
    let deadline = match timeout {
        None => None,
        Some(t) if t.is_nan() => return Ok(py.NotImplemented()),
        // A deadline too far away for an `Instant` (or infinite) is no deadline.
        Some(t) => Duration::try_from_secs_f64(t.max(0.0))
            .ok()
            .and_then(|timeout| Instant::now().checked_add(timeout)),
    };
    if timeout.is_some_and(|t| t <= 0.0) {
        // Nothing to wait for: answer with the GIL held (Queue.empty() polls like this).
        let ready = mpcore::poll_readable(fd, Some(Duration::ZERO)).map_err(CoreError)?;
        return Ok(ready.into_pyobject(py)?.to_owned().into_any().unbind());
    }
    let ready = blocking(py, || {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        mpcore::poll_readable(fd, left)
    })?;
    Ok(ready.into_pyobject(py)?.to_owned().into_any().unbind())
}

/// A `bytes` object that no other code has seen yet, so it may still be written into.
struct FreshBytes<'py> {
    obj: Bound<'py, PyBytes>,
    len: usize,
}

impl<'py> FreshBytes<'py> {
    /// A new `bytes` object of `len` uninitialised bytes (the memory is not even touched, so
    /// the kernel commits it only as it is written).
    fn new(py: Python<'py>, len: usize) -> PyResult<Self> {
        // SAFETY: a NULL source asks for an uninitialised object of `len` bytes; the result is
        // a new reference, or NULL with an exception (MemoryError) set.
        let obj =
            unsafe { ffi::PyBytes_FromStringAndSize(std::ptr::null(), len as ffi::Py_ssize_t) };
        // SAFETY: as above.
        let obj = unsafe { Bound::from_owned_ptr_or_err(py, obj) }?;
        // SAFETY: PyBytes_FromStringAndSize returns a bytes object.
        let obj = unsafe { obj.cast_into_unchecked() };
        Ok(FreshBytes { obj, len })
    }

    /// The object's contents, to fill in.
    fn contents(&mut self) -> &mut [MaybeUninit<u8>] {
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: PyBytes_AsString of a bytes object returns its buffer of `len` bytes (plus
        // the trailing NUL), valid as long as the object. Nothing else has a reference to the
        // object yet (it is private to `self`), so writing into it cannot be observed.
        unsafe {
            let data = ffi::PyBytes_AsString(self.obj.as_ptr());
            std::slice::from_raw_parts_mut(data.cast(), self.len)
        }
    }

    /// The finished object, once every byte is written.
    fn into_any(self) -> Py<PyAny> {
        self.obj.into_any().unbind()
    }
}
