"""``Queue.get`` and ``SimpleQueue.get`` that unpickle large items out of a reused buffer.

Stock ``get`` receives the next message with ``recv_bytes`` (a new ``bytes``) while holding the
queue's read lock, and unpickles it after releasing the lock. These do the same, but receive
with ``_native.recv_bytes_reusing`` (see ``_reused_buffer`` for why), for the queues of the
usual shape: a ``Queue`` whose ``_recv_bytes`` is still its reader's own ``recv_bytes``, on a ``Connection``
running our transport (not a subclass), and a ``SimpleQueue`` whose reader is such a
``Connection``. Any other queue, a closed one, and ``get`` with a timeout or without blocking
run the stock ``get``.
"""

from . import _connection, _native
from ._reused_buffer import give_back, loads_lent, thread_buffer


def patch(module):
    """Replaces ``get`` of ``module.Queue`` and ``module.SimpleQueue`` (``module`` is
    ``multiprocessing.queues``), if the connection transport is ours."""
    ours = _connection.patched_recv_bytes
    if ours is None:
        return  # the stock transport runs: so does the stock get
    Connection = module.connection.Connection
    stock_get, stock_simple_get = module.Queue.get, module.SimpleQueue.get
    recv_reusing = _native.recv_bytes_reusing

    def get(self, block=True, timeout=None):
        recv_bytes = self._recv_bytes
        reader = getattr(recv_bytes, "__self__", None)
        if (
            not block
            or timeout is not None
            or self._closed
            or type(reader) is not Connection
            or recv_bytes.__func__ is not ours
        ):
            return stock_get(self, block, timeout)
        with self._rlock:
            handle = reader._handle
            if handle is None or not reader._readable:
                recv_bytes()  # raises stock's error for a closed or write-only reader
            message = recv_reusing(handle, thread_buffer)
        if type(message) is bytes:
            self._sem.release()
            return module._ForkingPickler.loads(message)
        try:
            self._sem.release()
        except BaseException:
            give_back()
            raise
        return loads_lent(message, module._ForkingPickler.loads)

    def simple_get(self):
        reader = self._reader
        if type(reader) is not Connection or Connection.recv_bytes is not ours:
            return stock_simple_get(self)
        with self._rlock:
            handle = reader._handle
            if handle is None or not reader._readable:
                reader.recv_bytes()  # raises stock's error for a closed or write-only reader
            message = recv_reusing(handle, thread_buffer)
        if type(message) is bytes:
            return module._ForkingPickler.loads(message)
        return loads_lent(message, module._ForkingPickler.loads)

    for cls, function in ((module.Queue, get), (module.SimpleQueue, simple_get)):
        stock = cls.get
        function.__name__ = "get"
        function.__qualname__ = f"{cls.__qualname__}.get"
        function.__module__, function.__doc__ = stock.__module__, stock.__doc__
        cls.get = function
