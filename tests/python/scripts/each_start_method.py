"""Shared by the scripts that check what a child process sees."""

import multiprocessing


def _put(queue, report):
    queue.put(report())


def in_a_child_of_each(methods, report):
    """``{method: report()}``, each ``report()`` run in a child started with that method (one
    child at a time). ``report`` must be picklable: a module-level function."""
    results = {}
    for method in methods:
        ctx = multiprocessing.get_context(method)
        queue = ctx.Queue()
        process = ctx.Process(target=_put, args=(queue, report))
        process.start()
        results[method] = queue.get(timeout=60)
        process.join()
    return results
