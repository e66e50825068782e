"""A sender SIGKILLed in the middle of a large message: what the receiver gets. Prints, as JSON,
for each case the receiver's result (or exception) and how long it took.

The child sends 16 MiB; the pipe holds 64 KiB, so it blocks part-way through the payload. The
parent waits until the header and the first bytes are there (and a little longer, for the
child to be blocked in its write), stops it (SIGSTOP: it can send no more), and either kills
it and then receives, or starts receiving (which takes what is there and waits) and kills it
meanwhile. The parent closed its copy of the sending end, so the kill leaves no writer: the
receiver must see end of file inside the message, never wait forever.
"""

import json
import multiprocessing
import os
import signal
import sys
import threading
import time

SIZE = 16 << 20


def send_big(conn):
    conn.send_bytes(b"x" * SIZE)


def send_nothing(conn):
    time.sleep(600)


def describe(exc):
    return {"type": f"{type(exc).__module__}.{type(exc).__qualname__}", "str": str(exc)}


def receive(reader, how):
    if how == "recv_bytes":
        return len(reader.recv_bytes())
    if how == "recv_bytes_into":
        return reader.recv_bytes_into(bytearray(SIZE))
    return len(reader.recv())


def case(duplex, target, how, receive_while_killed):
    ctx = multiprocessing.get_context("fork")
    reader, writer = ctx.Pipe(duplex)
    child = ctx.Process(target=target, args=(writer,))
    child.start()
    writer.close()
    if target is send_big:
        reader.poll(30)
        time.sleep(0.3)
    os.kill(child.pid, signal.SIGSTOP)
    outcome = {}

    def run():
        began = time.monotonic()
        try:
            outcome["value"] = receive(reader, how)
        except Exception as exc:
            outcome["raised"] = describe(exc)
        outcome["seconds"] = time.monotonic() - began

    thread = threading.Thread(target=run, daemon=True)
    if receive_while_killed:
        thread.start()
        time.sleep(0.3)  # blocked in the receive by now
    os.kill(child.pid, signal.SIGKILL)
    child.join(30)
    if not receive_while_killed:
        thread.start()
    thread.join(30)
    if thread.is_alive():
        return {"hang": True}
    reader.close()
    return {"exit code": child.exitcode, "raised": outcome.get("raised"), "value": outcome.get("value")}


def main():
    report = {}
    for duplex in (False, True):
        kind = "socket pair" if duplex else "pipe"
        for how in ("recv_bytes", "recv_bytes_into", "recv"):
            for waiting in (False, True):
                name = f"{kind}, {how}, {'blocked when killed' if waiting else 'after the kill'}"
                report[name] = case(duplex, send_big, how, waiting)
        report[f"{kind}, killed before sending"] = case(duplex, send_nothing, "recv_bytes", True)
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
