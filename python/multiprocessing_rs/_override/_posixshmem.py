"""What ``import _posixshmem`` finds while the multiprocessing-rs override is on.

``multiprocessing.shared_memory.SharedMemory`` and the resource tracker use stock's
``shm_open``/``shm_unlink``, which need ``/dev/shm``. Where this process's semaphores live in
files (no usable ``/dev/shm``, or ``MPRS_SEMAPHORES=file``: see ``mpcore``'s ``select.rs``), new
shared memory lives there too, in the same private directory, under the same names; elsewhere
stock's functions do everything. Opening and unlinking by name look in both places, this
process's own first, so a child finds what its parent made and the resource tracker removes it.
"""

import errno
import importlib.machinery
import importlib.util
import operator
import os
import sys


def _load_stock():
    """The interpreter's own ``_posixshmem``, the C extension this module shadows (``None`` if it
    has none). Only an extension module counts: any ``_posixshmem.py`` on the path is a shadow.

    (``multiprocessing_rs._fallback.stock_multiprocessing`` finds stock's ``_multiprocessing``,
    but this module must not need the package importable: under ``-S`` only the override
    directory may be on the path.)
    """
    for directory in sys.path:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(directory or os.curdir, "_posixshmem" + suffix)
            if os.path.isfile(path):
                loader = importlib.machinery.ExtensionFileLoader("_posixshmem", path)
                spec = importlib.util.spec_from_file_location("_posixshmem", path, loader=loader)
                module = importlib.util.module_from_spec(spec)
                loader.exec_module(module)
                return module
    return None


def _load_native():
    """Our extension, if ``_multiprocessing`` is ours (``None`` leaves stock's behaviour)."""
    native = getattr(importlib.import_module("_multiprocessing"), "_native", None)
    return native if hasattr(native, "private_shm_open") else None


_stock = _load_stock()
_native = _load_native()
if _stock is None and _native is None:
    raise ImportError("No module named '_posixshmem'", name="_posixshmem")


def _files_chosen():
    """Whether this process creates named objects in the private directory."""
    return _stock is None or _native.semaphore_backend() == "file"


def _check_arguments(function, path, *numbers):
    """Stock's argument errors, for the calls that never reach stock's parser."""
    if not isinstance(path, str):
        which = "1" if sys.version_info >= (3, 13) else "'path'"
        raise TypeError(f"{function}() argument {which} must be str, not {type(path).__name__}")
    for number in numbers:
        operator.index(number)


def _in_either(stock_op, file_op):
    """Runs a lookup by name in both places, this process's own first; the first success wins.
    If neither has the name: the error of this process's own place, unless that is /dev/shm and
    it cannot work here at all (``ENOSYS``, ``EROFS``)."""
    if _stock is None:
        return file_op()
    files_first = _files_chosen()
    first, second = (file_op, stock_op) if files_first else (stock_op, file_op)
    try:
        return first()
    except OSError as err:
        first_error = err
    try:
        return second()
    except OSError as second_error:
        if not files_first and first_error.errno in (errno.ENOSYS, errno.EROFS):
            raise second_error from None
        raise first_error from None


def shm_open(path, flags, mode=0o777):
    """Open a shared memory object.  Returns a file descriptor (integer)."""
    if _native is None or (flags & os.O_CREAT and not _files_chosen()):
        return _stock.shm_open(path, flags, mode=mode)
    _check_arguments("shm_open", path, flags, mode)
    if flags & os.O_CREAT:
        return _native.private_shm_open(path, flags, mode)
    return _in_either(
        lambda: _stock.shm_open(path, flags, mode=mode),
        lambda: _native.private_shm_open(path, flags, mode),
    )


def shm_unlink(path):
    """Remove a shared memory object (similar to unlink()).

    Remove a shared memory object name, and, once all processes  have  unmapped
    the object, de-allocates and destroys the contents of the associated memory
    region.
    """
    if _native is None:
        return _stock.shm_unlink(path)
    _check_arguments("shm_unlink", path)
    return _in_either(lambda: _stock.shm_unlink(path), lambda: _native.private_shm_unlink(path))


__all__ = ["shm_open", "shm_unlink"]
