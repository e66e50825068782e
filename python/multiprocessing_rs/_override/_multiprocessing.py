"""What ``import _multiprocessing`` finds while the multiprocessing-rs override is on.

This directory is put first on ``PYTHONPATH`` (before ``lib-dynload``), so the parent process
and every fork, spawn and forkserver child import this module instead of the stock C extension.
It re-exports the Rust implementation under the stock name.
"""

import sys


def _load_native():
    try:
        from multiprocessing_rs import _native as native
    except ImportError:
        # Started without site-packages (``-S``): load the extension next to this directory.
        import importlib.machinery
        import importlib.util
        import os
        import sys

        package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(package_dir, "_native" + suffix)
            if os.path.exists(path):
                break
        else:
            raise
        name = "multiprocessing_rs._native"
        loader = importlib.machinery.ExtensionFileLoader(name, path)
        spec = importlib.util.spec_from_file_location(name, path, loader=loader)
        native = importlib.util.module_from_spec(spec)
        sys.modules[name] = native
        loader.exec_module(native)
    return native


_native = _load_native()

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
    # The byte transport of `multiprocessing.connection.Connection`, which stock leaves to Python.
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

del _load_native, sys
