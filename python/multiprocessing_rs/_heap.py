"""``multiprocessing.heap`` under the override: arenas skip a ``/dev/shm`` that cannot take a file.

``Value``, ``Array`` and the other shared ctypes live in arenas, files that ``heap.Arena`` makes
in ``/dev/shm`` when it has room (``os.statvfs``), else in the temporary directory. On a host
whose ``/dev/shm`` is missing, ``statvfs`` raises; on one where it is read-only or not writable,
it reports room and the file cannot be made: stock fails either way. The candidates that cannot
take a file are dropped here, so arenas go to the temporary directory, as they do on platforms
without ``/dev/shm``.
"""

import os


def usable_directory(path):
    """Whether this process can make files in ``path``."""
    return os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK)


def patch(module):
    arena = getattr(module, "Arena", None)
    candidates = getattr(arena, "_dir_candidates", None)
    if not isinstance(candidates, list):
        return
    usable = [d for d in candidates if usable_directory(d)]
    if usable != candidates:
        arena._dir_candidates = usable
