"""The stock ``_multiprocessing`` C extension, loaded under its own name beside ours.

Benchmarks compare the two in one process, so the stock module is loaded straight from the
interpreter's ``lib-dynload`` without touching ``sys.modules``.
"""

import importlib.machinery
import importlib.util
import os
import sysconfig


def load_stock_module():
    """The interpreter's own ``_multiprocessing`` (a fresh module object, not registered)."""
    directory = sysconfig.get_config_var("DESTSHARED") or ""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(directory, "_multiprocessing" + suffix)
        if os.path.exists(path):
            loader = importlib.machinery.ExtensionFileLoader("_multiprocessing", path)
            spec = importlib.util.spec_from_file_location("_multiprocessing", path, loader=loader)
            module = importlib.util.module_from_spec(spec)
            loader.exec_module(module)
            return module
    raise ImportError(f"no stock _multiprocessing extension in {directory!r}")
