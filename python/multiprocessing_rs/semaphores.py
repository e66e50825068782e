"""``python -m multiprocessing_rs semaphores [--clean] [--json]``: this user's ``/mp-*``
semaphores, which live processes have them open, and removing the ones nobody has.

A named semaphore is a file (``/dev/shm/sem.mp-…`` for a POSIX one, ``sem.mp-…`` in the private
directory for a file-backed one) that every process using it maps into memory, so the processes
that have it open are those whose ``/proc/PID/maps`` shows that file (matched by device and
inode, and by path). One that no live process maps was leaked: its creator died before
unlinking it (a crash, a ``SIGKILL``, or a resource tracker that never ran). ``--clean`` removes
those, but only once they are a few seconds old, since a semaphore being created or opened is
not mapped yet.

From Python: :func:`list_semaphores` and :func:`clean_semaphores`.

Exit status: 0 when no leaked semaphore is left (after ``--clean``: all removed), 1 when some
are, 2 on a usage error.
"""

import argparse
import dataclasses
import json
import os
import stat
import sys
import time

#: Unused semaphores younger than this (seconds) are neither called leaked nor removed.
MIN_AGE = 5.0

#: Where POSIX named semaphores live on Linux.
POSIX_DIRECTORY = "/dev/shm"

#: multiprocessing's semaphore names begin ``/mp-``; their files ``sem.mp-``.
FILE_PREFIX = "sem.mp-"


@dataclasses.dataclass
class Semaphore:
    """One named semaphore of this user."""

    name: str
    backend: str
    path: str
    age: float
    pids: list
    removed: bool = False

    @property
    def in_use(self):
        return bool(self.pids)

    def leaked(self, min_age=MIN_AGE):
        """Unused, and old enough that it is not just being created or opened."""
        return not self.pids and self.age >= min_age and not self.removed


def private_directory():
    """The private directory of file-backed semaphores, or ``None`` where there is none."""
    try:
        from . import _native
    except ImportError:
        return None
    get = getattr(_native, "private_directory", None)
    return get() if get else None


def directories():
    """``{backend: directory}`` where this user's semaphores can be."""
    found = {"posix": POSIX_DIRECTORY}
    private = private_directory()
    if private:
        found["file"] = private
    return found


def _mapped_files():
    """``{pid: (set of (major, minor, inode), set of paths)}`` of the files each live process
    maps, from ``/proc/PID/maps``; processes whose maps cannot be read are left out."""
    mapped = {}
    try:
        pids = [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return mapped
    for pid in pids:
        keys, paths = set(), set()
        try:
            with open(f"/proc/{pid}/maps") as maps:
                for line in maps:
                    fields = line.split(maxsplit=5)
                    if len(fields) < 6 or fields[4] == "0":
                        continue
                    major, minor = fields[3].split(":")
                    keys.add((int(major, 16), int(minor, 16), int(fields[4])))
                    paths.add(fields[5].rstrip("\n"))
        except (OSError, ValueError):
            continue
        mapped[pid] = (keys, paths)
    return mapped


def list_semaphores():
    """This user's ``/mp-*`` semaphores, POSIX and file-backed, each with its age (seconds since
    it was named) and the live processes that have it open."""
    uid = os.geteuid()
    now = time.time()
    mapped = _mapped_files()
    found = []
    for backend, directory in directories().items():
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for file_name in names:
            if not file_name.startswith(FILE_PREFIX):
                continue
            path = os.path.join(directory, file_name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if st.st_uid != uid or not stat.S_ISREG(st.st_mode):
                continue
            key = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
            pids = sorted(pid for pid, (keys, paths) in mapped.items() if key in keys or path in paths)
            found.append(
                Semaphore(
                    name="/" + file_name[len("sem.") :],
                    backend=backend,
                    path=path,
                    age=max(0.0, now - st.st_ctime),
                    pids=pids,
                )
            )
    return found


def clean_semaphores(min_age=MIN_AGE):
    """Removes the semaphores no live process has open that are at least ``min_age`` seconds
    old. Returns every semaphore listed, those removed with ``removed`` set."""
    listed = list_semaphores()
    for sem in listed:
        if sem.leaked(min_age):
            try:
                os.unlink(sem.path)
                sem.removed = True
            except FileNotFoundError:
                sem.removed = True  # someone else removed it meanwhile: gone all the same
            except OSError:
                pass
    return listed


def _age(seconds):
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def _print_table(listed, min_age, cleaning):
    dirs = ", ".join(f"{backend}: {directory}" for backend, directory in directories().items())
    print(f"semaphores of uid {os.geteuid()} ({dirs})")
    if not listed:
        print("none")
        return
    print(f"{'name':<24} {'backend':<7} {'age':>6}  open in")
    for sem in listed:
        if sem.pids:
            state = "pid " + ", ".join(map(str, sem.pids))
        elif sem.removed:
            state = "no process: removed"
        elif sem.age < min_age:
            state = "no process yet (too new to call leaked)"
        else:
            state = "no process: leaked" + ("; could not remove" if cleaning else "")
        print(f"{sem.name:<24} {sem.backend:<7} {_age(sem.age):>6}  {state}")
    in_use = sum(sem.in_use for sem in listed)
    removed = sum(sem.removed for sem in listed)
    leaked = sum(sem.leaked(min_age) for sem in listed)
    print(f"{len(listed)} semaphores: {in_use} in use, {removed} removed, {leaked} leaked left")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m multiprocessing_rs semaphores",
        description="List this user's /mp-* semaphores (POSIX and file-backed) and who has them open.",
        epilog="Exit status: 0 when no leaked semaphore is left, 1 when some are, 2 on a usage error.",
    )
    parser.add_argument("--clean", action="store_true", help="remove those no live process has open")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--min-age",
        type=float,
        default=MIN_AGE,
        metavar="SECONDS",
        help=f"leave unused ones younger than this alone (default {MIN_AGE:g})",
    )
    args = parser.parse_args(argv)
    listed = clean_semaphores(args.min_age) if args.clean else list_semaphores()
    leaked = sum(sem.leaked(args.min_age) for sem in listed)
    if args.json:
        document = {
            "directories": directories(),
            "semaphores": [dict(dataclasses.asdict(sem), in_use=sem.in_use) for sem in listed],
            "leaked": leaked,
        }
        json.dump(document, sys.stdout, indent=2)
        print()
    else:
        _print_table(listed, args.min_age, args.clean)
    return 1 if leaked else 0
