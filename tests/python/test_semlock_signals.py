"""Signals reach a blocked `SemLock.acquire` the same way on our module as on stock's:

* a handler that raises (SIGALRM from `setitimer`) ends a blocked acquire, timed or not, on a
  semaphore or on an RLock held by another thread, promptly and with the handler's exception;
  the net count and the kernel value are unchanged and the lock stays usable;
* a handler that only records it ran does not shorten a timed acquire: it still returns False
  at the original deadline, even with a signal every 0.1 s (the wait resumes with the same
  deadline instead of starting over);
* a handler that releases the semaphore lets the interrupted acquire succeed;
* Ctrl-C (SIGINT with Python's default handler, sent to the main thread or to the process)
  raises KeyboardInterrupt out of a blocked acquire.

Each scenario (`scripts/semlock_signals.py`) runs on stock and under the override, in separate
interpreters for every CPython found; outcomes are compared exactly and timings are bounded on
each side (lower bounds strictly, upper bounds loosely: the machine is shared).
"""

import json

import pytest

from conftest import SEM_PREFIX, interpreter, run_json_both, script

pytestmark = pytest.mark.usefixtures("no_leftover_semaphores")

NAMES = [
    "raising_untimed",
    "raising_timed",
    "raising_rlock",
    "benign_timed",
    "benign_untimed",
    "releasing_handler",
    "sigint_thread_untimed",
    "sigint_process_timed",
]
#: What may differ between the sides (timings) and is checked by bounds instead.
TIMINGS = ("elapsed", "handler_runs", "first_handler_at", "returned_after_handler")

ALARM = 0.2
EPS = 0.005  # clock granularity between setitimer's clock and time.monotonic()
SLACK = 1.5  # how late a signal may be handled on a busy machine


@pytest.fixture(scope="module")
def runs():
    cache = {}

    def get(version):
        if version not in cache:
            prefix = f"{SEM_PREFIX}g{version.replace('.', '')}-"
            stock, ours = run_json_both(version, [script("semlock_signals.py"), prefix], timeout=90)
            assert stock["ours"] is False and ours["ours"] is True
            cache[version] = {"stock": stock["results"], "ours": ours["results"]}
        return cache[version]

    return get


#: Each test below holds stock and ours to the same facts.
BOTH_SIDES = pytest.mark.parametrize("side", ["stock", "ours"])


def outcome(result):
    return {k: v for k, v in result.items() if k not in TIMINGS}


@pytest.mark.parametrize("required", ["3.11", "3.13"])
def test_required_version_is_present(required):
    interpreter(required)


@pytest.mark.parametrize("name", NAMES)
def test_same_outcome_as_stock(runs, version, name):
    both = runs(version)
    assert outcome(both["ours"][name]) == outcome(both["stock"][name]), json.dumps(both, indent=1)


def ended(r, expected):
    """The acquire ended as `expected`, and not because the watchdog released the semaphore."""
    assert r["outcome"] == expected, r
    assert r["watchdog_fired"] is False, r


def interrupted_promptly(r):
    assert r["watchdog_fired"] is False
    assert r["handler_runs"] == 1
    assert r["first_handler_at"] >= ALARM - EPS
    assert r["first_handler_at"] < ALARM + SLACK
    assert r["returned_after_handler"] < 0.5


@BOTH_SIDES
def test_raising_handler_interrupts_a_blocked_acquire(runs, version, side):
    results = runs(version)[side]
    for name in ["raising_untimed", "raising_timed", "raising_rlock"]:
        r = results[name]
        assert r["outcome"] == ["raised", "Alarm", "alarm 14"], (name, r)
        interrupted_promptly(r)
    # Nothing was acquired: the count and the value are as before, and the semaphore still
    # works (a release, -1 on the count, then an acquire, +1).
    assert results["raising_untimed"]["after"] == [0, 0, None, True, 0]
    assert results["raising_timed"]["after"] == [0, 0, None, True, 0]
    # (the count is per object: 1 is the holder thread's acquire)
    assert results["raising_rlock"]["after"] == [1, False, 0]
    assert results["raising_rlock"]["after_holder_released"] == [True, 1, None]


@BOTH_SIDES
def test_benign_handler_keeps_the_deadline(runs, version, side):
    r = runs(version)[side]["benign_timed"]
    ended(r, ["returned", False])
    assert r["elapsed"] >= 0.5 - EPS, r
    assert r["elapsed"] < 2.0, f"the wait was restarted after signals: {r}"
    assert r["handler_runs"] >= 2, r
    assert r["after"] == [0, 0]


@BOTH_SIDES
def test_benign_handler_does_not_end_an_untimed_acquire(runs, version, side):
    r = runs(version)[side]["benign_untimed"]
    ended(r, ["returned", True])
    assert r["handler_runs"] == 1 and r["first_handler_at"] >= ALARM - EPS
    assert r["elapsed"] >= 0.6 - EPS, r
    assert r["elapsed"] < 0.6 + SLACK
    # The other thread's release counted -1 on this object, the acquire +1.
    assert r["after"] == [0, 0]


@BOTH_SIDES
def test_handler_that_releases_lets_the_acquire_succeed(runs, version, side):
    r = runs(version)[side]["releasing_handler"]
    ended(r, ["returned", True])
    interrupted_promptly(r)
    # The handler's release counted -1 on this object, the acquire +1.
    assert r["after"] == [0, 0, False]


@BOTH_SIDES
def test_ctrl_c_interrupts_a_blocked_acquire(runs, version, side):
    results = runs(version)[side]
    assert results["default_sigint_handler"] is True
    for name in ["sigint_thread_untimed", "sigint_process_timed"]:
        r = results[name]
        assert r["outcome"] == ["raised", "KeyboardInterrupt", ""], (name, r)
        assert r["watchdog_fired"] is False
        assert r["first_handler_at"] >= ALARM - EPS
        # Here the "handler" time is when the signal was sent.
        assert r["returned_after_handler"] < SLACK, r
        assert r["after"] == [0, 0]
