"""The ``semaphores`` tool against processes that hold, leak and just made semaphores.

Run by ``test_semaphores_tool.py`` in a mount namespace with a ``/dev/shm`` of its own and with
``MPRS_SEMAPHORE_DIR`` set to a fresh directory, so the tool sees only what this script makes.
For each backend (``posix``, ``file``) it starts one process that creates a named semaphore and
keeps it open, and one that creates one and is ``SIGKILL``ed (its semaphore is leaked); then it
runs the tool (list, ``--clean``), makes a semaphore that nobody has open but that is brand new,
runs ``--clean`` with the default minimum age, and reports everything as one JSON document.
"""

import json
import os
import signal
import subprocess
import sys
import time

from multiprocessing_rs import semaphores

CREATOR = """
import os, sys, time
from multiprocessing_rs import _native
lock = _native.SemLock(1, 1, 1, sys.argv[1], False)
print(os.getpid(), flush=True)
time.sleep(120)
"""


def start_creator(name, backend):
    env = dict(os.environ, MPRS_SEMAPHORES=backend)
    proc = subprocess.Popen([sys.executable, "-c", CREATOR, name], env=env, stdout=subprocess.PIPE, text=True)
    assert int(proc.stdout.readline()) == proc.pid
    return proc


def tool(*args):
    proc = subprocess.run(
        [sys.executable, "-m", "multiprocessing_rs", "semaphores", "--json", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return {"status": proc.returncode, "report": json.loads(proc.stdout), "stderr": proc.stderr}


def main():
    names, holders = {}, {}
    for backend in ("posix", "file"):
        names[f"held-{backend}"] = f"/mp-held-{backend}"
        names[f"killed-{backend}"] = f"/mp-killed-{backend}"
        holders[backend] = start_creator(names[f"held-{backend}"], backend)
        victim = start_creator(names[f"killed-{backend}"], backend)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    time.sleep(0.6)
    listed = tool("--min-age", "0.5")
    cleaned = tool("--clean", "--min-age", "0.5")

    # One nobody has open any more, made just now: too new to call leaked.
    from multiprocessing_rs import _native

    names["young"] = "/mp-young"
    young = _native.SemLock(1, 1, 1, names["young"], False)
    del young
    young_clean = tool("--clean")
    after = [sem.name for sem in semaphores.list_semaphores()]

    for proc in holders.values():
        proc.kill()
        proc.wait()
    for name in (names["held-posix"], names["held-file"], names["young"]):
        _native.sem_unlink(name)
    report = {
        "names": names,
        "holder_pids": {backend: proc.pid for backend, proc in holders.items()},
        "listed": listed,
        "cleaned": cleaned,
        "young_clean": young_clean,
        "after_python_list": after,
        "left": [sem.name for sem in semaphores.list_semaphores()],
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
