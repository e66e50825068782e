"""A `Listener` with an authkey, and a series of hostile peers, then the right client. Prints, as
JSON, what the listener's `accept()` raised for each peer, what each peer saw, whether the
right client then got in, and the listener's peak memory growth.

Each hostile peer connects with a raw socket, reads the challenge, sends its bytes, and reads
what comes back until the listener closes the connection (a 10 s timeout would say it did not;
the cycle collector is off, so the close must come from the failed accept() itself).
Peers that would make stock wait forever too (one that sends nothing, or announces more than it
sends within the 256-byte limit of the handshake, and stays) are left out: stock has no
timeout there either.
"""

import gc
import json
import multiprocessing.connection as mc
import random
import socket
import sys
import threading

KEY = b"the right key"
NOISE = random.Random(7).randbytes(64)


def frame(payload):
    return len(payload).to_bytes(4, "big") + payload


def escaped(length):
    return b"\xff\xff\xff\xff" + length.to_bytes(8, "big")


PEERS = {
    "random bytes": NOISE,
    "announces 2**62 bytes": escaped(2**62) + b"abc",
    "announces 2**31-1 bytes": (2**31 - 1).to_bytes(4, "big") + b"abc",
    "announces 2**64-1 bytes": escaped(2**64 - 1),
    "a truncated frame": (100).to_bytes(4, "big") + b"0123456789",
    "a truncated header": b"\x00\x00",
    "256 random bytes as the answer": frame(random.Random(8).randbytes(256)),
    "an empty answer": frame(b""),
    "a forged digest prefix": frame(b"{sha256}" + bytes(32)),
    "an unknown digest": frame(b"{whirlpool}" + bytes(64)),
    "nothing, then closes": b"",
}


def memory_peak_kib():
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("VmHWM")).split()[1])


def describe(exc):
    text = str(exc)
    return {"type": f"{type(exc).__module__}.{type(exc).__qualname__}", "str": text[:200]}


def hostile(address, data):
    with socket.create_connection(address, timeout=10) as s:
        s.settimeout(10)
        challenge = s.recv(4096)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the listener gave up on us already (and closed)
        received = b""
        try:
            while chunk := s.recv(4096):
                received += chunk
        except TimeoutError:
            return {"challenge": len(challenge) > 0, "listener closed": False}
        except ConnectionResetError:
            pass
        return {"challenge": len(challenge) > 0, "listener closed": True, "reply": received[4:].decode("latin-1")}


def main():
    # Stock closes a connection whose accept() failed as soon as the exception is gone (reference
    # counting); ours must too, not when the cycle collector next runs: keep that from hiding it.
    gc.disable()
    listener = mc.Listener(("127.0.0.1", 0), authkey=KEY)
    accepted = []
    server_done = threading.Event()

    def serve():
        for _ in range(len(PEERS) + 2):
            try:
                conn = listener.accept()
            except Exception as exc:
                accepted.append({"raised": describe(exc)})
                continue
            with conn:
                accepted.append({"accepted": conn.recv_bytes().decode()})
                conn.send_bytes(b"welcome in")
        server_done.set()

    before = memory_peak_kib()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    peers = {}
    for name, data in PEERS.items():
        peers[name] = hostile(listener.address, data)
    try:
        mc.Client(listener.address, authkey=b"the wrong key")
        peers["wrong key"] = {"client": "connected"}
    except Exception as exc:
        peers["wrong key"] = {"client raised": describe(exc)}
    with mc.Client(listener.address, authkey=KEY) as client:
        client.send_bytes(b"right client")
        reply = client.recv_bytes().decode()
    server_done.wait(30)
    listener.close()
    names = [*PEERS, "wrong key", "right client"]
    report = {
        "listener saw": dict(zip(names, accepted)),
        "peers saw": peers,
        "right client got": reply,
        "peak memory growth MiB": (memory_peak_kib() - before) // 1024,
    }
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
