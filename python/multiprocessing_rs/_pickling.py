"""Pickling for ``Queue`` and ``SimpleQueue``, without a new pickler per message.

Stock pickles every item with ``ForkingPickler.dumps(obj)``, which builds a ``BytesIO``, a
``ForkingPickler`` (a Python ``__init__`` that copies ``copyreg.dispatch_table`` and merges the
registered reducers into it) and a ``memoryview`` for every message: four times the
instructions of pickling a small tuple, paid once per task by ``Pool`` and once per item by
``Queue``'s feeder thread and ``SimpleQueue.put`` (the results of ``Pool`` and
``ProcessPoolExecutor``). ``Connection.send`` keeps stock's pickler (see ``_connection``).

:class:`ReusedPickler` keeps one ``ForkingPickler`` per thread, writing into a list (the
pickler hands its whole output to ``write`` in one piece, or in 64 KiB frames for large
objects), and produces the same bytes: the memo is cleared after every message (a new
pickler's is empty, and the message's objects must not be kept alive), and a new pickler is
made, by ``ForkingPickler`` itself, whenever the reducer tables differ from the ones the
current pickler copied (``ForkingPickler.register`` or ``copyreg.pickle`` since), so reducers
apply from the next message on, as in stock. A message pickled while another is being
pickled in the same thread (a ``__reduce__`` that sends) goes through ``ForkingPickler.dumps``
itself.
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
    """``ForkingPickler.dumps(obj)`` with one pickler per thread."""

    def __init__(self, forking_pickler):
        self._cls = forking_pickler
        self._local = threading.local()

    def dumps(self, obj):
        """The bytes ``ForkingPickler.dumps(obj)`` holds, as ``bytes``."""
        try:
            state = self._local.state
        except AttributeError:
            state = self._local.state = _ThreadState()
        cls = self._cls
        if state.busy:
            return cls.dumps(obj)
        tables = (cls._copyreg_dispatch_table, cls._extra_reducers)
        if state.tables != tables:
            state.pickler = cls(SimpleNamespace(write=state.chunks.append), None)
            state.tables = (dict(tables[0]), dict(tables[1]))
        chunks = state.chunks
        state.busy = True
        try:
            state.pickler.dump(obj)
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        finally:
            # As a new pickler's would be: an empty memo (which also keeps no object the
            # message referred to alive) and no output left from a failed message.
            state.pickler.clear_memo()
            chunks.clear()
            state.busy = False


class QueuePickling:
    """What ``multiprocessing.queues`` finds as ``_ForkingPickler``: ``ForkingPickler``, with
    ``dumps`` on a :class:`ReusedPickler` (``Queue``'s feeder thread and ``SimpleQueue.put``
    pickle every item with it). The result is a ``memoryview`` of the pickled bytes, as
    stock's is (of its ``BytesIO``); everything else is the class's own."""

    def __init__(self, forking_pickler):
        self._cls = forking_pickler
        self._reused = ReusedPickler(forking_pickler)
        self.loads = forking_pickler.loads

    def dumps(self, obj, protocol=None):
        if protocol is not None:
            return self._cls.dumps(obj, protocol)
        return memoryview(self._reused.dumps(obj))

    def __getattr__(self, name):
        return getattr(self._cls, name)
