"""Runs CPython's multiprocessing suite for one start method in this interpreter and writes
what happened to every test as JSON.

    python run_suite.py METHOD OUT.json [--timeout SECONDS] [-k PATTERN]... [--only TEST_ID]...

The interpreter is whichever runs this file: started by ``run.py`` either plainly (the stock
``_multiprocessing``) or under ``python -m multiprocessing_rs run`` (ours). The JSON records
which module the process imported, so a run can never be counted for the wrong side.
"""

import argparse
import json
import os
import sys
import time
import traceback
import unittest


def semaphores(prefix):
    """The paths of the named semaphores whose names start with ``prefix`` (``/mp-...``): POSIX
    ones in /dev/shm, file-backed ones in the private directory (``MPRS_SEMAPHORE_DIR``, which
    the runner sets for every run)."""
    stem = "sem." + prefix.lstrip("/")
    found = set()
    for directory in ("/dev/shm", os.environ.get("MPRS_SEMAPHORE_DIR")):
        try:
            found |= {os.path.join(directory, n) for n in os.listdir(directory) if n.startswith(stem)}
        except (OSError, TypeError):
            pass
    return found


class RecordingResult(unittest.TextTestResult):
    """A text result that also keeps every outcome by test id, and which test left each named
    semaphore of this run (see ``SEM_PREFIX``) behind."""

    sem_prefix = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = {}
        self._started = {}
        self.created_by = {}

    def stopTest(self, test):
        super().stopTest(test)
        if self.sem_prefix:
            for name in semaphores(self.sem_prefix) - set(self.created_by):
                self.created_by[name] = test.id()

    def startTest(self, test):
        self._started[test.id()] = time.perf_counter()
        super().startTest(test)

    def _record(self, test, outcome, detail=None):
        test_id = test.id()
        seconds = time.perf_counter() - self._started.get(test_id, time.perf_counter())
        # A class- or module-level fixture failure is reported against a placeholder "test".
        previous = self.outcomes.get(test_id)
        if previous is not None and previous["outcome"] in ("failure", "error"):
            return
        self.outcomes[test_id] = {"outcome": outcome, "detail": detail, "seconds": round(seconds, 3)}

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, "success")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "failure", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "error", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skip", str(reason))

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._record(test, "expected_failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._record(test, "unexpected_success")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            self._record(test, "failure" if failed else "error", self._exc_info_to_string(err, subtest))


def apply_timeout(seconds):
    """Scales ``test.support``'s timeouts the way ``python -m test --timeout SECONDS`` does.

    Without regrtest, every test waits up to ``LONG_TIMEOUT`` (300 s) where the suite expects
    "forever". One such wait is reached by design in 3.10-3.12's
    ``WithThreadsTestPool.test_terminate`` when a pool thread starts its first 300-second
    ``sleep`` before ``terminate()`` (threads cannot be stopped; 3.13 shortened that sleep for
    this reason), which a loaded machine makes likely. A regrtest timeout bounds it.
    """
    from test import support

    support.LOOPBACK_TIMEOUT = min(max(support.LOOPBACK_TIMEOUT, seconds / 120), seconds)
    support.INTERNET_TIMEOUT = min(support.INTERNET_TIMEOUT, seconds)
    support.SHORT_TIMEOUT = min(max(support.SHORT_TIMEOUT, seconds / 40), seconds)
    support.LONG_TIMEOUT = min(max(support.LONG_TIMEOUT, seconds / 4), seconds)


def which_module():
    import _multiprocessing

    return "ours" if getattr(_multiprocessing, "__multiprocessing_rs__", False) else "stock"


def which_backend():
    """Where this process's semaphores live: ``"file"`` or ``"posix"`` (always, on stock)."""
    import _multiprocessing

    native = getattr(_multiprocessing, "_native", None)
    try:
        return native.semaphore_backend() if hasattr(native, "semaphore_backend") else "posix"
    except OSError as exc:
        return f"none: {exc}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("method")
    parser.add_argument("out")
    parser.add_argument("--timeout", type=float, help="as python -m test --timeout")
    parser.add_argument("-k", dest="patterns", action="append", default=[])
    parser.add_argument("--only", action="append", default=[], help="run just these test ids")
    args = parser.parse_args()

    os.environ["MPRS_CPYTHON_START_METHOD"] = args.method
    # Semaphores of this run get names of their own (children inherit the prefix), so that
    # what the run leaves in /dev/shm can be told from other runs' and cleaned up.
    import multiprocessing

    sem_prefix = f"/mp-{args.method[:2]}{os.getpid()}"
    multiprocessing.current_process()._config["semprefix"] = sem_prefix
    RecordingResult.sem_prefix = sem_prefix
    if args.timeout:
        apply_timeout(args.timeout)
    try:
        import cpython_suite
    except unittest.SkipTest as skip:
        # The suite skips itself where no semaphore can be made (stock on a simulated host).
        report = {"module": which_module(), "backend": which_backend(), "module_skipped": str(skip), "tests": {}}
        with open(args.out, "w") as out:
            json.dump(report, out, indent=1)
        return 0

    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = [p if "*" in p else f"*{p}*" for p in args.patterns]
    if args.only:
        prefix = cpython_suite.__name__ + "."
        names = [t[len(prefix) :] if t.startswith(prefix) else t for t in args.only]
        suite = loader.loadTestsFromNames(names, cpython_suite)
    else:
        suite = loader.loadTestsFromModule(cpython_suite)

    started = time.perf_counter()
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=RecordingResult)
    try:
        result = runner.run(suite)
        outcomes, created_by = result.outcomes, result.created_by
        crashed = None
    except BaseException:  # the run itself died: report it rather than lose the file
        outcomes, created_by, crashed = {}, {}, traceback.format_exc()
    report = {
        "python": sys.version.split()[0],
        "method": args.method,
        "module": which_module(),
        "backend": which_backend(),
        "seconds": round(time.perf_counter() - started, 1),
        "crashed": crashed,
        "tests": outcomes,
        "sem_prefix": sem_prefix,
        # Semaphores still there when the suite ended, and the test after which each appeared.
        "semaphores_left": {path: created_by.get(path) for path in sorted(semaphores(sem_prefix))},
    }
    with open(args.out, "w") as out:
        json.dump(report, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
