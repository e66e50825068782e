"""CPython's ``_multiprocessing`` rebuilt in Rust.

``python -m multiprocessing_rs run SCRIPT`` runs a program with the Rust module under it and
under all of its child processes; :func:`install` does the same from inside a program.
"""

from ._authkey import AuthenticationString
from ._install import OVERRIDE_DIR, install, is_active

__version__ = "0.1.0"

__all__ = ["AuthenticationString", "OVERRIDE_DIR", "install", "is_active", "__version__"]
