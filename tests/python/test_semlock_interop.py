"""Our SemLock and stock CPython's share one kernel object: a lock created and held by one
module excludes a process that opened it by name with the other module, the holder's release
lets that process in (and the other way round), a counting semaphore's value is seen by both,
and each module's `sem_unlink` removes names the other created.

Each test runs a parent on one module that drives a child on the other, line by line over
pipes (every read has a timeout, and the child is killed if anything goes wrong). The child
reports which `_multiprocessing` it imported, so a test cannot pass with both on the same one.
"""

import json
import os
import textwrap

import pytest

from conftest import INTERPRETERS, PKG_DIR, SEM_PREFIX, interpreter, run_json

pytestmark = pytest.mark.usefixtures("no_leftover_semaphores")

#: The child: evaluates the Python lines it is sent, answers each with one JSON line.
CHILD = textwrap.dedent(
    r"""
    import ast, json, sys, time
    import _multiprocessing
    SemLock = _multiprocessing.SemLock
    sem_unlink = _multiprocessing.sem_unlink
    ns = dict(globals())

    def run(code):
        # Runs the statements; the value of the last one if it is an expression.
        tree = ast.parse(code)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, "<parent>", "exec"), ns)
        if last is not None:
            return eval(compile(ast.Expression(last.value), "<parent>", "eval"), ns)

    for line in sys.stdin:
        code = json.loads(line)
        try:
            answer = {"value": run(code)}
        except BaseException as e:
            answer = {"error": [type(e).__name__, str(e)]}
        print(json.dumps(answer), flush=True)
    """
)

#: The parent: `python PARENT CHILD_COMMAND_JSON PREFIX` prints one JSON report.
PARENT = textwrap.dedent(
    r"""
    import json, os, select, subprocess, sys, time
    import _multiprocessing
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
        report["child_opens"] = remote(f"L = SemLock._rebuild(0, 1, 1, {names['lock']!r}); [L.kind, L.maxvalue, L.name == {names['lock']!r}, L._get_value()]")
        report["child_nonblocking_while_held"] = remote("L.acquire(False)")
        report["child_timed_while_held"] = remote("t0 = time.monotonic(); r = L.acquire(True, 0.3); [r, time.monotonic() - t0]")
        report["parent_releases"] = lock.release()
        report["child_after_release"] = remote("t0 = time.monotonic(); r = L.acquire(True, 10); [r, time.monotonic() - t0, L._count(), L._is_mine()]")
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
        report["child_sem"] = remote(f"S = SemLock._rebuild(0, 1, {SemLock.SEM_VALUE_MAX}, {names['sem']!r}); [S._get_value(), S.acquire(), S.acquire(False), S._get_value()]")
        report["parent_sem"] = [sem._get_value(), sem.acquire(False), sem.acquire(False), sem._is_zero()]
        report["child_sem_empty"] = remote("t0 = time.monotonic(); [S.acquire(True, 0.2), time.monotonic() - t0 >= 0.19, S._is_zero()]")
        report["child_sem_release"] = remote("[S.release(), S.release(), S.release()]")
        report["parent_sem_after"] = [sem._get_value(), sem._count()]

        # An RLock held by the child: not ours to release, and excluded here.
        report["child_rlock"] = remote(f"R = SemLock(0, 1, 1, {names['rlock']!r}, False); [R.acquire(), R.acquire(), R._count()]")
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

        report["child_creates"] = remote(f"C = SemLock(1, 0, 1, {names['ours_to_unlink']!r}, False); C.name == {names['ours_to_unlink']!r}")
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
    """
)

NOT_FOUND = {"error": ["FileNotFoundError", "[Errno 2] No such file or directory"]}


@pytest.fixture
def scripts(tmp_path):
    (tmp_path / "child.py").write_text(CHILD)
    (tmp_path / "parent.py").write_text(PARENT)
    return tmp_path


def child_command(version, ours, child_path):
    python = interpreter(version)
    if ours:
        # PYTHONPATH (inherited from the parent, see run_python) holds the package.
        return [python, "-m", "multiprocessing_rs", "run", str(child_path)]
    # -E ignores PYTHONPATH, and with it the override (and the package): the stock module.
    return [python, "-E", str(child_path)]


def run_pair(scripts, parent_version, parent_ours, child_version):
    command = child_command(child_version, not parent_ours, scripts / "child.py")
    prefix = f"{SEM_PREFIX}i{parent_version.replace('.', '')}{child_version.replace('.', '')}-"
    return run_json(
        parent_version, [str(scripts / "parent.py"), json.dumps(command), prefix], ours=parent_ours, timeout=90
    )


def check_report(report, parent_ours, parent_version, child_version):
    v = lambda s: [int(p) for p in s.split(".")]  # noqa: E731
    # Each side really ran the module it was meant to.
    assert report["parent_ours"] is parent_ours
    assert report["child_ours"] == {"value": not parent_ours}
    assert report["parent_version"] == v(parent_version)
    assert report["child_version"] == {"value": v(child_version)}

    # Held here: the child is excluded, for a non-blocking try and for a whole timed wait.
    assert report["parent_acquires"] is True
    assert report["child_opens"] == {"value": [1, 1, True, 0]}
    assert report["child_nonblocking_while_held"] == {"value": False}
    acquired, waited = report["child_timed_while_held"]["value"]
    assert acquired is False and 0.29 <= waited < 5, report["child_timed_while_held"]
    # Released here: the child gets it at once.
    assert report["parent_releases"] is None
    acquired, waited, count, mine = report["child_after_release"]["value"]
    assert [acquired, count, mine] == [True, 1, True] and waited < 5
    # Held there: this side is excluded.
    assert report["parent_nonblocking_while_child_holds"] == {"value": False}
    acquired, waited = report["parent_timed_while_child_holds"]["value"]
    assert acquired is False and 0.29 <= waited < 5
    assert report["child_releases"] == {"value": None}
    assert report["parent_after_child_release"] == {"value": [True, 1]}
    assert report["child_sees_released"] == {"value": [1, False]}

    # Counting semaphore: one kernel value.
    assert report["child_sem"] == {"value": [3, True, True, 1]}
    assert report["parent_sem"] == [1, True, False, True]
    assert report["child_sem_empty"] == {"value": [False, True, True]}
    assert report["child_sem_release"] == {"value": [None, None, None]}
    assert report["parent_sem_after"] == [3, 1]

    # The child's RLock excludes this side, which cannot release it either.
    assert report["child_rlock"] == {"value": [True, True, 2]}
    assert report["parent_rlock_while_child_holds"] == [
        False,
        {"error": ["AssertionError", "attempt to release recursive lock not owned by thread"]},
    ]
    assert report["child_rlock_release"] == {"value": [None, None, 0]}
    assert report["parent_rlock_after"] == [True, True, None]

    # Each module's sem_unlink removes the other's names; an open semaphore survives it.
    assert report["child_unlinks_parents_name"] == {"value": None}
    assert report["parent_opens_unlinked"] == NOT_FOUND
    assert report["child_opens_unlinked"] == NOT_FOUND
    assert report["still_usable_after_unlink"] == [True, None]
    assert report["child_creates"] == {"value": True}
    assert report["parent_opens_childs"] == [0, False]
    assert report["child_posts"] == {"value": None}
    assert report["parent_takes_childs"] == [1, True, 0]
    assert report["parent_unlinks_childs_name"] == {"value": None}
    assert report["child_opens_unlinked_own"] == NOT_FOUND
    assert report["parent_opens_unlinked_childs"] == NOT_FOUND
    assert report["parent_unlinks_again"] == NOT_FOUND
    assert report["child_exit"] == 0


@pytest.mark.parametrize("parent_ours", [True, False], ids=["ours-parent-stock-child", "stock-parent-ours-child"])
def test_same_version(scripts, version, parent_ours):
    report = run_pair(scripts, version, parent_ours, version)
    check_report(report, parent_ours, version, version)


@pytest.mark.parametrize(
    "parent_version, child_version, parent_ours",
    [("3.11", "3.13", True), ("3.13", "3.11", True), ("3.11", "3.13", False), ("3.13", "3.11", False)],
)
def test_across_versions(scripts, parent_version, child_version, parent_ours):
    """Named semaphores do not depend on the interpreter: 3.11 and 3.13 share them too."""
    report = run_pair(scripts, parent_version, parent_ours, child_version)
    check_report(report, parent_ours, parent_version, child_version)


def test_the_versions_required_are_present():
    for required in ("3.11", "3.13"):
        assert os.path.exists(interpreter(required))
    assert PKG_DIR.is_dir(), "run `make build` first: the package for the other interpreters is missing"
    assert set(INTERPRETERS) >= {"3.11", "3.13"}
