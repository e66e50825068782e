"""``Connection.send``'s pickling, without a new pickler per message.

Stock ``send(obj)`` pickles with ``ForkingPickler.dumps(obj)``, which builds a ``BytesIO``, a
``ForkingPickler`` (a Python ``__init__`` that copies ``copyreg.dispatch_table`` and merges the
registered reducers into it) and a ``memoryview`` for every message: four times the
instructions of pickling a small tuple, paid twice per call by a manager (request and reply)
and once per task by ``Pool``.

:class:`ReusedPickler` keeps one ``ForkingPickler`` per thread, writing into a list (the
pickler hands its whole output to ``write`` in one piece, or in 64 KiB frames for large
objects), and produces the same bytes: the memo is cleared after every message (a new
pickler's is empty, and the message's objects must not be kept alive), and a new pickler is made, by ``ForkingPickler`` itself, whenever the
reducer tables differ from the ones the current pickler copied (``ForkingPickler.register``
or ``copyreg.pickle`` since), so reducers apply from the next message on, as in stock. A
message pickled while another is being pickled in the same thread (a ``__reduce__`` that
sends) goes through ``ForkingPickler.dumps`` itself.
"""

import threading
from types import SimpleNamespace


class _ThreadState:
    __slots__ = ("pickler", "chunks", "tables", "busy")

    def __init__(self):
        self.pickler = None
        self.chunks = []
        #: Copies of the two reducer tables the pickler's ``dispatch_table`` was built from.
        self.tables = None
        self.busy = False


class ReusedPickler:
    """``ForkingPickler.dumps(obj)`` and a send, with one pickler per thread."""

    def __init__(self, forking_pickler, send_payload):
        self._cls = forking_pickler
        #: ``send_payload(connection, handle, payload)``: writes one pickled message.
        self._send_payload = send_payload
        self._local = threading.local()

    def send(self, connection, handle, obj):
        """Pickles ``obj`` exactly as ``ForkingPickler.dumps(obj)`` does and sends it."""
        try:
            state = self._local.state
        except AttributeError:
            state = self._local.state = _ThreadState()
        cls = self._cls
        if state.busy:
            self._send_payload(connection, handle, cls.dumps(obj))
            return
        tables = (cls._copyreg_dispatch_table, cls._extra_reducers)
        if state.tables != tables:
            state.pickler = cls(SimpleNamespace(write=state.chunks.append), None)
            state.tables = (dict(tables[0]), dict(tables[1]))
        chunks = state.chunks
        state.busy = True
        try:
            state.pickler.dump(obj)
            payload = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        finally:
            # As a new pickler's would be: an empty memo (which also keeps no object the
            # message referred to alive) and no output left from a failed message.
            state.pickler.clear_memo()
            chunks.clear()
            state.busy = False
        self._send_payload(connection, handle, payload)
