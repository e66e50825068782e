"""Benchmark cases for ``Connection``: one-way throughput, round trips, the handshake.

Each measurement runs between this process and a forked child over a ``socketpair()`` (what
``Pipe()`` uses), with the same ``Connection`` class on both ends: the stock one, or a subclass
carrying our transport (``_connection``), so both live in one process and alternate rounds.
"""

import os
import socket
import struct
import time
from multiprocessing import connection as stdlib_connection

from . import _connection


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


def _in_child(body):
    """Forks a child that runs ``body()``, sends back one float, and exits. Returns
    ``(pid, read_result)``, where ``read_result()`` waits for the float and reaps the child."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        status = 1
        try:
            os.close(read_end)
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
    theirs.close()
    conn = cls(ours.detach())
    payload = b"x" * size
    start = time.perf_counter()
    for _ in range(count):
        conn.send_bytes(payload)
    growth = result()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed, growth


def raw_one_way(size, count):
    """The same stream of bytes without framing or Connection: what the socket pair itself
    carries. Small pieces are ``os.write``/``os.read`` calls (the fewest a Python program can
    make per message); large ones are read into one reused buffer (``recv_into``), the
    kernel's copy alone."""
    ours, theirs = socket.socketpair()
    total = size * count

    def receive():
        ours.close()
        left = total
        if size < 64 * 1024:
            fd = theirs.detach()
            while left:
                left -= len(os.read(fd, min(size, left)))
            return 0.0
        view = memoryview(bytearray(min(size, 1 << 20)))
        while left:
            left -= theirs.recv_into(view, min(len(view), left))
        return 0.0

    result = _in_child(receive)
    theirs.close()
    fd = ours.detach()
    payload = b"x" * size
    start = time.perf_counter()
    for _ in range(count):
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
    result()
    elapsed = time.perf_counter() - start
    os.close(fd)
    return elapsed


def round_trips(label, size, count):
    """``count`` round trips of a ``size``-byte message echoed by a child; returns seconds."""
    cls = CONNECTIONS[label]
    ours, theirs = socket.socketpair()

    def echo():
        ours.close()
        conn = cls(theirs.detach())
        for _ in range(count):
            conn.send_bytes(conn.recv_bytes())
        return 0.0

    result = _in_child(echo)
    theirs.close()
    conn = cls(ours.detach())
    payload = b"x" * size
    start = time.perf_counter()
    for _ in range(count):
        conn.send_bytes(payload)
        conn.recv_bytes()
    elapsed = time.perf_counter() - start
    result()
    conn.close()
    return elapsed


def raw_round_trips(size, count):
    """``count`` echoes of ``size`` bytes with bare ``os.write``/``os.read``: the socket pair's
    own round trip, which is mostly the time the kernel takes to wake each side up."""
    ours, theirs = socket.socketpair()

    def echo():
        ours.close()
        fd = theirs.detach()
        for _ in range(count):
            os.write(fd, os.read(fd, size))
        return 0.0

    result = _in_child(echo)
    theirs.close()
    fd = ours.detach()
    payload = b"x" * size
    start = time.perf_counter()
    for _ in range(count):
        os.write(fd, payload)
        os.read(fd, size)
    elapsed = time.perf_counter() - start
    result()
    os.close(fd)
    return elapsed


def handshakes(label, count):
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

    result = _in_child(client)
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
