"""When the Rust module cannot serve this interpreter, the stock one does, with one warning.

The override must never leave a program worse off than stock. The native extension may be
unable to load: a broken install, a free-threaded interpreter (3.13t and later cannot load the
stable-ABI build), an ABI newer than the build. And it must not load in a subinterpreter:
PyO3 keeps a module's types in process-wide statics, which one interpreter must not hand to
another (PyO3 0.30 does not support subinterpreters). In all these cases ``import
_multiprocessing`` gets the interpreter's own module, and the patches that need the extension
leave the stdlib alone.

A broken install is worth telling the user about, once: a ``RuntimeWarning`` in the first
process that finds it, and not again in the children it starts (an environment variable
carries what was said). A subinterpreter is not: nothing is wrong, and nothing can be fixed.
"""

import os
import sys
import warnings

from ._install import OVERRIDE_DIR

#: What silences the warnings, as they tell the user.
SILENCE = "PYTHONWARNINGS=ignore:multiprocessing-rs"

#: Set in the process that warned (to a checksum of each message), so its children stay quiet.
_WARNED_ENV = "MULTIPROCESSING_RS_WARNED"

_UNSET = object()
_native = _UNSET
_said: set[str] = set()


def in_subinterpreter():
    """Whether this code runs in an interpreter other than the main one."""
    import _thread

    is_main = getattr(_thread, "_is_main_interpreter", None)  # 3.12+, and already loaded
    if is_main is not None:
        return not is_main()
    # Before 3.12, ask the subinterpreters module (an extension: about 0.6 ms to load).
    import importlib

    for name in ("_interpreters", "_xxsubinterpreters"):
        try:
            interpreters = importlib.import_module(name)
        except ImportError:
            continue
        return _interpreter_id(interpreters.get_current()) != _interpreter_id(interpreters.get_main())
    return False  # no subinterpreters in this build


def _interpreter_id(found):
    # An InterpreterID object up to 3.12, an (id, how it was created) tuple from 3.13.
    return int(found[0] if isinstance(found, tuple) else found)


def native_module():
    """The Rust extension ``multiprocessing_rs._native``, or ``None`` if this interpreter
    cannot use it (after warning, once, unless it is a subinterpreter)."""
    global _native
    if _native is _UNSET:
        _native = _load_native()
    return _native


def _load_native():
    if in_subinterpreter():
        return None
    try:
        from . import _native as native
    except ImportError as exc:
        warn_once(f"the Rust _multiprocessing cannot be used by this interpreter ({_why(exc)})", "the stock one runs")
        return None
    return native


def _why(exc):
    import sysconfig

    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        return "a free-threaded CPython cannot load an extension built for the stable ABI (abi3)"
    return f"{type(exc).__name__}: {exc}"


def stock_multiprocessing():
    """The interpreter's own ``_multiprocessing`` extension, loaded from where ``import`` finds
    it when the override directory is not on the path (``lib-dynload``)."""
    import importlib.machinery
    import importlib.util

    path = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != OVERRIDE_DIR]
    spec = importlib.machinery.PathFinder.find_spec("_multiprocessing", path)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError("No module named '_multiprocessing'", name="_multiprocessing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def warn_once(what, instead):
    """A ``RuntimeWarning`` that says ``what`` went wrong and what runs ``instead``, and how to
    silence it; given once per process tree."""
    import zlib

    message = f"multiprocessing-rs: {what}; {instead} instead. To silence this warning: {SILENCE}"
    checksum = f"{zlib.crc32(message.encode()):08x}"
    already = os.environ.get(_WARNED_ENV, "").split(",")
    if checksum in _said or checksum in already:
        return
    _said.add(checksum)
    os.environ[_WARNED_ENV] = ",".join([c for c in already if c] + [checksum])
    warnings.warn(message, RuntimeWarning, stacklevel=2)
