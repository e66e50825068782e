"""Large messages that are only unpickled land in a buffer each thread reuses.

``Connection.recv``, ``Queue.get`` and ``SimpleQueue.get`` receive a message and unpickle it;
the message is garbage right after. Received as a new ``bytes`` (as ``recv_bytes`` must return
one), a large message and the objects unpickled out of it (copies) are two large allocations
freed together, and glibc then hands their memory back to the kernel, to be faulted in again,
page by page, for the next message: about half the cost of a 1 MiB item. Here a payload of
64 KiB to 4 MiB goes into a ``bytearray`` the thread keeps and is unpickled from a
``memoryview`` of it; only the unpickled objects are new memory.

The receiving is ``_native.recv_bytes_reusing(fd, thread)``: it returns a new ``bytes`` as
``recv_bytes`` does, or, for a payload it put in ``thread.buffer``, the payload's length, with
``thread.lent`` set. The caller then unpickles with :func:`loads_lent` (or, if it cannot,
calls :func:`give_back`), which clears it. While the buffer is lent (a reducer that receives on
the same thread while its message is unpickled), messages are received into new ``bytes``.
What the caller's caller gets is what ``loads`` made: new objects, as with stock. A view of the
buffer that ``loads`` left exported makes the thread drop that ``bytearray``, never to write it
again.
"""

import threading


class _ThreadBuffer(threading.local):
    def __init__(self):
        self.buffer = bytearray()
        self.lent = False


#: This thread's buffer: the second argument of ``_native.recv_bytes_reusing``.
thread_buffer = _ThreadBuffer()


def loads_lent(length, loads):
    """``loads`` of the message of ``length`` bytes in this thread's lent buffer; gives the
    buffer back."""
    state = thread_buffer
    view = memoryview(state.buffer)[:length]
    try:
        return loads(view)
    finally:
        try:
            view.release()
        except BufferError:  # still exported by what loads made: the buffer is theirs now
            state.buffer = bytearray()
        state.lent = False


def give_back():
    """Gives this thread's lent buffer back unread."""
    thread_buffer.lent = False
