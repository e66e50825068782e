"""Patches applied to the stdlib ``multiprocessing`` modules when the override is on.

``_multiprocessing`` itself is replaced by import path (see ``_override/``). Other pieces
live in pure-Python stdlib modules and are patched in place, right after those modules are first
imported (or at once if they already were):

* ``multiprocessing.process``: ``AuthenticationString`` becomes ours, and the current process's
  authkey is re-wrapped in it.
* ``multiprocessing.connection``: ``Connection``'s byte transport and the authentication
  handshake run in Rust (see ``_connection``).
* ``multiprocessing.heap``: shared ctypes' arenas skip a ``/dev/shm`` that cannot take a file
  (see ``_heap``).
* ``multiprocessing.queues``: ``Queue`` and ``SimpleQueue`` pickle their items with a
  reused pickler (see ``_pickling``), and ``get`` unpickles large items out of a reused buffer
  (see ``_queues``).

They are patched from an import hook rather than from our ``_multiprocessing``, because not
every program imports it before using them (on 3.13+, ``multiprocessing.connection`` no longer
imports ``_multiprocessing`` on POSIX).
"""

import importlib.machinery
import sys


def _patch_process(module):
    from ._authkey import AuthenticationString, StdlibAuthenticationString

    module.AuthenticationString = StdlibAuthenticationString
    current = module.current_process()
    key = current._config.get("authkey")
    if key is not None and not isinstance(key, AuthenticationString):
        current._config["authkey"] = StdlibAuthenticationString(bytes(key))


def _patch_connection(module):
    from ._fallback import native_module

    if native_module() is None:
        return  # the Rust transport and handshake cannot serve here: the stock ones stay
    from . import _connection

    _connection.patch(module)


def _patch_heap(module):
    from . import _heap

    _heap.patch(module)


def _patch_queues(module):
    from ._fallback import native_module

    if native_module() is None:
        return  # stock's _multiprocessing and transport run here: its queues stay stock too
    from . import _queues, _stdlib_shape
    from ._pickling import QueuePickling

    changed = _stdlib_shape.pickler_mismatches(module)
    if changed:
        _warn_queues_changed(changed, "its stock pickling runs")
        return
    module._ForkingPickler = QueuePickling(module._ForkingPickler)
    changed = _stdlib_shape.queue_mismatches(module)
    if changed:
        _warn_queues_changed(changed, "its stock Queue.get and SimpleQueue.get run")
        return
    _queues.patch(module)


def _warn_queues_changed(changed, instead):
    from ._fallback import warn_once

    version = ".".join(map(str, sys.version_info[:3]))
    warn_once(
        f"multiprocessing.queues of Python {version} is not as this version expects ({'; '.join(changed)})", instead
    )


PATCHES = {
    "multiprocessing.process": _patch_process,
    "multiprocessing.connection": _patch_connection,
    "multiprocessing.heap": _patch_heap,
    "multiprocessing.queues": _patch_queues,
}


def _apply(name, module):
    """Patches ``module`` (named ``name``) once."""
    if not getattr(module, "__multiprocessing_rs_patched__", False):
        PATCHES[name](module)
        module.__multiprocessing_rs_patched__ = True


# The import system asks finders and loaders only for these methods, so neither class derives
# from importlib.abc's: importing that module in every process with the override (it pulls in
# importlib.resources, pathlib, typing, urllib: about 30 modules and 4 MB) made each process
# start slower than stock's, and each fork copy more.


class _PatchAfterExec:
    """Wraps a module's real loader and patches the module once it has executed."""

    def __init__(self, loader, name):
        self._loader = loader
        self._name = name

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _apply(self._name, module)


class PatchingFinder:
    """Finds the modules in ``PATCHES`` with the normal finders and wraps their loaders."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in PATCHES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _PatchAfterExec(spec.loader, fullname)
        return spec


def install_hooks():
    """Patches the modules already imported, and the others as they are imported."""
    if not any(isinstance(finder, PatchingFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, PatchingFinder())
    for name in PATCHES:
        module = sys.modules.get(name)
        if module is not None:
            _apply(name, module)
