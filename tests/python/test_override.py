"""The override puts our `_multiprocessing` under a program and every child it starts."""

import json
import textwrap

import pytest

from conftest import run_json, run_python

REPORT_CHILDREN = textwrap.dedent(
    """
    import json, multiprocessing, sys

    def which():
        import _multiprocessing
        return bool(getattr(_multiprocessing, "__multiprocessing_rs__", False))

    def child(q):
        q.put(which())

    if __name__ == "__main__":
        result = {"parent": which()}
        for method in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context(method)
            q = ctx.Queue()
            p = ctx.Process(target=child, args=(q,))
            p.start()
            result[method] = q.get(timeout=60)
            p.join()
        print(json.dumps(result))
    """
)


@pytest.mark.parametrize("ours", [False, True], ids=["stock", "ours"])
def test_run_reaches_every_start_method(tmp_path, version, ours):
    script = tmp_path / "report.py"
    script.write_text(REPORT_CHILDREN)
    result = run_json(version, [str(script)], ours=ours)
    assert result == {"parent": ours, "fork": ours, "spawn": ours, "forkserver": ours}


def test_run_dash_m_passes_arguments(tmp_path):
    (tmp_path / "echo_args.py").write_text(
        "import json, sys, _multiprocessing\n"
        "print(json.dumps([sys.argv[1:], getattr(_multiprocessing, '__multiprocessing_rs__', False)]))\n"
    )
    proc = run_python("3.11", ["-m", "echo_args", "a", "--b", "-m"], ours=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [["a", "--b", "-m"], True]


def test_run_propagates_the_exit_status(tmp_path):
    script = tmp_path / "fail.py"
    script.write_text("import sys; sys.exit(7)\n")
    assert run_python("3.11", [str(script)], ours=True).returncode == 7


INSTALL_LATE = textwrap.dedent(
    """
    import json, multiprocessing, multiprocessing.synchronize, multiprocessing.resource_tracker
    import _multiprocessing as stock

    def which(q):
        import _multiprocessing
        q.put(bool(getattr(_multiprocessing, "__multiprocessing_rs__", False)))

    if __name__ == "__main__":
        old_lock = multiprocessing.get_context("spawn").Lock()   # a stock lock, made before install()
        import multiprocessing_rs
        ours = multiprocessing_rs.install()
        new_lock = multiprocessing.get_context("spawn").Lock()
        # The stock and the Rust lock share nothing but the kernel: both still work.
        with old_lock, new_lock:
            pass
        ctx = multiprocessing.get_context("spawn")
        q = ctx.Queue()
        p = ctx.Process(target=which, args=(q,))
        p.start()
        child = q.get(timeout=60)
        p.join()
        cleanup = multiprocessing.resource_tracker._CLEANUP_FUNCS.get("semaphore")
        print(json.dumps({
            "installed": bool(getattr(ours, "__multiprocessing_rs__", False)),
            "stock_before": not getattr(stock, "__multiprocessing_rs__", False),
            "synchronize": multiprocessing.synchronize._multiprocessing is ours,
            "new_lock_type": type(new_lock._semlock) is ours.SemLock,
            "old_lock_type": type(old_lock._semlock) is stock.SemLock,
            "tracker_cleanup": cleanup is ours.sem_unlink,
            "spawn_child": child,
        }))
    """
)


def test_install_after_multiprocessing_was_imported(tmp_path, version):
    script = tmp_path / "late.py"
    script.write_text(INSTALL_LATE)
    result = run_json(version, [str(script)], ours=False)
    assert result == {
        "installed": True,
        "stock_before": True,
        "synchronize": True,
        "new_lock_type": True,
        "old_lock_type": True,
        "tracker_cleanup": True,
        "spawn_child": True,
    }


def test_a_child_started_with_dash_E_gets_the_stock_module(tmp_path):
    script = tmp_path / "dash_e.py"
    script.write_text(
        "import json, subprocess, sys\n"
        "code = 'import _multiprocessing; print(getattr(_multiprocessing, \"__multiprocessing_rs__\", False))'\n"
        "out = subprocess.run([sys.executable, '-E', '-c', code], capture_output=True, text=True).stdout\n"
        "import _multiprocessing\n"
        "print(json.dumps([getattr(_multiprocessing, '__multiprocessing_rs__', False), out.strip()]))\n"
    )
    assert run_json("3.11", [str(script)], ours=True) == [True, "False"]
