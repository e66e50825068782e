"""Every native entry point, and every patched `Connection` method, called with arbitrary
arguments (Hypothesis). Run under the override as ``fuzz_entry_points.py EXAMPLES REPORT
[TARGET...]``: it writes REPORT (JSON), per target (all by default), how many calls it made and the first call that raised a
`BaseException` that is not an `Exception` (a Rust panic comes out as
`pyo3_runtime.PanicException`), shrunk by Hypothesis. A crash kills the process instead: the
caller sees the signal, and stderr names the target that was running.

What is arbitrary, and what is held back so that no call can block or touch what is not its own:

* values: integers at every width boundary, floats with infinities and NaN, bytes and
  bytearrays, memoryviews of several shapes and strides, arrays, text with NUL and lone
  surrogates, None, objects whose ``__index__``/``__float__``/``__bool__`` raise, containers;
* descriptors: only this script's own non-blocking pipe and socket ends (some at end of file,
  some with arbitrary bytes waiting), plus numbers that are no descriptor (negative, 999999,
  beyond a C int); never 0, 1 or 2. `poll` gets only descriptors it cannot wait on (at end of
  file, or not open), so any timeout returns at once;
* semaphores: only names under this script's own prefix (an arbitrary suffix), each unlinked
  afterwards; a blocking `acquire` only on a semaphore it will get at once, or with a timeout
  that cannot wait long (at most 1 ms, or past what a `timespec` holds, or no number at all).
"""

import _multiprocessing
import array
import json
import multiprocessing.connection as mc
import os
import socket
import sys
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multiprocessing_rs import _native
from raising_conversions import Raises

assert getattr(_multiprocessing, "__multiprocessing_rs__", False), "run this under the override"

PREFIX = f"/mprs-fuzz-{os.getpid()}-"
NO_DESCRIPTOR = [-1, -2, -(2**31), 999_999, 2**31, 2**63, -(2**63) - 1]


class HugeIndex:
    def __index__(self):
        return 2**70


boundary_ints = st.sampled_from(
    [-1, 2**31 - 1, 2**31, -(2**31), 2**32, 2**62, 2**63 - 1, 2**63, -(2**63), 2**64 - 1, 2**64, 2**100, -(2**100)]
)
ints = st.one_of(st.integers(-(2**8), 2**8), boundary_ints, st.integers())
floats = st.one_of(st.floats(), st.sampled_from([0.0, -0.0, 1e-300, 9.3e18, 1.8e19, 1e300]))
byte_values = st.binary(max_size=300)
buffers = st.one_of(
    byte_values,
    byte_values.map(bytearray),
    byte_values.map(memoryview),
    byte_values.map(lambda b: memoryview(b)[::2]),
    byte_values.map(lambda b: memoryview(b[: len(b) // 4 * 4]).cast("i")),
    byte_values.map(lambda b: memoryview(b[: len(b) // 6 * 6]).cast("B", (2, len(b) // 6 * 3)) if len(b) >= 6 else b),
    byte_values.map(lambda b: memoryview(b[:4]).cast("i", ()) if len(b) >= 4 else b),
    st.lists(st.integers(-(2**31), 2**31 - 1), max_size=40).map(lambda xs: array.array("i", xs)),
)
texts = st.text(alphabet=st.characters(exclude_categories=()), max_size=40)  # lone surrogates too
scalars = st.one_of(
    st.none(), st.booleans(), ints, floats, texts, buffers, st.builds(Raises), st.builds(HugeIndex), st.builds(object)
)
anything = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.tuples(inner)), max_leaves=5)
sem_names = st.one_of(texts.map(lambda s: PREFIX + s), scalars)
# An odd value where a size, offset or timeout is expected: mostly numbers at the boundaries.
odd_numbers = st.one_of(boundary_ints, boundary_ints, boundary_ints, floats, anything)
optional_numbers = st.one_of(st.none(), st.integers(0, 8), odd_numbers)
writable_buffers = st.one_of(
    byte_values.map(bytearray),
    byte_values.map(lambda b: memoryview(bytearray(b))[::2]),
    st.lists(st.integers(-(2**31), 2**31 - 1), max_size=40).map(lambda xs: array.array("i", xs)),
    anything,
)


def one_odd(data, valid, odd):
    """The arguments of a valid call, with at most one replaced by its odd counterpart (each
    argument's strategy in `odd`): odd values together rarely get past the first check; one
    at a time, they reach every check."""
    args = list(valid)
    position = data.draw(st.integers(-1, len(args) - 1))
    if position >= 0:
        args[position] = data.draw(odd[position])
    return args


class Descriptors:
    """This script's own descriptors, made afresh for each example and closed after it."""

    def __enter__(self):
        self.fds = []
        r, w = self.pipe()
        os.write(w, b"\x00\x00\x00\x03abc\xff\xff\xff\xff" + (2**62).to_bytes(8, "big") + b"xy")
        eof_r, eof_w = self.pipe()
        os.close(eof_w)
        self.fds.remove(eof_w)
        s1, s2 = socket.socketpair()
        for s in (s1, s2):
            s.setblocking(False)
            self.fds.append(s.detach())
        self.with_data, self.writable, self.eof = r, w, eof_r
        self.sockets = self.fds[-2:]
        return self

    def pipe(self):
        r, w = os.pipe()
        os.set_blocking(r, False)
        os.set_blocking(w, False)
        self.fds += [r, w]
        return r, w

    def own(self):
        return st.sampled_from(self.fds)

    def readable(self):
        """Ends that can be read without waiting: data there, end of file, or nothing yet
        (non-blocking: `BlockingIOError`)."""
        return st.sampled_from([self.with_data, self.eof, *self.sockets])

    @staticmethod
    def no_descriptor():
        return st.one_of(st.sampled_from(NO_DESCRIPTOR), anything.filter(lambda v: not isinstance(v, int)))

    def unwaitable(self):
        """Descriptors poll(2) answers at once: at end of file, or no descriptor at all."""
        return st.sampled_from([self.eof, 999_999, -1, -2])

    def __exit__(self, *exc):
        for fd in self.fds:
            os.close(fd)


def call(function, *args, **kwargs):
    """Calls, and lets only `Exception`s pass: anything else (PanicException) fails the run."""
    try:
        return function(*args, **kwargs)
    except Exception:
        return None


def unlink_quietly(name):
    if isinstance(name, str) and name.startswith(PREFIX):
        try:
            _native.sem_unlink(name)
        except Exception:
            pass


TARGETS = {}


def target(function):
    TARGETS[function.__name__] = function
    return function


# --- the native module functions -----------------------------------------------------------


def send_arguments(data):
    """(buffer, offset, size) of a valid send_bytes call, with at most one odd."""
    buf = data.draw(buffers)
    n = memoryview(buf).nbytes
    offset = data.draw(st.integers(0, n))
    size = data.draw(st.one_of(st.none(), st.integers(0, n - offset)))
    return one_odd(data, [buf, offset, size], [anything, odd_numbers, optional_numbers])


@target
def native_send_bytes(data):
    with Descriptors() as fds:
        fd, *args = one_odd(data, [data.draw(fds.own())], [fds.no_descriptor()]) + send_arguments(data)
        call(_native.send_bytes, fd, *args)


@target
def native_recv_bytes(data):
    with Descriptors() as fds:
        args = one_odd(data, [data.draw(fds.readable()), data.draw(optional_numbers)], [fds.no_descriptor(), anything])
        call(_native.recv_bytes, *args)


@target
def native_recv_bytes_into(data):
    with Descriptors() as fds:
        buf = data.draw(writable_buffers)
        valid = [data.draw(fds.readable()), buf, data.draw(st.integers(0, 8))]
        call(_native.recv_bytes_into, *one_odd(data, valid, [fds.no_descriptor(), anything, odd_numbers]))


@target
def native_poll(data):
    with Descriptors() as fds:
        call(_native.poll, data.draw(fds.unwaitable()), data.draw(st.one_of(optional_numbers, anything)))


@target
def native_wrong_arity(data):
    """Every native function with any number of arbitrary arguments (no descriptor among them
    but numbers that are none)."""
    name = data.draw(st.sampled_from(["send_bytes", "recv_bytes", "recv_bytes_into", "poll", "sem_unlink"]))
    args = data.draw(st.lists(anything, max_size=5))
    if args and isinstance(args[0], int):  # bool included: True would be stdout
        args[0] = NO_DESCRIPTOR[0]
    if name == "sem_unlink":
        args = [PREFIX + "never-created"] + args[1:] if args and isinstance(args[0], str) else args
    call(getattr(_native, name), *args)


def too_short_wordings():
    """What `Answerer` may be given to word "challenge too short": anything, callables too,
    including ones that raise or return what is not a string."""

    def raising(length):
        raise ZeroDivisionError(length)

    return st.one_of(
        st.none(),
        st.just(lambda length: f"short: {length}"),
        st.just(lambda length: length),
        st.just(raising),
        anything,
    )


handshake_messages = st.one_of(
    st.binary(max_size=300),
    st.binary(max_size=60).map(lambda b: b"#CHALLENGE#" + b),
    st.binary(max_size=60).map(lambda b: b"#CHALLENGE#{sha256}" + b),
    st.sampled_from([b"#WELCOME#", b"#FAILURE#", b"{md5}" + bytes(16), bytes(16), bytes(20)]),
    anything,
)


@target
def native_auth(data):
    """The handshake's native state machines and MAC functions."""
    kind = data.draw(st.sampled_from(["Deliverer", "Answerer", "create_response", "verify_response"]))
    authkey = data.draw(st.one_of(byte_values, anything))
    if kind == "Deliverer":
        digest = data.draw(st.one_of(st.none(), st.sampled_from(list(_native.DIGESTS)), texts, anything))
        deliverer = call(_native.Deliverer, authkey, digest)
        if deliverer is not None:
            call(getattr, deliverer, "challenge")
            for _ in range(data.draw(st.integers(1, 2))):  # a second verdict is refused
                call(deliverer.verify, data.draw(handshake_messages))
    elif kind == "Answerer":
        answerer = call(_native.Answerer, authkey, data.draw(anything), data.draw(too_short_wordings()))
        if answerer is not None:
            call(answerer.respond, data.draw(handshake_messages))
            for _ in range(data.draw(st.integers(1, 2))):
                call(answerer.finish, data.draw(handshake_messages))
    else:
        args = [authkey, *data.draw(st.lists(handshake_messages, max_size=3))]
        call(getattr(_native, kind), *args)


@target
def native_sem_unlink(data):
    call(_native.sem_unlink, data.draw(sem_names))


# --- SemLock ---------------------------------------------------------------------------------

counter = iter(range(10**9))


@target
def semlock_new(data):
    name = data.draw(sem_names)
    if isinstance(name, str):
        name = f"{PREFIX}{next(counter)}-{name[len(PREFIX) :]}"
    args = [data.draw(anything), data.draw(anything), data.draw(anything), name, data.draw(anything)]
    lock = call(_native.SemLock, *args)
    unlink_quietly(name)
    if lock is not None:
        unlink_quietly(getattr(lock, "name", None))


def fresh_lock(kind, value):
    return _native.SemLock(kind, value, max(value, 1), f"{PREFIX}{next(counter)}", True)


short_timeouts = st.one_of(
    st.none(),
    st.floats(max_value=0.001),
    st.floats(min_value=1e19),
    st.sampled_from([float("inf"), float("-inf"), float("nan"), -(2**70)]),
    texts,
    byte_values,
    st.builds(Raises),
    st.builds(object),
)


@target
def semlock_acquire(data):
    kind = data.draw(st.sampled_from([0, 1]))
    available = data.draw(st.booleans())
    lock = fresh_lock(kind, 1 if available else 0)
    use_keywords = data.draw(st.booleans())
    block, timeout = data.draw(anything), data.draw(short_timeouts if not available else anything)
    if not available and timeout is None:
        block = False  # would wait forever
    if not available and isinstance(block, Raises):
        block = False
    if use_keywords:
        call(lock.acquire, block=block, timeout=timeout)
    else:
        call(lock.acquire, block, timeout)
    for _ in range(data.draw(st.integers(0, 3))):
        call(lock.release)


@target
def semlock_methods(data):
    lock = fresh_lock(data.draw(st.sampled_from([0, 1])), data.draw(st.integers(0, 2)))
    for _ in range(data.draw(st.integers(1, 6))):
        method = data.draw(
            st.sampled_from(["release", "_count", "_is_mine", "_get_value", "_is_zero", "_after_fork", "__exit__"])
        )
        args = data.draw(st.lists(anything, max_size=4))
        call(getattr(lock, method), *args)
    for attribute in ("handle", "kind", "maxvalue", "name", "SEM_VALUE_MAX", "acquire"):
        call(setattr, lock, attribute, data.draw(anything))
        call(delattr, lock, attribute)
        call(getattr, lock, attribute)
    # Only where it cannot wait: a unit is there, or this thread owns the recursive mutex.
    if data.draw(st.booleans()) and (call(lock._is_mine) or (call(lock._get_value) or 0) > 0):
        call(lock.__enter__)
        call(lock.__exit__)


@target
def semlock_rebuild(data):
    existing = fresh_lock(1, 1)
    handle = data.draw(st.one_of(anything, st.just(existing.handle)))
    name = data.draw(st.one_of(st.none(), sem_names))
    args = [handle, data.draw(anything), data.draw(anything), name, *data.draw(st.lists(anything, max_size=1))]
    call(_native.SemLock._rebuild, *args[: data.draw(st.integers(0, len(args)))])


# --- the patched Connection ------------------------------------------------------------------


#: Arguments of the right kinds for each Connection method (any arguments are tried too).
CONNECTION_ARGUMENTS = {
    "send_bytes": None,  # send_arguments()
    "send": st.tuples(anything),
    "recv_bytes": st.tuples(optional_numbers),
    "recv_bytes_into": st.tuples(writable_buffers, st.one_of(st.integers(0, 8), odd_numbers)),
    "recv": st.tuples(),
    "_send_bytes": st.tuples(st.one_of(buffers, anything)),
    "_recv_bytes": st.tuples(optional_numbers),
}


def connection_over(fds, data):
    fd = data.draw(st.sampled_from([fds.with_data, fds.writable, fds.eof, *fds.sockets]))
    readable, writable = data.draw(st.sampled_from([(True, True), (True, False), (False, True)]))
    return mc.Connection(os.dup(fd), readable=readable, writable=writable)


@target
def connection_methods(data):
    with Descriptors() as fds:
        conn = connection_over(fds, data)
        try:
            for _ in range(data.draw(st.integers(1, 4))):
                method = data.draw(st.sampled_from(sorted(CONNECTION_ARGUMENTS)))
                if data.draw(st.booleans()):
                    args = data.draw(st.lists(anything, max_size=4))
                elif method == "send_bytes":
                    args = send_arguments(data)
                else:
                    args = data.draw(CONNECTION_ARGUMENTS[method])
                call(getattr(conn, method), *args)
            real = conn._handle
            if real is not None:
                # A handle set by hand: no descriptor, or not even a number.
                conn._handle = data.draw(Descriptors.no_descriptor())
                try:
                    call(conn.recv_bytes)
                    call(conn.send_bytes, b"x")
                    call(conn.recv_bytes_into, bytearray(8))
                finally:
                    conn._handle = real
        finally:
            conn.close()


@target
def connection_poll(data):
    with Descriptors() as fds:
        conn = mc.Connection(os.dup(fds.eof))
        try:
            call(conn.poll, *data.draw(st.one_of(st.tuples(optional_numbers), st.lists(anything, max_size=2))))
            conn._handle, real = data.draw(Descriptors.no_descriptor()), conn._handle
            try:
                call(conn.poll, data.draw(st.one_of(st.none(), st.just(0), odd_numbers)))
            finally:
                conn._handle = real
        finally:
            conn.close()


@target
def handshake(data):
    """deliver_challenge/answer_challenge against arbitrary peer bytes (then end of file)."""
    functions = [mc.deliver_challenge, mc.answer_challenge]
    if sys.version_info >= (3, 12):
        functions += [mc._create_response, mc._verify_challenge]
    function = data.draw(st.sampled_from(functions))
    ours, peer = socket.socketpair()
    try:
        peer.sendall(data.draw(st.binary(max_size=600)))
        peer.shutdown(socket.SHUT_WR)
        conn = mc.Connection(ours.detach())
        args = data.draw(st.lists(anything, max_size=4))
        if function in (mc.deliver_challenge, mc.answer_challenge):
            args = [conn, *args]
        call(function, *args)
        conn.close()
    finally:
        peer.close()


# --- driver ----------------------------------------------------------------------------------


def fuzz(name, examples):
    calls = 0

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data):
        nonlocal calls
        calls += 1
        TARGETS[name](data)

    try:
        run()
    except BaseException as exc:  # the shrunk failing call(s), re-raised by Hypothesis
        return {"calls": calls, "failure": describe(exc)}
    return {"calls": calls, "failure": None}


def describe(exc):
    """The exception, with the draws Hypothesis noted for it (and for each of a group's)."""
    lines = [f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}", *getattr(exc, "__notes__", [])]
    for inner in getattr(exc, "exceptions", ()):
        lines += ["", describe(inner)]
    return "\n".join(lines)


def main():
    examples, report_path, only = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    warnings.simplefilter("ignore")  # ResourceWarnings of the stock paths, and the like
    report = {}
    for name in only or sorted(TARGETS):
        print(f"fuzzing {name}", file=sys.stderr, flush=True)
        report[name] = fuzz(name, examples)
    with open(report_path, "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main()
