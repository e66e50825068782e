"""A stock CPython multiprocessing.connection peer for mpcore's interop tests.

    python -E peer.py listen FAMILY AUTHKEY_HEX        # Listener; prints its address, echoes
    python -E peer.py connect ADDRESS AUTHKEY_HEX SIZES # Client; sends SIZES, checks the echoes

FAMILY is inet, unix:PATH or abstract:NAME. ADDRESS is inet:HOST:PORT, unix:PATH or
abstract:NAME. AUTHKEY_HEX may be '-' for no authkey. SIZES is a comma-separated list.
Payloads are generated and checked on both sides: byte i of a payload of n bytes is
(i + n) % 251. Every result is one line on stdout:

    address inet 127.0.0.1 43567 | address unix /path | address abstract NAME
    received N N N ...           (listener: the sizes it got and checked, then echoed)
    echoed N N N ...             (client: the sizes whose echo came back intact)
    AuthenticationError SECONDS MESSAGE
"""

import sys
import time
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Listener

PATTERN = bytes(range(251))


def payload(n):
    start = n % 251
    return (PATTERN * (n // 251 + 2))[start : start + n]


def out(*words):
    print(*words, flush=True)


def parse_address(text):
    kind, _, rest = text.partition(":")
    if kind == "inet":
        host, _, port = rest.rpartition(":")
        return (host, int(port))
    if kind == "unix":
        return rest
    if kind == "abstract":
        return "\0" + rest
    raise SystemExit(f"bad address {text!r}")


def parse_key(text):
    return None if text == "-" else bytes.fromhex(text)


def listen(family, authkey):
    address = ("127.0.0.1", 0) if family == "inet" else parse_address(family)
    with Listener(address, authkey=authkey) as listener:
        address = listener.address
        if isinstance(address, tuple):
            out("address inet", address[0], address[1])
        elif isinstance(address, bytes):  # an abstract name comes back as bytes
            out("address abstract", address[1:].decode())
        elif address.startswith("\0"):
            out("address abstract", address[1:])
        else:
            out("address unix", address)
        start = time.monotonic()
        try:
            conn = listener.accept()
        except AuthenticationError as e:
            out("AuthenticationError", f"{time.monotonic() - start:.3f}", e)
            return
        received = []
        with conn:
            while True:
                try:
                    message = conn.recv_bytes()
                except EOFError:
                    break
                if message != payload(len(message)):
                    out("corrupt", len(message))
                    return
                received.append(len(message))
                conn.send_bytes(message)
        out("received", *received)


def connect(address, authkey, sizes):
    start = time.monotonic()
    try:
        conn = Client(parse_address(address), authkey=authkey)
    except AuthenticationError as e:
        out("AuthenticationError", f"{time.monotonic() - start:.3f}", e)
        return
    echoed = []
    with conn:
        for n in sizes:
            conn.send_bytes(payload(n))
            if conn.recv_bytes() != payload(n):
                out("corrupt", n)
                return
            echoed.append(n)
    out("echoed", *echoed)


if __name__ == "__main__":
    if sys.argv[1] == "listen":
        listen(sys.argv[2], parse_key(sys.argv[3]))
    else:
        connect(sys.argv[2], parse_key(sys.argv[3]), [int(n) for n in sys.argv[4].split(",") if n])
