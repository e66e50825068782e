"""Command line: ``python -m multiprocessing_rs {run,demo,bench,semaphores} ...``."""

import argparse
import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"] and argv[1:2] not in (["-h"], ["--help"]):
        # Everything after `run` belongs to the program, `-m` included: argparse would take it.
        from ._run import run_program

        if not argv[1:] or argv[1:] == ["-m"]:
            sys.exit("usage: python -m multiprocessing_rs run [-m MODULE | SCRIPT] [ARGS...]")
        return run_program(argv[1:])
    if argv[:1] == ["semaphores"]:
        from .semaphores import main as semaphores_main

        return semaphores_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m multiprocessing_rs",
        description="CPython's _multiprocessing rebuilt in Rust.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="run a script (or -m MODULE) with the Rust _multiprocessing in every process",
        usage="python -m multiprocessing_rs run [-m MODULE | SCRIPT] [ARGS...]",
    )
    run.add_argument("target", nargs="*", metavar="ARGS")
    sub.add_parser("demo", help="a real workload on the Rust module, across start methods")
    bench = sub.add_parser("bench", help="stock vs Rust, side by side, in one run")
    bench.add_argument("--json", action="store_true", help="print JSON instead of a table")
    bench.add_argument("--quick", action="store_true", help="fewer rounds (for smoke tests)")
    bench.add_argument("--only", metavar="TEXT", help="only the rows whose name contains TEXT")
    sub.add_parser(
        "semaphores",
        help="list this user's /mp-* semaphores and who has them open; --clean removes leaked ones",
        add_help=False,
    )
    args = parser.parse_args(argv)

    if args.command == "demo":
        from .demo import main as demo_main

        return demo_main()
    if args.command == "bench":
        from .bench import main as bench_main

        return bench_main(json_output=args.json, quick=args.quick, only=args.only)
    return 2


if __name__ == "__main__":
    sys.exit(main())
