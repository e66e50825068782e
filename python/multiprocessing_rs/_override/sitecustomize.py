"""Runs at startup in every interpreter that has the override directory on ``PYTHONPATH``.

It installs the import hooks that patch ``multiprocessing.process`` and
``multiprocessing.connection`` (see ``multiprocessing_rs._hooks``), then runs the
``sitecustomize`` this file shadows, if the installation has one.
"""

import importlib.machinery
import importlib.util
import os
import sys


def _install():
    try:
        from multiprocessing_rs import _hooks
    except ImportError:
        return  # the package is not importable here: leave the stdlib alone
    _hooks.install_hooks()


def _run_shadowed_sitecustomize():
    here = os.path.dirname(os.path.abspath(__file__))
    others = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", others)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


_install()
_run_shadowed_sitecustomize()
