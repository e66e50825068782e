"""Benchmark cases for ``Connection``: one-way throughput, round trips, the handshake.

Each measurement runs between this process and a forked child over a ``socketpair()`` (what
``Pipe()`` uses), with the same ``Connection`` class on both ends: the stock one, or a subclass
carrying our transport (``_connection``), so both live in one process and alternate rounds.
"""

import contextlib
import mmap
import os
import socket
import struct
import time
from multiprocessing import connection as stdlib_connection

from . import _connection
from ._bench_workloads import fill


class RustConnection(stdlib_connection.Connection):
    """The stdlib ``Connection`` with our byte transport: what the override installs."""


_connection._patch_transport(RustConnection, stdlib_connection._ForkingPickler)  # type: ignore[attr-defined]

#: The two implementations under test, by label.
CONNECTIONS = {"stock": stdlib_connection.Connection, "ours": RustConnection}

#: The stock handshake functions and ours, for the running interpreter's dialect.
if getattr(stdlib_connection, "__multiprocessing_rs_patched__", False):
    raise RuntimeError("run the benchmark without the override: it needs the stock module too")
HANDSHAKES = {
    "stock": (stdlib_connection.deliver_challenge, stdlib_connection.answer_challenge),
    "ours": tuple(_connection._handshake(stdlib_connection)[:2]),
}


def _peak_rss_kib():
    """This process's peak resident set (VmHWM), in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


#: Where the two processes of a latency row run: (parent, child) as indexes into the CPUs this
#: process may use. Left to the scheduler, each round lands one way or the other, and on a
#: virtual machine a hand-over between processes costs several times more across two vCPUs
#: (the idle one has to be woken up) than on one: paired rounds that landed differently gave
#: ratios from 0.3x to 2.6x. Pinned, every round of a row measures the same thing.
PLACEMENTS = {"one CPU": (0, 0), "two CPUs": (0, 1)}


def placements():
    """The placements this machine offers: two CPUs only where there are two to use."""
    if not hasattr(os, "sched_setaffinity"):
        return []
    count = len(os.sched_getaffinity(0))
    return [name for name, cpus in PLACEMENTS.items() if max(cpus) < count]


@contextlib.contextmanager
def _placed(placement):
    """Pins this process as ``placement`` says while the block runs; yields the CPU for the
    child (``None``: no placement)."""
    if placement is None:
        yield None
        return
    allowed = os.sched_getaffinity(0)
    cpus = sorted(allowed)
    parent, child = (cpus[i] for i in PLACEMENTS[placement])
    os.sched_setaffinity(0, {parent})
    try:
        yield child
    finally:
        os.sched_setaffinity(0, allowed)


def _in_child(body, cpu=None):
    """Forks a child that runs ``body()`` (on ``cpu``, if given), sends back one float, and
    exits. Returns ``read_result()``, which waits for the float and reaps the child."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        status = 1
        try:
            os.close(read_end)
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})
            os.write(write_end, struct.pack("d", float(body())))
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)

    def read_result():
        data = b""
        while len(data) < 8:
            chunk = os.read(read_end, 8 - len(data))
            if not chunk:
                raise RuntimeError("benchmark child died")
            data += chunk
        os.close(read_end)
        os.waitpid(pid, 0)
        return struct.unpack("d", data)[0]

    return read_result


def _sending_end(cls, ours, theirs, size):
    """The parent's side once the child has its end: ``ours`` as a ``cls`` connection (the
    child's end closed here) and the ``size``-byte payload it sends."""
    theirs.close()
    return cls(ours.detach()), b"x" * size


def one_way(label, size, count):
    """``count`` messages of ``size`` bytes from here to a child; returns
    ``(seconds, child_peak_growth_kib)``, the time from the first send to the child holding
    the last message."""
    cls = CONNECTIONS[label]
    ours, theirs = socket.socketpair()

    def receive():
        ours.close()
        conn = cls(theirs.detach())
        before = _peak_rss_kib()
        for _ in range(count):
            conn.recv_bytes()
        return _peak_rss_kib() - before

    result = _in_child(receive)
    conn, payload = _sending_end(cls, ours, theirs, size)
    start = time.perf_counter()
    for _ in range(count):
        conn.send_bytes(payload)
    growth = result()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed, growth


def raw_one_way(size, count, fresh=False):
    """The same messages without ``Connection``: what the socket pair itself carries, the
    floor of a framed transfer. The sender writes each 4-byte header and payload at once; the
    receiver makes the two reads a framed message costs it (the header, then the payload:
    reading ahead is not allowed on a shared descriptor), with bare ``os.read`` for small
    messages and, for large ones, ``recv_into`` one reused buffer (the kernel's copy alone) or,
    with ``fresh``, a new anonymous mapping per message (the copy plus the page faults and
    zeroing of memory never touched before, which a new ``bytes`` object costs)."""
    ours, theirs = socket.socketpair()

    def receive():
        ours.close()
        if size < 64 * 1024:
            fd = theirs.detach()
            for _ in range(count):
                os.read(fd, 4)
                os.read(fd, size)
            return 0.0
        reused = memoryview(bytearray(size))
        for _ in range(count):
            fill(memoryview(bytearray(4)), theirs.recv_into)
            fill(memoryview(mmap.mmap(-1, size)) if fresh else reused, theirs.recv_into)
        return 0.0

    result = _in_child(receive)
    theirs.close()
    fd = ours.detach()
    header = struct.pack("!i", size)
    message = header + b"x" * size if size < 64 * 1024 else None
    payload = b"x" * size
    start = time.perf_counter()
    for _ in range(count):
        if message is not None:
            os.write(fd, message)
            continue
        os.write(fd, header)
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
    result()
    elapsed = time.perf_counter() - start
    os.close(fd)
    return elapsed


def round_trips(label, size, count, placement=None):
    """``count`` round trips of a ``size``-byte message echoed by a child; returns seconds."""
    cls = CONNECTIONS[label]
    ours, theirs = socket.socketpair()

    def echo():
        ours.close()
        conn = cls(theirs.detach())
        for _ in range(count):
            conn.send_bytes(conn.recv_bytes())
        return 0.0

    with _placed(placement) as cpu:
        result = _in_child(echo, cpu)
        conn, payload = _sending_end(cls, ours, theirs, size)
        start = time.perf_counter()
        for _ in range(count):
            conn.send_bytes(payload)
            conn.recv_bytes()
        elapsed = time.perf_counter() - start
        result()
    conn.close()
    return elapsed


def raw_round_trips(size, count, placement=None):
    """``count`` echoes of ``size``-byte messages with bare ``os.write``/``os.read``, each side
    reading a message as a framed receiver must (its 4-byte header, then its payload): the
    socket pair's own round trip, mostly the time the kernel takes to wake each side up."""
    ours, theirs = socket.socketpair()
    message = struct.pack("!i", size) + b"x" * size

    def echo():
        ours.close()
        fd = theirs.detach()
        for _ in range(count):
            os.read(fd, 4)
            os.read(fd, size)
            os.write(fd, message)
        return 0.0

    with _placed(placement) as cpu:
        result = _in_child(echo, cpu)
        theirs.close()
        fd = ours.detach()
        start = time.perf_counter()
        for _ in range(count):
            os.write(fd, message)
            os.read(fd, 4)
            os.read(fd, size)
        elapsed = time.perf_counter() - start
        result()
    os.close(fd)
    return elapsed


def handshakes(label, count, placement=None):
    """``count`` mutual authentications (each side challenges the other, as ``Listener`` and
    ``Client`` do) with a child; returns seconds."""
    cls = CONNECTIONS[label]
    deliver, answer = HANDSHAKES[label]
    key = os.urandom(32)
    ours, theirs = socket.socketpair()

    def client():
        ours.close()
        conn = cls(theirs.detach())
        for _ in range(count):
            answer(conn, key)
            deliver(conn, key)
        return 0.0

    with _placed(placement) as cpu:
        result = _in_child(client, cpu)
        theirs.close()
        conn = cls(ours.detach())
        start = time.perf_counter()
        for _ in range(count):
            deliver(conn, key)
            answer(conn, key)
        elapsed = time.perf_counter() - start
        result()
    conn.close()
    return elapsed
