"""The SemLock parity runner: `python semlock_cases.py PREFIX CASES.json` evaluates every case
of test_semlock_parity.py (an expression, or statements that set R) with the helpers below, and
prints one JSON document: {"meta": {...}, "results": {case: outcome}}.

Run once on the stock module and once under the override; the test compares the two."""

# The cases use copy, inspect, pickle, weakref, Decimal and Fraction from this namespace.
import _multiprocessing
import copy  # noqa: F401
import gc
import inspect  # noqa: F401
import json
import multiprocessing
import pickle  # noqa: F401
import re
import sys
import threading
import time
import weakref  # noqa: F401
from decimal import Decimal  # noqa: F401
from fractions import Fraction  # noqa: F401

from raising_conversions import Raises  # noqa: F401

M = _multiprocessing
SemLock = M.SemLock
sem_unlink = M.sem_unlink
SEM_VALUE_MAX = SemLock.SEM_VALUE_MAX

# Both sides run at once: each gets its own names.
PREFIX = sys.argv[1] + ("r-" if getattr(M, "__multiprocessing_rs__", False) else "s-")
CASES = json.load(open(sys.argv[2]))
# multiprocessing.synchronize names its semaphores after this prefix: with ours, the
# leftover check sees them too.
multiprocessing.current_process()._config["semprefix"] = PREFIX + "mp"
_names = []
_in_case = [0, 0]  # case number, names made in this case


def N(suffix=""):
    """A fresh semaphore name, unlinked (if it exists) when the run ends. Numbered within
    the case, so that one case's names do not depend on what earlier cases did."""
    _in_case[1] += 1
    name = f"{PREFIX}{_in_case[0]}-{_in_case[1]}{suffix}"
    _names.append(name)
    return name


def mk(kind=1, value=1, maxvalue=1):
    """A semaphore whose name is unlinked at once (a fork-context lock)."""
    return SemLock(kind, value, maxvalue, N(), True)


def named(kind=1, value=1, maxvalue=1):
    """A semaphore that keeps its name (a spawn-context lock)."""
    return SemLock(kind, value, maxvalue, N(), False)


def clean(text):
    text = text.replace(PREFIX, "<P>").replace(PREFIX.lstrip("/"), "<P>")
    return re.sub(r"0x[0-9a-fA-F]+", "0x?", text)


def exc(e):
    return ["!", type(e).__name__, clean(str(e))]


def norm(x):
    if isinstance(x, BaseException):
        return exc(x)
    if x is None or isinstance(x, (bool, int)):
        return x
    if isinstance(x, str):
        return clean(x)
    if isinstance(x, float):
        return ["float", repr(x)]
    if isinstance(x, (list, tuple)):
        return [norm(v) for v in x]
    if isinstance(x, dict):
        return {str(k): norm(v) for k, v in x.items()}
    return ["obj", type(x).__name__]


def E(f):
    """f()'s value, or its exception as ["!", type name, message]."""
    try:
        return f()
    except BaseException as e:
        return exc(e)


def T(f):
    """E(f) evaluated in another thread."""
    out = []
    t = threading.Thread(target=lambda: out.append(E(f)))
    t.start()
    t.join(10)
    return out[0] if out else "thread did not finish"


class Holder:
    """A thread that acquires `s` on entry, runs what it is asked to, and releases on exit
    (it stays alive meanwhile: thread identities are reused once a thread ends)."""

    def __init__(self, s):
        self.s = s
        self.jobs = []
        self.ready = threading.Event()
        self.wake = threading.Event()
        self.done = False

    def _main(self):
        self.got = E(self.s.acquire)
        self.ready.set()
        while True:
            self.wake.wait(10)
            self.wake.clear()
            if self.done:
                break
            f, out, ev = self.jobs.pop()
            out.append(E(f))
            ev.set()
        self.released = E(self.s.release)

    def run(self, f):
        out, ev = [], threading.Event()
        self.jobs.append((f, out, ev))
        self.wake.set()
        ev.wait(10)
        return out[0] if out else "holder did not answer"

    def __enter__(self):
        self.thread = threading.Thread(target=self._main)
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc):
        self.done = True
        self.wake.set()
        self.thread.join(10)


def quick(f):
    """[E(f), whether it returned within 1 s]: for calls that must not wait."""
    t0 = time.monotonic()
    r = E(f)
    return [r, time.monotonic() - t0 < 1.0]


def blocks(s, block):
    """Whether acquire(block, 0.2) on a zero semaphore waited for its timeout (a blocking
    acquire) or returned at once (a non-blocking one)."""
    t0 = time.monotonic()
    r = E(lambda: s.acquire(block, 0.2))
    return [r, time.monotonic() - t0 >= 0.19]


def info(s):
    return [type(s).__name__, s.kind, s.maxvalue, s.name, s._count(), E(s._get_value), E(s._is_zero), s._is_mine()]


class Index:
    def __init__(self, v):
        self.v = v

    def __index__(self):
        return self.v


class Str(str):
    pass


unraisable = []
sys.unraisablehook = lambda u: unraisable.append(
    [current, type(u.exc_value).__name__, clean(str(u.exc_value)), clean(str(u.err_msg))]
)

env = dict(globals())
results = {}
current = None
for number, (name, code) in enumerate(CASES):
    current = name
    _in_case[:] = [number, 0]
    sys.stderr.write(f"@case {name}\n")
    sys.stderr.flush()
    ns = dict(env)
    try:
        try:
            compiled = compile(code, name, "eval")
        except SyntaxError:
            exec(compile(code, name, "exec"), ns)
            value = ns["R"]
        else:
            value = eval(compiled, ns)
    except BaseException as e:
        value = e
    results[name] = norm(value)
    del ns
    gc.collect()

for name in _names:
    try:
        sem_unlink(name)
    except FileNotFoundError:
        pass

print(
    json.dumps(
        {
            "meta": {
                "ours": bool(getattr(M, "__multiprocessing_rs__", False)),
                "version": list(sys.version_info[:2]),
                "public": sorted(n for n in dir(M) if not n.startswith("__")),
                "unraisable": unraisable,
            },
            "results": results,
        }
    )
)
