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

Each scenario runs on stock and under the override, in separate interpreters for every CPython
found; outcomes are compared exactly and timings are bounded on each side (lower bounds
strictly, upper bounds loosely: the machine is shared).
"""

import json
import textwrap

import pytest

from conftest import SEM_PREFIX, interpreter, run_json_both

pytestmark = pytest.mark.usefixtures("no_leftover_semaphores")

SCENARIOS = textwrap.dedent(
    r"""
    import json, os, signal, sys, threading, time
    import _multiprocessing
    SemLock = _multiprocessing.SemLock

    OURS = bool(getattr(_multiprocessing, "__multiprocessing_rs__", False))
    PREFIX = sys.argv[1] + ("r-" if OURS else "s-")
    ALARM = 0.2
    _count = [0]

    def new(kind=1, value=0):
        _count[0] += 1
        return SemLock(kind, value, 1, f"{PREFIX}{_count[0]}", True)

    class Alarm(Exception):
        pass

    def quiet_thread(target):
        # Signals must go to the main thread (where acquire is blocked), not to a helper.
        def run():
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGINT})
            target()
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    class Watchdog:
        # Releases `s` after 5 s if the signal did not end the wait, so nothing can hang.
        def __init__(self, s):
            self.stop = threading.Event()
            self.fired = False
            def guard():
                if not self.stop.wait(5):
                    self.fired = True
                    s.release()
            self.thread = quiet_thread(guard)
        def cancel(self):
            self.stop.set()
            self.thread.join(10)

    def blocked(s, call, arm):
        # Runs `call` (a blocking acquire on `s`) with `arm()` starting the signal; returns the
        # outcome and when things happened, relative to the start.
        hits = []
        dog = Watchdog(s)
        t0 = time.monotonic()
        arm(hits)
        try:
            outcome = ["returned", call()]
        except BaseException as e:
            outcome = ["raised", type(e).__name__, str(e)]
        t1 = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, 0)
        dog.cancel()
        return {
            "outcome": outcome,
            "watchdog_fired": dog.fired,
            "elapsed": t1 - t0,
            "handler_runs": len(hits),
            "first_handler_at": hits[0] - t0 if hits else None,
            "returned_after_handler": t1 - hits[0] if hits else None,
        }

    def alarm_in(seconds, interval=0.0):
        return lambda hits: signal.setitimer(signal.ITIMER_REAL, seconds, interval)

    results = {}

    def raising_arm(hits):
        def raising(signum, frame):
            hits.append(time.monotonic())
            raise Alarm(f"alarm {signum}")
        signal.signal(signal.SIGALRM, raising)
        signal.setitimer(signal.ITIMER_REAL, ALARM)

    # 1. A raising handler ends an untimed acquire on a zero semaphore.
    s = new()
    r = blocked(s, s.acquire, raising_arm)
    r["after"] = [s._count(), s._get_value(), s.release(), s.acquire(False), s._count()]
    results["raising_untimed"] = r

    # 2. The same with a timeout far away (sem_timedwait rather than sem_wait).
    s = new()
    r = blocked(s, lambda: s.acquire(True, 30), raising_arm)
    r["after"] = [s._count(), s._get_value(), s.release(), s.acquire(False), s._count()]
    results["raising_timed"] = r

    # 3. An RLock held by another thread: the main thread's blocked acquire is interrupted.
    rl = new(kind=0, value=1)
    held, done = threading.Event(), threading.Event()
    def hold():
        rl.acquire()
        held.set()
        done.wait(10)
        rl.release()
    holder = quiet_thread(hold)
    held.wait(10)
    r = blocked(rl, rl.acquire, raising_arm)
    r["after"] = [rl._count(), rl._is_mine(), rl._get_value()]
    done.set()
    holder.join(10)
    r["after_holder_released"] = [rl.acquire(False), rl._count(), rl.release()]
    results["raising_rlock"] = r

    # 4. A benign handler, every 0.1 s: acquire(timeout=0.5) still times out at 0.5 s. (Were the
    # wait restarted with a fresh timeout after each signal, it would last until the handler
    # stops the timer, after 30 runs: about 3 s.)
    def benign_arm(hits):
        def benign(signum, frame):
            hits.append(time.monotonic())
            if len(hits) >= 30:
                signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, benign)
        signal.setitimer(signal.ITIMER_REAL, 0.1, 0.1)
    s = new()
    r = blocked(s, lambda: s.acquire(timeout=0.5), benign_arm)
    r["after"] = [s._count(), s._get_value()]
    results["benign_timed"] = r

    # 5. One benign signal during an untimed acquire: the wait goes on (the watchdog, or here a
    # release from another thread at 0.6 s, ends it).
    s = new()
    releaser = threading.Timer(0.6, s.release)
    def one_benign(hits):
        signal.signal(signal.SIGALRM, lambda n, f: hits.append(time.monotonic()))
        signal.setitimer(signal.ITIMER_REAL, ALARM)
        releaser.start()
    r = blocked(s, s.acquire, one_benign)
    releaser.join(10)
    r["after"] = [s._count(), s._get_value()]
    results["benign_untimed"] = r

    # 6. A handler that releases the semaphore: the interrupted acquire then gets the unit.
    s = new()
    def releasing_arm(hits):
        def releasing(signum, frame):
            hits.append(time.monotonic())
            s.release()
        signal.signal(signal.SIGALRM, releasing)
        signal.setitimer(signal.ITIMER_REAL, ALARM)
    r = blocked(s, s.acquire, releasing_arm)
    r["after"] = [s._count(), s._get_value(), s._is_mine()]
    results["releasing_handler"] = r

    # 7. Ctrl-C: SIGINT to the main thread with Python's default handler.
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    results["default_sigint_handler"] = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    main = threading.get_ident()
    def sigint_to(send):
        def arm(hits):
            def later():
                time.sleep(ALARM)
                hits.append(time.monotonic())
                send()
            quiet_thread(later)
        return arm
    s = new()
    r = blocked(s, s.acquire, sigint_to(lambda: signal.pthread_kill(main, signal.SIGINT)))
    r["after"] = [s._count(), s._get_value()]
    results["sigint_thread_untimed"] = r

    # 8. Ctrl-C sent to the process (os.kill), during a timed acquire.
    s = new()
    r = blocked(s, lambda: s.acquire(True, 30), sigint_to(lambda: os.kill(os.getpid(), signal.SIGINT)))
    r["after"] = [s._count(), s._get_value()]
    results["sigint_process_timed"] = r

    print(json.dumps({"ours": OURS, "results": results}))
    """
)

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
def runs(tmp_path_factory):
    script = tmp_path_factory.mktemp("signals") / "signals.py"
    script.write_text(SCENARIOS)
    cache = {}

    def get(version):
        if version not in cache:
            prefix = f"{SEM_PREFIX}g{version.replace('.', '')}-"
            stock, ours = run_json_both(version, [str(script), prefix], timeout=90)
            assert stock["ours"] is False and ours["ours"] is True
            cache[version] = {"stock": stock["results"], "ours": ours["results"]}
        return cache[version]

    return get


def outcome(result):
    return {k: v for k, v in result.items() if k not in TIMINGS}


@pytest.mark.parametrize("required", ["3.11", "3.13"])
def test_required_version_is_present(required):
    interpreter(required)


@pytest.mark.parametrize("name", NAMES)
def test_same_outcome_as_stock(runs, version, name):
    both = runs(version)
    assert outcome(both["ours"][name]) == outcome(both["stock"][name]), json.dumps(both, indent=1)


def interrupted_promptly(r):
    assert r["watchdog_fired"] is False
    assert r["handler_runs"] == 1
    assert r["first_handler_at"] >= ALARM - EPS
    assert r["first_handler_at"] < ALARM + SLACK
    assert r["returned_after_handler"] < 0.5


@pytest.mark.parametrize("side", ["stock", "ours"])
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


@pytest.mark.parametrize("side", ["stock", "ours"])
def test_benign_handler_keeps_the_deadline(runs, version, side):
    r = runs(version)[side]["benign_timed"]
    assert r["outcome"] == ["returned", False]
    assert r["watchdog_fired"] is False
    assert r["elapsed"] >= 0.5 - EPS, r
    assert r["elapsed"] < 2.0, f"the wait was restarted after signals: {r}"
    assert r["handler_runs"] >= 2, r
    assert r["after"] == [0, 0]


@pytest.mark.parametrize("side", ["stock", "ours"])
def test_benign_handler_does_not_end_an_untimed_acquire(runs, version, side):
    r = runs(version)[side]["benign_untimed"]
    assert r["outcome"] == ["returned", True]
    assert r["watchdog_fired"] is False
    assert r["handler_runs"] == 1 and r["first_handler_at"] >= ALARM - EPS
    assert r["elapsed"] >= 0.6 - EPS, r
    assert r["elapsed"] < 0.6 + SLACK
    # The other thread's release counted -1 on this object, the acquire +1.
    assert r["after"] == [0, 0]


@pytest.mark.parametrize("side", ["stock", "ours"])
def test_handler_that_releases_lets_the_acquire_succeed(runs, version, side):
    r = runs(version)[side]["releasing_handler"]
    assert r["outcome"] == ["returned", True]
    assert r["watchdog_fired"] is False
    interrupted_promptly(r)
    # The handler's release counted -1 on this object, the acquire +1.
    assert r["after"] == [0, 0, False]


@pytest.mark.parametrize("side", ["stock", "ours"])
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
