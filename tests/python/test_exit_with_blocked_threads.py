"""Threads blocked in our module when the interpreter exits end as cleanly as on stock.

CPython 3.10-3.13 end a daemon thread that takes the GIL back during finalization with
`pthread_exit`, which glibc carries out as a forced unwind with libgcc_s.so.1, through the
extension's frames (`Python::detach` around a blocking receive or acquire). An extension that
unwinds with a copy of its own (zig bundles LLVM's libunwind unless told otherwise: see the
Makefile's `wheel`) hands libgcc's unwind context to that copy and dies of SIGSEGV at exit.
"""

from conftest import run_json, run_json_both, script

#: Manager cycles: a server crashed in about one cycle in four with the bundled unwinder, so 30
#: cycles all pass by chance about once in 5,000 runs.
CYCLES = 30


def test_threads_woken_during_exit_end_as_on_stock(version):
    stock, ours = run_json_both(version, [script("exit_with_blocked_threads.py")])
    assert stock == {"ours": False, "released": 8, "returned": 0}
    assert ours == {**stock, "ours": True}


def test_manager_servers_started_with_spawn_exit_cleanly():
    report = run_json("3.11", [script("manager_cycles.py"), str(CYCLES)], ours=True)
    assert report == {"servers_ours": [True], "results": [2], "failed_exits": []}
