"""CPython's own multiprocessing test suite on our ``_multiprocessing``, beside stock.

For each interpreter and start method it runs ``test/_test_multiprocessing.py`` twice, in fresh
interpreters: once under the override (``python -m multiprocessing_rs run``, so the parent and
every fork, spawn and forkserver child import ours) and once on the stock module, and prints
both results side by side. A run passes when ours has no failure or error, ran the same tests
as stock, and skipped none that stock ran.

    python tests/cpython/run.py [--versions 3.11,3.13] [--all-methods] [--jobs N]
                                [--hosts normal,ro-shm,no-shm] [--no-stock] [-k PATTERN]...

Default selection (what ``make test`` runs): CPython 3.11 and 3.13 (the two handshake dialects)
with fork, spawn and forkserver; 3.10 and 3.12 with fork. 3.11 and 3.13 must be installed;
3.10 and 3.12 run when present.

Hosts: besides this machine as it is (``normal``), 3.11 and 3.13 with every start method also
run on simulated hosts where stock multiprocessing cannot work (``tests/hostshape.py``, root
only): ``ro-shm`` (read-only ``/dev/shm``) and ``no-shm`` (no ``/dev/shm``). There ours must pass
on its own, with file-backed semaphores: no failure, the same tests as stock ran on the normal
host, none skipped that stock ran there. Stock's run on the same simulated host is printed
beside it (it does not get far: that is the problem being solved). The suite's own helpers
start interpreters with ``-E``, ``-I`` or ``-S``, which ``PYTHONPATH`` does not reach; since no
stock interpreter can work on such a host, ours is installed into the interpreter there, in
that run's namespace only (``hostshape.py``'s ``install``). ``--hosts`` picks hosts (given
explicitly, simulated ones apply to every selected version and start method).

Every run gets a private directory of its own for file-backed semaphores
(``MPRS_SEMAPHORE_DIR``): what a run leaves there is reported and removed, as what it leaves
in ``/dev/shm``.

The suite's tests are timing-sensitive, and these machines are small and shared: a test that
fails is run once more on its own, as CPython's own CI does (``regrtest --rerun``). A test that
then passes is reported as flaky, with its first traceback, and does not fail the run; one that
fails twice does.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
import hostshape  # noqa: E402

from interpreters import find_interpreters  # noqa: E402

DRIVER = HERE / "run_suite.py"
PKG_DIR = Path(os.environ.get("MPRS_PKG_DIR", REPO / "build" / "pkg"))
LOG_DIR = REPO / "build" / "cpython"
METHODS = ("fork", "spawn", "forkserver")
#: The versions run with every start method by default.
ALL_METHODS_VERSIONS = ("3.11", "3.13")
REQUIRED_VERSIONS = ("3.11", "3.13")
#: Hosts: this machine as it is, and the simulated ones without a usable /dev/shm.
HOSTS = ("normal", *hostshape.PROBLEM_SHAPES)
#: One run of the suite takes one to two minutes; anything past this is a hang.
RUN_TIMEOUT = 1200
#: The suite's own timeouts, scaled as ``python -m test --timeout`` would (see run_suite.py):
#: ``LONG_TIMEOUT`` 60 s and ``SHORT_TIMEOUT`` 30 s, still far above what any test needs.
SUITE_TIMEOUT = 60


class Run:
    """One run of the suite: an interpreter, a start method, a side (``ours`` or ``stock``), a
    host (``normal``, or a simulated one)."""

    def __init__(self, version, python, method, side, patterns, only=(), host="normal"):
        self.version, self.python, self.method, self.side = version, python, method, side
        self.patterns, self.only, self.host = list(patterns), list(only), host
        on = "" if host == "normal" else f"-{host}"
        tag = f"{version}-{method}-{side}{on}" + ("-rerun" if only else "")
        self.log = LOG_DIR / f"{tag}.log"
        self.interval = [float("inf"), None]
        self.out = LOG_DIR / f"{tag}.json"

    def command(self):
        args = [str(DRIVER), self.method, str(self.out), "--timeout", str(SUITE_TIMEOUT)]
        for pattern in self.patterns:
            args += ["-k", pattern]
        for test_id in self.only:
            args += ["--only", test_id]
        if self.side == "ours":
            return [self.python, "-m", "multiprocessing_rs", "run", *args]
        return [self.python, *args]

    def execute(self):
        """Runs the suite in a scratch directory (its tests write files into the current one)
        and in a session of its own, so whatever it leaves running can be found and stopped.
        Returns the report, or a report of the crash."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in [str(PKG_DIR), env.get("PYTHONPATH")] if p)
        env.pop("MPRS_CPYTHON_START_METHOD", None)
        env.pop("MPRS_SEMAPHORES", None)
        private = tempfile.mkdtemp(prefix=f"mprs-cpython-private-{self.version}-{self.method}-")
        env["MPRS_SEMAPHORE_DIR"] = private
        self.out.unlink(missing_ok=True)
        scratch = tempfile.mkdtemp(prefix=f"mprs-cpython-{self.version}-{self.method}-")
        started = time.monotonic()
        self.interval = [time.time(), None]
        command = self.command()
        if self.host != "normal":
            install = (self.python, PKG_DIR) if self.side == "ours" else None
            command, extra = hostshape.command(self.host, command, install)
            env.update(extra)
        with open(self.log, "w") as log:
            proc = subprocess.Popen(
                command,
                cwd=scratch,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                proc.wait(timeout=RUN_TIMEOUT)
                problem = None
            except subprocess.TimeoutExpired:
                problem = f"no result after {RUN_TIMEOUT} s: killed"
            strays = _stop_session(proc.pid)
        shutil.rmtree(scratch, ignore_errors=True)
        private_left = sorted(os.listdir(private))
        shutil.rmtree(private, ignore_errors=True)
        try:
            report = json.loads(self.out.read_text())
        except (OSError, ValueError):
            report = {"module": None, "tests": {}, "crashed": problem or f"exit status {proc.returncode}, no report"}
        report["private_left"] = private_left
        self.interval[1] = time.time()
        report["wall"] = round(time.monotonic() - started, 1)
        report["strays"] = strays
        # The suite itself sometimes leaves a semaphore behind: remove what this run left,
        # and keep the record (which test it appeared after) for the summary. (On a simulated
        # host the /dev/shm it saw is gone with its namespace, and the private directory too.)
        for path in report.get("semaphores_left", {}):
            try:
                os.unlink(path)
            except OSError:
                pass
        if problem:
            report["crashed"] = problem
        return report


def _stop_session(pgid):
    """Kills what is left of a run's process group; returns how many processes were left."""
    try:
        left = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True).stdout.split()
    except OSError:
        left = []
    if left:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(left)


def default_prefix_semaphores():
    """{file name: creation time} of the semaphores in /dev/shm with multiprocessing's default
    prefix (``/mp-``), which processes outside a run's own prefix create (interpreters the
    suite starts with ``-E``/``-I``, which build their own ``current_process()``); and of
    glibc's ``sem.XXXXXX`` files, which ``sem_open`` makes first and links to the name: a
    process the suite kills between the two steps (stock's or ours, both use glibc) leaves one."""
    found = {}
    try:
        names = os.listdir("/dev/shm")
    except OSError:
        return found
    for name in names:
        default_name = name.startswith("sem.mp-") and name.count("-") == 1 and len(name) == len("sem.mp-") + 8
        if default_name or _glibc_temporary(name):
            try:
                found[name] = os.stat(os.path.join("/dev/shm", name)).st_mtime
            except OSError:
                pass
    return found


def _glibc_temporary(name):
    """Whether ``name`` is glibc's temporary semaphore file: ``sem.`` and six letters or digits."""
    stem = name[len("sem.") :]
    return name.startswith("sem.") and len(stem) == 6 and stem.isascii() and stem.isalnum()


def outcomes(report, *kinds):
    return {test for test, seen in report["tests"].items() if seen["outcome"] in kinds}


def hosts_of(args, version):
    """The hosts ``version`` runs on: every one asked for, the simulated ones by default only
    for the versions run with every start method."""
    if args.hosts:
        return args.hosts.split(",")
    return [h for h in HOSTS if h == "normal" or version in ALL_METHODS_VERSIONS]


def selection(args, interpreters):
    """The (version, python, method) triples to run."""
    missing = [v for v in REQUIRED_VERSIONS if v not in interpreters]
    if missing and not args.versions:
        sys.exit(f"cpython-test: CPython {', '.join(missing)} not found (pyenv); it is required")
    versions = args.versions.split(",") if args.versions else sorted(interpreters)
    triples = []
    for version in versions:
        if version not in interpreters:
            sys.exit(f"cpython-test: CPython {version} not found")
        methods = METHODS if (args.all_methods or version in ALL_METHODS_VERSIONS) else ("fork",)
        triples += [(version, interpreters[version], method) for method in methods]
    return triples


def verdict(ours, stock, rerun):
    """``(problems, flaky)`` for one interpreter and start method: what fails the run, and the
    tests that failed once and then passed on their own."""
    problems = []
    if ours.get("crashed"):
        problems.append(f"ours crashed: {ours['crashed']}")
    if ours.get("module") != "ours":
        problems.append(f"the run under the override imported {ours.get('module')!r} _multiprocessing")
    if ours.get("module_skipped"):
        problems.append(f"ours skipped the whole suite: {ours['module_skipped']}")
    if ours.get("host", "normal") != "normal" and ours.get("backend") != "file":
        problems.append(f"on a simulated host, ours used {ours.get('backend')!r} semaphores, not files")
    failed = outcomes(ours, "failure", "error", "unexpected_success")
    flaky = {t for t in failed if rerun and rerun["tests"].get(t, {}).get("outcome") == "success"}
    problems += [f"FAILED: {test}" for test in sorted(failed - flaky)]
    if stock is not None:
        if stock.get("module") != "stock":
            problems.append(f"the stock run imported {stock.get('module')!r} _multiprocessing")
        if stock.get("crashed"):
            problems.append(f"stock crashed (no skips to compare with): {stock['crashed']}")
        elif set(stock["tests"]) != set(ours["tests"]):
            only_ours = sorted(set(ours["tests"]) - set(stock["tests"]))
            only_stock = sorted(set(stock["tests"]) - set(ours["tests"]))
            problems.append(f"different tests ran: only in ours {only_ours[:5]}, only in stock {only_stock[:5]}")
        for test in sorted(outcomes(ours, "skip") - outcomes(stock, "skip")):
            problems.append(f"skipped in ours, not in stock: {test}: {ours['tests'][test]['detail']}")
    return problems, sorted(flaky)


def describe(report):
    if report is None:
        return "-"
    if report.get("module_skipped"):
        return f"module skipped: {report['module_skipped'][:70]}"
    if not report["tests"]:
        return "no result"
    count = len(report["tests"])
    bad = len(outcomes(report, "failure", "error", "unexpected_success"))
    skips = len(outcomes(report, "skip"))
    return f"{count} tests, {bad} failed, {skips} skipped, {report.get('seconds', 0):.0f} s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", help="comma-separated, e.g. 3.11,3.13 (default: all found)")
    parser.add_argument("--all-methods", action="store_true", help="fork, spawn and forkserver everywhere")
    parser.add_argument("--no-stock", action="store_true", help="skip the stock runs (no skip comparison)")
    parser.add_argument("--hosts", help=f"comma-separated, of {','.join(HOSTS)} (default: all, see above)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MPRS_CPYTHON_JOBS", "3")))
    parser.add_argument("-k", dest="patterns", action="append", default=[], help="only tests matching")
    args = parser.parse_args()

    LOG_DIR.mkdir(parents=True, exist_ok=True)
    triples = selection(args, find_interpreters())
    sides = ("ours",) if args.no_stock else ("ours", "stock")
    unknown = {h for v, _, _ in triples for h in hosts_of(args, v)} - set(HOSTS)
    if unknown:
        sys.exit(f"cpython-test: unknown host(s) {sorted(unknown)}: one of {', '.join(HOSTS)}")
    runs = []
    for v, py, m in triples:
        hosts = hosts_of(args, v)
        for host in hosts:
            runs += [Run(v, py, m, side, args.patterns, host=host) for side in sides]
        if "normal" not in hosts and not args.no_stock:
            runs.append(Run(v, py, m, "stock", args.patterns))  # what the simulated hosts are held to
    if any(r.host != "normal" for r in runs):
        why_not = hostshape.available()
        if why_not:
            sys.exit(f"cpython-test: {why_not}; run with --hosts normal to leave the simulated hosts out")
    print(
        f"cpython-test: {len(runs)} runs of CPython's multiprocessing suite, {args.jobs} at a time "
        f"(logs in {LOG_DIR.relative_to(REPO)})",
        flush=True,
    )
    started = time.monotonic()
    reports = {}
    default_before = set(default_prefix_semaphores())

    def execute(run):
        report = run.execute()
        report["host"] = run.host
        on = "" if run.host == "normal" else f" on {run.host}"
        print(f"  {run.version} {run.method:<10} {run.side:<5}{on}: {describe(report)}", flush=True)
        return report

    # Longest first (spawn and forkserver start an interpreter per process), ours before stock.
    order = sorted(runs, key=lambda r: (r.method == "fork", r.side != "ours"))
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for run, report in zip(order, pool.map(execute, order)):
            reports[(run.version, run.method, run.side, run.host)] = report

    # Failures get one more chance each, alone, on the side and host where they failed.
    reruns = {}
    for (version, method, side, host), report in reports.items():
        failed = sorted(outcomes(report, "failure", "error", "unexpected_success"))
        if failed and side == "ours":
            python = next(py for v, py, m in triples if v == version)
            on = "" if host == "normal" else f" on {host}"
            print(f"cpython-test: rerunning {len(failed)} failed test(s) of {version} {method}{on} alone", flush=True)
            reruns[(version, method, host)] = Run(version, python, method, side, [], failed, host=host).execute()

    print()
    print("| CPython | start method | host | ours | stock (same host) | verdict |")
    print("|---|---|---|---|---|---|")
    all_ok = True
    details = []
    for version, _, method in triples:
        for host in hosts_of(args, version):
            ours = reports[(version, method, "ours", host)]
            stock_here = reports.get((version, method, "stock", host))
            # Every host is held to what stock runs and skips on this machine as it is.
            stock = reports.get((version, method, "stock", "normal"))
            problems, flaky = verdict(ours, stock, reruns.get((version, method, host)))
            all_ok &= not problems
            where = f"{version} {method}" + ("" if host == "normal" else f" {host}")
            print(
                f"| {version} | {method} | {host} | {describe(ours)} | {describe(stock_here)} "
                f"| {'FAILED' if problems else 'ok'} |"
            )
            for problem in problems:
                details.append(f"{where}: {problem}")
                if problem.startswith("FAILED: "):
                    details.append(ours["tests"][problem[len("FAILED: ") :]]["detail"] or "")
            for test in flaky:
                details.append(f"{where}: flaky (failed, then passed on its own): {test}")
                details.append(ours["tests"][test]["detail"] or "")
    for line in details:
        print(line)
    for (version, method, side, host), report in sorted(reports.items()):
        on = "" if host == "normal" else f" {host}"
        left = report.get("semaphores_left", {})
        for path, test in left.items():
            print(f"{version} {method} {side}{on}: left {path} (appeared after {test}); removed")
        for name in report.get("private_left", []):
            if not any(path.endswith("/" + name) for path in left):
                print(f"{version} {method} {side}{on}: left {name} in its private directory; removed")
    # Leftovers with the default prefix cannot name their run: say which runs were going on when
    # each appeared, and remove them (nothing else on a test machine makes them meanwhile).
    for name, made in sorted(default_prefix_semaphores().items()):
        if name in default_before:
            continue
        active = [f"{r.version} {r.method} {r.side}" for r in runs if r.interval[0] <= made <= (r.interval[1] or made)]
        stamp = time.strftime("%H:%M:%S", time.localtime(made))
        print(f"suite: left /dev/shm/{name} ({stamp}, while running: {', '.join(active) or 'none'}); removed")
        try:
            os.unlink(os.path.join("/dev/shm", name))
        except OSError:
            pass
    strays = sum(r.get("strays", 0) for r in reports.values())
    if strays:
        print(f"cpython-test: {strays} process(es) were still running after their suite ended (killed)")
    print(f"cpython-test: {'ok' if all_ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
