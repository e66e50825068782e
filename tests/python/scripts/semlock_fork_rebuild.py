"""`SemLock._rebuild` by handle in the child of a `fork()` (what the fork context does):
`semlock_fork_rebuild.py PREFIX [--ours-only]` prints one JSON report. With `--ours-only` (never
on stock, which would take any integer as a `sem_t*` and crash) it also rebuilds handles not
open in this process (for test_semlock_parity.py)."""

import _multiprocessing
import json
import os
import sys

SemLock = _multiprocessing.SemLock
ours = bool(getattr(_multiprocessing, "__multiprocessing_rs__", False))
prefix = sys.argv[1] + ("r-" if ours else "s-")


def E(f):
    try:
        return f()
    except BaseException as e:
        return ["!", type(e).__name__, str(e)]


lock = SemLock(1, 1, 1, prefix + "lock", True)
rlock = SemLock(0, 1, 1, prefix + "rlock", True)
lock.acquire()
rlock.acquire()
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    # The child of fork(): the parent's semaphores are mapped here too, so their handles can
    # be rebuilt (what multiprocessing's fork context does, through pickling the handle).
    r = SemLock._rebuild(lock.handle, 1, 1, None)
    rr = SemLock._rebuild(rlock.handle, 0, 1, None)
    child = {
        "rebuilt": [r.handle == lock.handle, r.kind, r.maxvalue, r.name, r._count()],
        "held_by_parent": [r.acquire(False), r._get_value(), rr.acquire(False), E(rr.release)],
        # The forked objects keep the parent's count and thread until _after_fork().
        "inherited": [lock._count(), lock._is_mine(), rlock._count(), rlock._is_mine()],
        "after_fork": [
            lock._after_fork(),
            lock._count(),
            lock._is_mine(),
            rlock._after_fork(),
            rlock._count(),
            E(rlock.release),
        ],
        "child_releases": [r.release(), r._count(), r._get_value()],
    }
    os.write(write, json.dumps(child).encode())
    os._exit(0)
os.close(write)
data = b""
while True:
    chunk = os.read(read, 65536)
    if not chunk:
        break
    data += chunk
_, status = os.waitpid(pid, 0)
report = {
    "ours": ours,
    "child": json.loads(data),
    "child_status": status,
    "parent_after": [
        lock._get_value(),
        lock.acquire(False),
        lock._count(),
        rlock._count(),
        rlock.release(),
        rlock._get_value(),
    ],
}
if ours and "--ours-only" in sys.argv:
    # Stock would take any integer as a sem_t* and crash on first use: never run this there.
    gone = SemLock(1, 1, 1, prefix + "gone", True)
    stale = gone.handle
    del gone

    def err(f):
        try:
            f()
            return "no error"
        except OSError as e:
            return [type(e).__name__, e.errno, str(e)]

    report["not_open"] = {
        "12345": err(lambda: SemLock._rebuild(12345, 1, 1, None)),
        "0": err(lambda: SemLock._rebuild(0, 1, 1, None)),
        "minus1": err(lambda: SemLock._rebuild(-1, 1, 1, None)),
        "closed": err(lambda: SemLock._rebuild(stale, 1, 1, None)),
        "closed_rlock": err(lambda: SemLock._rebuild(stale, 0, 1, None)),
    }
    report["open_still_works"] = [SemLock._rebuild(lock.handle, 1, 1, None).handle == lock.handle]
print(json.dumps(report))
