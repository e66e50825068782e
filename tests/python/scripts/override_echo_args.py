"""Prints its arguments and whether our `_multiprocessing` is imported, as JSON: run with
`-m override_echo_args` (for test_override.py)."""

import _multiprocessing
import json
import sys

print(json.dumps([sys.argv[1:], getattr(_multiprocessing, "__multiprocessing_rs__", False)]))
