"""Large messages that are only unpickled land in a buffer each thread reuses.

``Connection.recv``, ``Queue.get`` and ``SimpleQueue.get`` receive a message and unpickle it;
the message is garbage right after. Received as a new ``bytes`` (as ``recv_bytes`` must return
one), a large message and the objects unpickled out of it (copies) are two large allocations
freed together, and glibc then hands their memory back to the kernel, to be faulted in again,
page by page, for the next message: about half the cost of a 1 MiB item. Here a payload of
64 KiB to 4 MiB goes into a ``bytearray`` the thread keeps (``_native.recv_bytes_reusing``) and
is unpickled from a ``memoryview`` of it; only the unpickled objects are new memory.

The view is lent out by :func:`receive` and taken back by :func:`done` (always, in a
``finally``), and is never seen by the caller's caller: what it gets is what ``loads`` made, new
objects as with stock. While a view is lent (a ``__setstate__`` that receives on the same
thread), further messages are received into new ``bytes``. A view someone still holds a buffer
of when it is taken back makes the thread drop that ``bytearray``, never to write it again.
"""

import threading

from . import _native


class _ThreadBuffer(threading.local):
    def __init__(self):
        self.buffer = bytearray()
        self.lent = False


_state = _ThreadBuffer()


def receive(fd):
    """The next message on descriptor ``fd``: a ``bytes``, or a ``memoryview`` of this
    thread's buffer that must be handed to :func:`done` once unpickled."""
    state = _state
    if state.lent:
        return _native.recv_bytes(fd, None)
    received = _native.recv_bytes_reusing(fd, state.buffer)
    if type(received) is bytes:
        return received
    state.lent = True
    return memoryview(state.buffer)[:received]


def done(message):
    """Takes back what :func:`receive` returned (nothing to do for a ``bytes``)."""
    if type(message) is memoryview:
        state = _state
        try:
            message.release()
        except BufferError:  # exported by whoever kept it: the buffer is theirs now
            state.buffer = bytearray()
        state.lent = False
