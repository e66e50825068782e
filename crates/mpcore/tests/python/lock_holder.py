"""Creates a multiprocessing.Lock in a spawn context (a named POSIX semaphore) and obeys
commands from stdin, one per line, answering each on stdout:

    acquire -> ok | release -> ok | try -> True/False (acquire(False), released again if True)

It prints `name /mp-xxxxxxxx` first; end of input ends it (the resource tracker unlinks the
semaphore)."""

import multiprocessing
import sys

if __name__ == "__main__":
    lock = multiprocessing.get_context("spawn").Lock()
    print("name", lock._semlock.name, flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "acquire":
            lock.acquire()
            print("ok", flush=True)
        elif command == "release":
            lock.release()
            print("ok", flush=True)
        elif command == "try":
            got = lock.acquire(False)
            if got:
                lock.release()
            print(got, flush=True)
