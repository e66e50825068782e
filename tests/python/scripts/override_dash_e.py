"""Whether this interpreter imports our `_multiprocessing`, and whether a child started with
`python -E` does (it must not: -E ignores PYTHONPATH, and with it the override). Prints
`[ours here, ours in the child]` as JSON (for test_override.py)."""

import _multiprocessing
import json
import subprocess
import sys

code = 'import _multiprocessing; print(getattr(_multiprocessing, "__multiprocessing_rs__", False))'
out = subprocess.run([sys.executable, "-E", "-c", code], capture_output=True, text=True).stdout
print(json.dumps([getattr(_multiprocessing, "__multiprocessing_rs__", False), out.strip()]))
