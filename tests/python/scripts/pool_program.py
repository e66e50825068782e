"""An ordinary multiprocessing program: a `Pool` with each start method, a `Lock`, a `Queue`.
Prints, as JSON, its results and whether the parent and the workers imported the Rust
`_multiprocessing` (``__multiprocessing_rs__``) or another one (its ``__file__``)."""

import json
import multiprocessing


def square(x):
    return x * x


def which_module(_):
    import _multiprocessing

    return [bool(getattr(_multiprocessing, "__multiprocessing_rs__", False)), getattr(_multiprocessing, "__file__", "")]


def main():
    report = {}
    for method in ("fork", "spawn", "forkserver"):
        ctx = multiprocessing.get_context(method)
        with ctx.Pool(2) as pool:
            report[method] = {
                "squares": pool.map(square, range(8)),
                "worker modules": sorted({tuple(m) for m in pool.map(which_module, range(4))}),
            }
        queue = ctx.Queue()
        lock = ctx.Lock()
        with lock:
            queue.put(method)
        report[method]["queue"] = queue.get(timeout=30)
    report["parent module"] = which_module(None)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
