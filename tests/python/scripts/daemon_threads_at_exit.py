"""A program that exits while daemon threads wait in `Connection.poll` and `Lock.acquire` with
short timeouts, as a pool's or a server's helper threads do. Each wait returns every 50 ms
(without the GIL), so one of them returns while the interpreter is finalizing: before 3.14,
CPython then ends the thread with pthread_exit, which unwinds through the native frames of the
call. The program must exit with status 0 and say it got there, as on stock."""

import threading
import time
from multiprocessing import Lock, Pipe


def main():
    _, b = Pipe()
    lock = Lock()
    lock.acquire()

    def poller():
        while True:
            b.poll(0.05)

    def waiter():
        while True:
            lock.acquire(True, 0.05)

    for target in (poller, waiter):
        threading.Thread(target=target, daemon=True).start()
    time.sleep(0.2)
    print("main exits", flush=True)


if __name__ == "__main__":
    main()
