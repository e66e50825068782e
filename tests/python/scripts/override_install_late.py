"""`multiprocessing_rs.install()` called after `multiprocessing` was imported and a stock lock
made: reports what it replaced and what it left alone (for test_override.py)."""

import _multiprocessing as stock
import json
import multiprocessing
import multiprocessing.resource_tracker
import multiprocessing.synchronize


def which(q):
    import _multiprocessing

    q.put(bool(getattr(_multiprocessing, "__multiprocessing_rs__", False)))


if __name__ == "__main__":
    old_lock = multiprocessing.get_context("spawn").Lock()  # a stock lock, made before install()
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
    print(
        json.dumps(
            {
                "installed": bool(getattr(ours, "__multiprocessing_rs__", False)),
                "stock_before": not getattr(stock, "__multiprocessing_rs__", False),
                "synchronize": multiprocessing.synchronize._multiprocessing is ours,
                "new_lock_type": type(new_lock._semlock) is ours.SemLock,
                "old_lock_type": type(old_lock._semlock) is stock.SemLock,
                "tracker_cleanup": cleanup is ours.sem_unlink,
                "spawn_child": child,
            }
        )
    )
