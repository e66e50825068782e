"""CPython's own ``test/_test_multiprocessing.py``, installed for one start method.

This is the module CPython's ``test_multiprocessing_<method>`` files are made of (3.11.7 as
installed by pyenv ships without them): every ``_TestX`` class becomes ``WithProcessesTestX``,
``WithThreadsTestX`` and ``WithManagerTestX``. The start method comes from the environment,
so that spawn and forkserver children, which import this module by name to unpickle a test
case, install the same classes as their parent.
"""

import os

from test import _test_multiprocessing

START_METHOD = os.environ["MPRS_CPYTHON_START_METHOD"]

_test_multiprocessing.install_tests_in_module_dict(globals(), START_METHOD)
