"""The sender grows a pipe's kernel buffer for large messages (Linux), and carries every message
just the same where the kernel refuses.

``Pipe(duplex=False)`` (behind ``Queue``, ``SimpleQueue``, ``Pool``) is an ``os.pipe()`` with a
64 KiB buffer, so a 1 MiB message crossed it in 16 sleep/wake hand-overs; our ``send_bytes``
now asks for a buffer the size of the frame, up to ``/proc/sys/fs/pipe-max-size``. These tests
run the transport the override installs (``_connection._patch_transport`` on a ``Connection``
subclass), in this process or in a forked child.
"""

import fcntl
import hashlib
import multiprocessing
import os
import socket
import sys
import threading
from multiprocessing import connection

import pytest
from multiprocessing_rs import _connection

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="pipe buffer sizes are Linux's (F_SETPIPE_SZ)")

MiB = 1 << 20
DEFAULT_PIPE_SIZE = 64 * 1024


class RustConnection(connection.Connection):
    """The stdlib ``Connection`` with the transport the override installs."""


_connection._patch_transport(RustConnection, connection._ForkingPickler)


def pipe_max_size():
    with open("/proc/sys/fs/pipe-max-size") as f:
        return int(f.read())


def pipe_size(conn):
    return fcntl.fcntl(conn.fileno(), fcntl.F_GETPIPE_SZ)


def rust_pipe():
    """``Pipe(duplex=False)`` as the override makes it: ``(reader, writer)``."""
    r, w = os.pipe()
    return RustConnection(r, writable=False), RustConnection(w, readable=False)


def messages():
    """Sizes around every boundary the sender cares about, each with its own content."""
    sizes = [0, 1, 64, DEFAULT_PIPE_SIZE - 4, DEFAULT_PIPE_SIZE, DEFAULT_PIPE_SIZE + 1, MiB - 4, MiB, 3 * MiB + 7, 100]
    return [hashlib.shake_256(str(size).encode()).digest(size) if size else b"" for size in sizes]


def send_all_while_receiving(reader, writer, payloads):
    """Sends ``payloads`` from this thread while another receives them; returns what arrived."""
    received = []
    receiver = threading.Thread(target=lambda: received.extend(reader.recv_bytes() for _ in payloads))
    receiver.start()
    for payload in payloads:
        writer.send_bytes(payload)
    receiver.join(timeout=60)
    assert not receiver.is_alive(), "the receiver is still waiting: a message was lost"
    return received


def test_small_messages_leave_the_pipe_buffer_alone():
    reader, writer = rust_pipe()
    with reader, writer:
        payloads = [b"x" * size for size in (1, 4096, DEFAULT_PIPE_SIZE)]
        assert send_all_while_receiving(reader, writer, payloads) == payloads
        assert pipe_size(writer) == DEFAULT_PIPE_SIZE


def test_a_large_message_grows_the_pipe_to_its_size_up_to_the_limit():
    reader, writer = rust_pipe()
    with reader, writer:
        payload = b"y" * (200 * 1024)
        assert send_all_while_receiving(reader, writer, [payload]) == [payload]
        # The kernel rounds up to a power of two of pages: 256 KiB for a 200 KiB frame.
        assert pipe_size(writer) == min(256 * 1024, pipe_max_size())
        payloads = messages()
        assert send_all_while_receiving(reader, writer, payloads) == payloads
        assert pipe_size(writer) == pipe_max_size()


def test_a_socket_pair_is_not_a_pipe_and_carries_large_messages_unchanged():
    left, right = (RustConnection(end.detach()) for end in socket.socketpair())
    with left, right:
        payloads = messages()
        assert send_all_while_receiving(right, left, payloads) == payloads


def test_a_stock_receiver_reads_what_a_grown_pipe_carries():
    r, w = os.pipe()
    reader, writer = connection.Connection(r, writable=False), RustConnection(w, readable=False)
    with reader, writer:
        payloads = messages()
        assert send_all_while_receiving(reader, writer, payloads) == payloads
        assert pipe_size(writer) == pipe_max_size()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, to act as an unprivileged user with a full pipe quota")
def test_a_pipe_the_kernel_refuses_to_grow_still_carries_every_message():
    """An unprivileged user past ``/proc/sys/fs/pipe-user-pages-soft`` gets ``EPERM`` from
    ``F_SETPIPE_SZ`` (and new pipes of two pages): the messages go through the small buffer."""
    with open("/proc/sys/fs/pipe-user-pages-soft") as f:
        if int(f.read()) == 0:
            pytest.skip("no soft limit on pipe pages here: the kernel never refuses")
    ctx = multiprocessing.get_context("fork")
    report_end, child_end = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_report_as_nobody, args=(child_end,))
    child.start()
    child_end.close()
    report = report_end.recv()
    child.join()
    assert child.exitcode == 0, report
    assert report == "ok", report


def _report_as_nobody(conn):
    """Runs :func:`_in_unprivileged_child` as user and group 65534 (nobody) and sends its report."""
    try:
        os.setgid(65534)
        os.setuid(65534)
        conn.send(_in_unprivileged_child())
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        conn.send(f"error: {exc!r}")


def _in_unprivileged_child():
    hoard = []
    # Grow pipes until the kernel refuses: the user is then past its soft limit.
    for _ in range(4096):
        r, w = os.pipe()
        hoard += [r, w]
        try:
            fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, pipe_max_size())
        except PermissionError:
            break
    else:
        return "the kernel never refused to grow a pipe"
    reader, writer = rust_pipe()
    with reader, writer:
        before = pipe_size(writer)
        if before >= DEFAULT_PIPE_SIZE:
            return f"a new pipe past the soft limit still got {before} bytes"
        payloads = messages()
        received = send_all_while_receiving(reader, writer, payloads)
        if received != payloads:
            return "messages lost or changed"
        if pipe_size(writer) != before:
            return f"the pipe grew from {before} to {pipe_size(writer)} bytes"
    for fd in hoard:
        os.close(fd)
    return "ok"
