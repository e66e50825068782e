"""Receives the hostile frames named on the command line (see CASES) and reports, per case, the
outcome, the connection's state after it, the time taken and how much the process's peak memory
grew. Prints one JSON document (for test_hostile_frames.py)."""

import json
import multiprocessing.connection as mc
import os
import sys
import time
from multiprocessing import Pipe

ESCAPE = b"\xff\xff\xff\xff"


def escaped(n):
    return ESCAPE + n.to_bytes(8, "big")


def short(n):
    return n.to_bytes(4, "big")


HUGE = escaped(2**62)
MIB16 = short(16 << 20)

# name: (header, payload bytes actually sent, how to receive, one-way pipe?)
CASES = {
    "2**62, 3 bytes": (HUGE, 3, "recv_bytes", False),
    "2**62, nothing": (HUGE, 0, "recv_bytes", False),
    "2**62, 8 MiB": (HUGE, 8 << 20, "recv_bytes", False),
    "2**62, 3 bytes, recv_bytes_into": (HUGE, 3, "recv_bytes_into", False),
    "2**62, 3 bytes, recv": (HUGE, 3, "recv", False),
    "2**62, 3 bytes, one-way pipe": (HUGE, 3, "recv_bytes", True),
    "2**31-1, 3 bytes": (short(2**31 - 1), 3, "recv_bytes", False),
    "2**31-1 escaped, 3 bytes": (escaped(2**31 - 1), 3, "recv_bytes", False),
    "255 MiB, 3 bytes": (short(255 << 20), 3, "recv_bytes", False),
    # Safe for stock: what it does with the same frames.
    "16 MiB, 3 bytes": (MIB16, 3, "recv_bytes", False),
    "16 MiB, nothing": (MIB16, 0, "recv_bytes", False),
    "16 MiB, 8 MiB": (MIB16, 8 << 20, "recv_bytes", False),
    "16 MiB escaped, 3 bytes": (escaped(16 << 20), 3, "recv_bytes", False),
    "16 MiB, 3 bytes, recv_bytes_into": (MIB16, 3, "recv_bytes_into", False),
    "16 MiB, 3 bytes, recv": (MIB16, 3, "recv", False),
    "16 MiB, 3 bytes, one-way pipe": (MIB16, 3, "recv_bytes", True),
    "2**62, maxlength 100": (HUGE, 3, "recv_bytes(100)", False),
    "2**62, maxlength 100, one-way pipe": (HUGE, 3, "recv_bytes(100)", True),
}


def memory():
    """The process's VmHWM and VmPeak, in KiB."""
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return {key: int(fields[key].split()[0]) for key in ("VmHWM", "VmPeak")}


def describe(exc):
    return {"type": f"{type(exc).__module__}.{type(exc).__qualname__}", "str": str(exc)}


def run(name):
    header, sent, how, one_way = CASES[name]
    receiver, sender = Pipe(duplex=False) if one_way else Pipe()
    writer = None
    if sent <= 3:
        os.write(sender.fileno(), header + b"abc"[:sent])
    else:
        writer = os.fork()
        if writer == 0:  # the hostile peer: a separate process, so its memory is not counted
            receiver.close()
            os.write(sender.fileno(), header)
            chunk = b"\x5a" * (64 << 10)
            for _ in range(sent // len(chunk)):
                os.write(sender.fileno(), chunk)
            os._exit(0)
    sender.close()
    before = memory()
    start = time.monotonic()
    try:
        if how == "recv_bytes":
            value = receiver.recv_bytes()
        elif how == "recv_bytes(100)":
            value = receiver.recv_bytes(100)
        elif how == "recv_bytes_into":
            value = receiver.recv_bytes_into(bytearray(16))
        else:
            value = receiver.recv()
        outcome = {"value": repr(value)[:100]}
    except Exception as exc:
        outcome = {"raised": describe(exc)}
    seconds = time.monotonic() - start
    after = memory()
    if writer is not None:
        os.waitpid(writer, 0)
    state = {"readable": receiver.readable, "closed": receiver.closed}
    if how == "recv_bytes(100)" and not receiver.closed:
        # The payload is still there, unread: the header alone was consumed.
        state["left"] = os.read(receiver.fileno(), 100).decode()
    return {
        "outcome": outcome,
        "state": state,
        "seconds": seconds,
        "hwm_growth_kib": after["VmHWM"] - before["VmHWM"],
        "peak_growth_kib": after["VmPeak"] - before["VmPeak"],
    }


if __name__ == "__main__":
    code = mc.Connection.recv_bytes.__code__.co_filename
    where = os.path.basename(os.path.dirname(code))
    print(json.dumps({"transport": where, "cases": {name: run(name) for name in sys.argv[1:]}}))
