"""Putting our ``_multiprocessing`` under a program and all of its child processes.

Two routes lead here. ``python -m multiprocessing_rs run`` starts a fresh interpreter with
:data:`OVERRIDE_DIR` first on ``PYTHONPATH``. :func:`install` does the same from inside a
running program: it puts the directory on ``sys.path`` and ``PYTHONPATH`` (which every spawn and
forkserver child inherits; fork children inherit ``sys.modules``) and swaps the stock module
out of the ``multiprocessing`` modules that already imported it.
"""

import importlib
import os
import sys

#: The directory whose ``_multiprocessing.py`` shadows the stock extension.
OVERRIDE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_override")


def environ_with_override(environ=None):
    """A copy of ``environ`` (default ``os.environ``) with :data:`OVERRIDE_DIR` first on
    ``PYTHONPATH``."""
    env = dict(os.environ if environ is None else environ)
    rest = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != OVERRIDE_DIR]
    env["PYTHONPATH"] = os.pathsep.join([OVERRIDE_DIR] + rest)
    return env


def is_active():
    """Whether ``_multiprocessing`` in this process is ours."""
    module = sys.modules.get("_multiprocessing")
    return bool(getattr(module, "__multiprocessing_rs__", False))


def install():
    """Use the Rust ``_multiprocessing`` in this process and in every child it starts.

    Call it early, ideally before ``multiprocessing`` is imported. Locks created before the call
    stay stock ones; they keep working, and interoperate with ours (same named semaphores).
    Returns the module now installed as ``_multiprocessing``: the stock one, after a
    ``RuntimeWarning``, where this interpreter cannot use ours (see ``_fallback``).
    """
    if OVERRIDE_DIR not in sys.path:
        sys.path.insert(0, OVERRIDE_DIR)
    os.environ["PYTHONPATH"] = environ_with_override()["PYTHONPATH"]
    from ._fallback import native_module

    stock = sys.modules.get("_multiprocessing")
    if native_module() is None:
        # This interpreter cannot use ours (native_module warned if something is wrong): the
        # stock module stays, or comes through the override directory.
        stock = None
    elif stock is not None and not getattr(stock, "__multiprocessing_rs__", False):
        del sys.modules["_multiprocessing"]
    ours = importlib.import_module("_multiprocessing")
    if stock is not None and stock is not ours:
        _rebind(stock, ours)
    from ._hooks import install_hooks

    install_hooks()
    return ours


def _rebind(stock, ours):
    """Points every ``multiprocessing`` module that bound stock names at ours instead."""
    replacements = {id(stock): ours}
    for name in ("SemLock", "sem_unlink", "flags"):
        if hasattr(stock, name):
            replacements[id(getattr(stock, name))] = getattr(ours, name)
    for modname, module in list(sys.modules.items()):
        if module is None or not (modname == "multiprocessing" or modname.startswith("multiprocessing.")):
            continue
        for attr, value in list(vars(module).items()):
            if id(value) in replacements:
                setattr(module, attr, replacements[id(value)])
            elif isinstance(value, dict):
                for key, item in list(value.items()):
                    if id(item) in replacements:
                        value[key] = replacements[id(item)]
