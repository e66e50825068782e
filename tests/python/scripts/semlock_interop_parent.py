"""The parent of test_semlock_interop.py: `semlock_interop_parent.py CHILD_COMMAND_JSON PREFIX`
creates, holds, releases and unlinks semaphores on one `_multiprocessing`, drives a child
running semlock_interop_child.py on the other through the same names, and prints one JSON
report of what each side saw."""

import _multiprocessing
import json
import select
import subprocess
import sys
import time

SemLock = _multiprocessing.SemLock
sem_unlink = _multiprocessing.sem_unlink

command = json.loads(sys.argv[1])
prefix = sys.argv[2] + ("r-" if getattr(_multiprocessing, "__multiprocessing_rs__", False) else "s-")
names = {key: f"{prefix}{key}" for key in ["lock", "sem", "theirs_to_unlink", "ours_to_unlink", "rlock"]}

child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)


def remote(code, timeout=15):
    child.stdin.write(json.dumps(code) + "\n")
    child.stdin.flush()
    ready, _, _ = select.select([child.stdout], [], [], timeout)
    if not ready:
        raise TimeoutError(f"child did not answer {code!r} within {timeout} s")
    line = child.stdout.readline()
    if not line:
        raise EOFError(f"child exited (status {child.wait()}) on {code!r}")
    return json.loads(line)


def local(f):
    try:
        return {"value": f()}
    except BaseException as e:
        return {"error": [type(e).__name__, str(e)]}


report = {
    "parent_ours": bool(getattr(_multiprocessing, "__multiprocessing_rs__", False)),
    "parent_version": list(sys.version_info[:2]),
}
try:
    report["child_ours"] = remote("bool(getattr(_multiprocessing, '__multiprocessing_rs__', False))")
    report["child_version"] = remote("list(sys.version_info[:2])")

    # A Lock (kind 1, maxvalue 1), created and held here, opened by name there.
    lock = SemLock(1, 1, 1, names["lock"], False)
    report["parent_acquires"] = lock.acquire()
    report["child_opens"] = remote(
        f"L = SemLock._rebuild(0, 1, 1, {names['lock']!r}); [L.kind, L.maxvalue, L.name == {names['lock']!r}, L._get_value()]"
    )
    report["child_nonblocking_while_held"] = remote("L.acquire(False)")
    report["child_timed_while_held"] = remote(
        "t0 = time.monotonic(); r = L.acquire(True, 0.3); [r, time.monotonic() - t0]"
    )
    report["parent_releases"] = lock.release()
    report["child_after_release"] = remote(
        "t0 = time.monotonic(); r = L.acquire(True, 10); [r, time.monotonic() - t0, L._count(), L._is_mine()]"
    )
    # Now the child holds it: this side is excluded until it lets go.
    report["parent_nonblocking_while_child_holds"] = local(lambda: lock.acquire(False))
    t0 = time.monotonic()
    report["parent_timed_while_child_holds"] = local(lambda: [lock.acquire(True, 0.3), time.monotonic() - t0])
    report["child_releases"] = remote("L.release()")
    report["parent_after_child_release"] = local(lambda: [lock.acquire(True, 10), lock._count()])
    lock.release()
    report["child_sees_released"] = remote("[L._get_value(), L._is_zero()]")

    # A counting semaphore: units taken on one side are gone on the other.
    sem = SemLock(1, 3, SemLock.SEM_VALUE_MAX, names["sem"], False)
    report["child_sem"] = remote(
        f"S = SemLock._rebuild(0, 1, {SemLock.SEM_VALUE_MAX}, {names['sem']!r}); [S._get_value(), S.acquire(), S.acquire(False), S._get_value()]"
    )
    report["parent_sem"] = [sem._get_value(), sem.acquire(False), sem.acquire(False), sem._is_zero()]
    report["child_sem_empty"] = remote(
        "t0 = time.monotonic(); [S.acquire(True, 0.2), time.monotonic() - t0 >= 0.19, S._is_zero()]"
    )
    report["child_sem_release"] = remote("[S.release(), S.release(), S.release()]")
    report["parent_sem_after"] = [sem._get_value(), sem._count()]

    # An RLock held by the child: not ours to release, and excluded here.
    report["child_rlock"] = remote(
        f"R = SemLock(0, 1, 1, {names['rlock']!r}, False); [R.acquire(), R.acquire(), R._count()]"
    )
    rlock = SemLock._rebuild(0, 0, 1, names["rlock"])
    report["parent_rlock_while_child_holds"] = [rlock.acquire(False), local(rlock.release)]
    report["child_rlock_release"] = remote("[R.release(), R.release(), R._count()]")
    report["parent_rlock_after"] = [rlock.acquire(False), rlock._is_mine(), rlock.release()]

    # sem_unlink across modules, both ways.
    theirs = SemLock(1, 1, 1, names["theirs_to_unlink"], False)
    report["child_unlinks_parents_name"] = remote(f"sem_unlink({names['theirs_to_unlink']!r})")
    report["parent_opens_unlinked"] = local(lambda: SemLock._rebuild(0, 1, 1, names["theirs_to_unlink"]))
    report["child_opens_unlinked"] = remote(f"SemLock._rebuild(0, 1, 1, {names['theirs_to_unlink']!r})")
    report["still_usable_after_unlink"] = [theirs.acquire(False), theirs.release()]

    report["child_creates"] = remote(
        f"C = SemLock(1, 0, 1, {names['ours_to_unlink']!r}, False); C.name == {names['ours_to_unlink']!r}"
    )
    created = SemLock._rebuild(0, 1, 1, names["ours_to_unlink"])
    report["parent_opens_childs"] = [created._get_value(), created.acquire(False)]
    report["child_posts"] = remote("C.release()")
    report["parent_takes_childs"] = [created._get_value(), created.acquire(False), created._get_value()]
    report["parent_unlinks_childs_name"] = local(lambda: sem_unlink(names["ours_to_unlink"]))
    report["child_opens_unlinked_own"] = remote(f"SemLock._rebuild(0, 1, 1, {names['ours_to_unlink']!r})")
    report["parent_opens_unlinked_childs"] = local(lambda: SemLock._rebuild(0, 1, 1, names["ours_to_unlink"]))
    report["parent_unlinks_again"] = local(lambda: sem_unlink(names["ours_to_unlink"]))

    child.stdin.close()
    report["child_exit"] = child.wait(timeout=15)
finally:
    if child.poll() is None:
        child.kill()
        child.wait()
    for name in names.values():
        try:
            sem_unlink(name)
        except FileNotFoundError:
            pass
print(json.dumps(report))
