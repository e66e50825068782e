"""Daemon threads blocked in a `Connection` receive and a `SemLock` acquire, woken while the
interpreter finalizes: CPython 3.10-3.13 end such a thread with `pthread_exit` when it takes the
GIL back, and glibc's forced unwind then walks through the extension's frames (`Python::detach`).

The blocking calls are released by a finalizer that only the interpreter's last garbage
collection, after finalization has begun, runs. It writes one JSON document to stdout: whether
`_multiprocessing` was ours, how many threads it released, and how many got the GIL back and
returned (none should: they are ended).
"""

import gc
import json
import multiprocessing
import os
import threading
import time

PER_KIND = 4


class ReleaseAtFinalization:
    """Held only by a reference cycle, so that only the collection inside `Py_FinalizeEx` frees
    it. Keeps what `__del__` needs, as module globals are being torn down by then."""

    def __init__(self, ours, write_fds, semaphores, returned):
        self.ours = ours
        self.write_fds = write_fds
        self.semaphores = semaphores
        self.returned = returned
        self.sleep = time.sleep
        self.write = os.write
        self.close = os.close
        self.dumps = json.dumps
        self.cycle = self

    def __del__(self):
        for fd in self.write_fds:
            self.close(fd)
        for semaphore in self.semaphores:
            semaphore.release()
        # Time for the woken threads to reach the GIL (and be ended there).
        self.sleep(0.2)
        report = {
            "ours": self.ours,
            "released": len(self.write_fds) + len(self.semaphores),
            "returned": len(self.returned),
        }
        self.write(1, self.dumps(report).encode() + b"\n")


def block(call, returned):
    call()
    returned.append(True)


def ours():
    import _multiprocessing

    return bool(getattr(_multiprocessing, "__multiprocessing_rs__", False))


def main():
    ctx = multiprocessing.get_context("fork")  # unlinks each semaphore at once: nothing to clean up
    returned = []
    write_fds, semaphores = [], []
    for _ in range(PER_KIND):
        reader, writer = ctx.Pipe(duplex=False)
        # A bare descriptor: a Connection in the garbage could be closed by its own finalizer
        # first.
        write_fds.append(os.dup(writer.fileno()))
        writer.close()
        semaphore = ctx.Semaphore(0)
        semaphores.append(semaphore)
        for call in (reader.recv_bytes, semaphore.acquire):
            threading.Thread(target=block, args=(call, returned), daemon=True).start()
    time.sleep(0.1)  # every thread inside its blocking call
    gc.collect()
    gc.set_threshold(0)  # no automatic collection: the finalizer runs at exit, not before
    ReleaseAtFinalization(ours(), write_fds, semaphores, returned)


if __name__ == "__main__":
    main()
