"""One side of a handshake against a hostile peer (test_hostile_frames.py plays the peer):

    hostile_handshake.py listen        (a Listener: reports its port, then the accept's outcome)
    hostile_handshake.py connect PORT  (a Client of the peer listening on PORT)

Reports one JSON line per event, with the growth of the peak memory during the handshake."""

import json
import multiprocessing.connection as mc
import os
import sys

KEY = b"k" * 32


def report(**fields):
    print(json.dumps(fields), flush=True)


def describe(exc):
    return {"type": f"{type(exc).__module__}.{type(exc).__qualname__}", "str": str(exc)}


def vm_hwm():
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("VmHWM:")).split()[1])


where = os.path.basename(os.path.dirname(mc.deliver_challenge.__code__.co_filename))
if sys.argv[1] == "listen":
    listener = mc.Listener(("127.0.0.1", 0), authkey=KEY)
    report(port=listener.address[1], handshake=where)
    before = vm_hwm()
    try:
        listener.accept()
        outcome = {"value": "accepted"}
    except Exception as exc:
        outcome = {"raised": describe(exc)}
    report(outcome=outcome, hwm_growth_kib=vm_hwm() - before)
else:
    report(handshake=where)
    before = vm_hwm()
    try:
        mc.Client(("127.0.0.1", int(sys.argv[2])), authkey=KEY)
        outcome = {"value": "connected"}
    except Exception as exc:
        outcome = {"raised": describe(exc)}
    report(outcome=outcome, hwm_growth_kib=vm_hwm() - before)
