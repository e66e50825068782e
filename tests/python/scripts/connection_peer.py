"""A `multiprocessing.connection` peer for test_connection_interop.py, reporting one JSON line
per event:

    connection_peer.py listen FAMILY KEYHEX PLACE    (a Listener: inet, unix or abstract)
    connection_peer.py connect ADDRESS_JSON KEYHEX   (a Client)

Both sides exchange messages of every size in SIZES, as bytes and as pickled objects, and
check their content."""

import json
import multiprocessing.connection as mc
import os
import select
import sys
import time
from multiprocessing import AuthenticationError

SIZES = [0, 1, 16384, 16385, 5 << 20]
PATTERN = bytes(range(251))


def payload(n):
    start = n % 251
    return (PATTERN * (n // 251 + 2))[start : start + n]


def obj(n):
    return {"n": n, "data": payload(n), "nested": [n, ("tuple", n)], "text": "\u00e9" * (n % 7)}


def where(code):
    return os.path.basename(os.path.dirname(code.__code__.co_filename))


def report(**fields):
    print(json.dumps(fields), flush=True)


def identity():
    return {
        "version": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "ignore_environment": sys.flags.ignore_environment,
        "patched": bool(getattr(mc, "__multiprocessing_rs_patched__", False)),
        "send_bytes": where(mc.Connection.send_bytes),
        "recv_bytes": where(mc.Connection.recv_bytes),
        "deliver_challenge": where(mc.deliver_challenge),
        "answer_challenge": where(mc.answer_challenge),
    }


def auth_failure(start, exc):
    report(
        event="auth failed",
        type=f"{type(exc).__module__}.{type(exc).__qualname__}",
        message=str(exc),
        seconds=time.monotonic() - start,
    )


def listen(family, key, place):
    address = {"inet": ("127.0.0.1", 0), "unix": place, "abstract": "\0" + place}[family]
    listener = mc.Listener(address, authkey=key)
    if family == "inet":
        announced = {"inet": list(listener.address)}
    elif family == "unix":
        announced = {"unix": listener.address}
    else:
        name = listener.address
        announced = {"abstract": (name.decode() if isinstance(name, bytes) else name)[1:]}
    report(event="listening", address=announced, **identity())
    # Time the handshake alone, not the client's start-up: wait until it has connected.
    if not select.select([listener._listener._socket], [], [], 30)[0]:
        report(event="no client")
        return
    start = time.monotonic()
    try:
        conn = listener.accept()
    except AuthenticationError as exc:
        auth_failure(start, exc)
        listener.close()
        return
    report(event="accepted", seconds=time.monotonic() - start)
    received = []
    for n in SIZES:
        message = conn.recv_bytes()
        received.append([len(message), message == payload(n)])
        conn.send_bytes(message)
    objects = []
    for n in SIZES:
        o = conn.recv()
        objects.append([n, o == obj(n)])
        conn.send(o)
    try:
        conn.recv_bytes()
        eof = False
    except EOFError:
        eof = True
    conn.close()
    listener.close()
    report(event="done", received=received, objects=objects, eof=eof)


def connect(address, key):
    kind, value = next(iter(json.loads(address).items()))
    address = {"inet": lambda: tuple(value), "unix": lambda: value, "abstract": lambda: "\0" + value}[kind]()
    report(event="identity", **identity())
    start = time.monotonic()
    try:
        conn = mc.Client(address, authkey=key)
    except AuthenticationError as exc:
        auth_failure(start, exc)
        return
    report(event="connected", seconds=time.monotonic() - start)
    echoed = []
    for n in SIZES:
        conn.send_bytes(payload(n))
        back = conn.recv_bytes()
        echoed.append([len(back), back == payload(n)])
    objects = []
    for n in SIZES:
        conn.send(obj(n))
        objects.append([n, conn.recv() == obj(n)])
    conn.close()
    report(event="done", echoed=echoed, objects=objects)


if __name__ == "__main__":
    role, key = sys.argv[1], bytes.fromhex(sys.argv[3])
    listen(sys.argv[2], key, sys.argv[4]) if role == "listen" else connect(sys.argv[2], key)
