"""What ``import _multiprocessing`` finds while the multiprocessing-rs override is on.

This directory is put first on ``PYTHONPATH`` (before ``lib-dynload``), so the parent process
and every fork, spawn and forkserver child import this module instead of the stock C extension.
It re-exports the Rust implementation under the stock name; where this interpreter cannot use
it (see ``multiprocessing_rs._fallback``), it puts the stock module in its place, so that
``import _multiprocessing`` gives exactly what it gives without the override.
"""

import sys


def _import_package():
    """Imports the ``multiprocessing_rs`` package, even when site-packages is not on the path
    (``python -S``): from the directory above this one, without adding it to ``sys.path``."""
    try:
        import multiprocessing_rs  # noqa: F401
    except ImportError:
        import importlib.util
        import os
        import sys

        package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        init = os.path.join(package_dir, "__init__.py")
        spec = importlib.util.spec_from_file_location(
            "multiprocessing_rs", init, submodule_search_locations=[package_dir]
        )
        multiprocessing_rs = importlib.util.module_from_spec(spec)
        sys.modules["multiprocessing_rs"] = multiprocessing_rs
        spec.loader.exec_module(multiprocessing_rs)


_import_package()
from multiprocessing_rs import _fallback  # noqa: E402

_native = _fallback.native_module()

if _native is None:
    # The import system returns what is in sys.modules once this module has run.
    sys.modules[__name__] = _fallback.stock_multiprocessing()
else:
    # What stock's C module provides.
    SemLock = _native.SemLock
    sem_unlink = _native.sem_unlink
    flags = _native.flags
    if sys.platform == "win32":
        closesocket = _native.closesocket
        recv = _native.recv
        send = _native.send
        __all__ = ["SemLock", "sem_unlink", "flags", "closesocket", "recv", "send"]
    else:
        # The byte transport of `multiprocessing.connection.Connection`, which stock leaves to
        # Python.
        send_bytes = _native.send_bytes
        recv_bytes = _native.recv_bytes
        recv_bytes_into = _native.recv_bytes_into
        poll = _native.poll
        __all__ = ["SemLock", "sem_unlink", "flags", "send_bytes", "recv_bytes", "recv_bytes_into", "poll"]


def __getattr__(name):
    # AuthenticationString is exported lazily: importing it at module level would import the
    # package early in every child, before `multiprocessing` is set up.
    if name == "AuthenticationString":
        from multiprocessing_rs._authkey import AuthenticationString

        return AuthenticationString
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Lets a program (and the tests) tell this module from the stock one.
__multiprocessing_rs__ = True

del _import_package, _fallback, sys
