"""`multiprocessing.connection` as a CPython we have not verified might have it: a private name
the patches read is renamed or takes other parameters. Run as ``changed_stdlib_names.py CASE``
without the override; it changes the stock module, then installs the override, and prints as
JSON what happened: the warnings, which pieces are ours, and whether a pipe and an
authenticated Listener/Client still work."""

import json
import multiprocessing.connection as mc
import sys
import threading
import warnings


def rename_forking_pickler():
    mc._Pickler = mc._ForkingPickler
    del mc._ForkingPickler


def pickler_without_reducer_tables():
    stock = mc._ForkingPickler
    mc._ForkingPickler = type("ForkingPickler", (), {"dumps": stock.dumps, "loads": stock.loads})


def recv_bytes_takes_another_parameter():
    stock = mc.Connection._recv_bytes

    def _recv_bytes(self, maxsize=None, timeout=None):
        return stock(self, maxsize)

    mc.Connection._recv_bytes = _recv_bytes


def deliver_challenge_takes_another_parameter():
    stock = mc.deliver_challenge

    def deliver_challenge(connection, authkey, digest_name="sha256", *, timeout=None):
        return stock(connection, authkey)

    mc.deliver_challenge = deliver_challenge


CASES = {
    "_ForkingPickler renamed": rename_forking_pickler,
    "ForkingPickler without its reducer tables": pickler_without_reducer_tables,
    "Connection._recv_bytes takes another parameter": recv_bytes_takes_another_parameter,
    "deliver_challenge takes another parameter": deliver_challenge_takes_another_parameter,
}


def is_ours(function):
    return "multiprocessing_rs" in getattr(getattr(function, "__code__", None), "co_filename", "")


def pipe_round_trip():
    a, b = mc.Pipe()
    a.send_bytes(b"bytes")
    return b.recv_bytes() == b"bytes"


def authenticated_round_trip():
    with mc.Listener(("127.0.0.1", 0), authkey=b"key") as listener:
        served = {}

        def serve():
            with listener.accept() as conn:
                served["got"] = conn.recv_bytes()

        thread = threading.Thread(target=serve)
        thread.start()
        with mc.Client(listener.address, authkey=b"key") as client:
            client.send_bytes(b"hello")
        thread.join(30)
    return served.get("got") == b"hello"


def main():
    CASES[sys.argv[1]]()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import multiprocessing_rs

        multiprocessing_rs.install()
        # A second import path to the same patch must not warn again.
        multiprocessing_rs.install()
    print(
        json.dumps(
            {
                "warnings": [[w.category.__name__, str(w.message)] for w in caught],
                "transport is ours": is_ours(mc.Connection.send_bytes),
                "handshake is ours": is_ours(mc.deliver_challenge),
                "pipe works": pipe_round_trip(),
                "authentication works": authenticated_round_trip(),
            }
        )
    )


if __name__ == "__main__":
    main()
