"""Signals during a blocked `SemLock.acquire`: `semlock_signals.py PREFIX` runs each scenario
(a raising, benign or releasing handler; Ctrl-C) and prints one JSON document of the outcomes
and their timings (for test_semlock_signals.py)."""

import _multiprocessing
import json
import os
import signal
import sys
import threading
import time

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
