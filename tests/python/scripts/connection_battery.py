"""The `Connection` battery of test_connection_behaviour.py: plays every scenario with `Pipe()`
connections and records what each step returned or raised (type, message, args, errno), plus
the raw bytes the sender put on the wire. Prints one JSON document:
{"transport": which code ran, "scenarios": {name: [[step, outcome], ...]}}."""

import array
import ctypes
import hashlib
import json
import mmap
import multiprocessing.connection as mc
import os
import pickle
import select
import signal
import threading
import time
from multiprocessing import Pipe


def describe(exc):
    d = {"type": f"{type(exc).__module__}.{type(exc).__qualname__}", "str": str(exc), "args": render(exc.args)}
    if isinstance(exc, OSError):
        d["errno"] = exc.errno
    return d


def render(value):
    if isinstance(value, (bytes, bytearray)) and len(value) > 80:
        return f"{type(value).__name__}[{len(value)}]:{hashlib.sha256(value).hexdigest()[:16]}"
    if isinstance(value, tuple):
        return "(" + ", ".join(render(v) for v in value) + ")"
    return f"{type(value).__name__}:{value!r}"


class Steps(list):
    """Records what each step returned or raised; a failing step does not end the scenario."""

    def __call__(self, label, fn):
        try:
            value = fn()
        except Exception as exc:
            self.append([label, {"raised": describe(exc)}])
            return exc
        self.append([label, {"value": render(value)}])
        return value


SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


def wire(conn, peer, send):
    """What `send(conn)` put on the wire, as hex, read raw from the peer's descriptor while
    another thread sends (a large message does not fit in the socket buffers)."""
    errors = []

    def run():
        try:
            send(conn)
        except Exception as exc:
            errors.append(exc)

    sender = threading.Thread(target=run)
    sender.start()
    fd = peer.fileno()
    chunks = []
    while sender.is_alive():
        if select.select([fd], [], [], 0.005)[0]:
            chunks.append(os.read(fd, 1 << 20))
    sender.join()
    os.set_blocking(fd, False)
    try:
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    except BlockingIOError:
        pass
    finally:
        os.set_blocking(fd, True)
    if errors:
        raise errors[0]
    data = b"".join(chunks)
    return (
        data.hex() if len(data) <= 64 else f"{data[:16].hex()}...[{len(data)}]:{hashlib.sha256(data).hexdigest()[:16]}"
    )


def received_while(send, recv):
    """`recv()`'s result, called in another thread while this one runs `send()`."""
    got = []
    receiver = threading.Thread(target=lambda: got.append(recv()))
    receiver.start()
    try:
        send()
    finally:
        receiver.join(30)
    return got[0]


def raw_then_close(raw):
    """A connection whose peer wrote `raw` straight to the socket and closed."""
    a, b = Pipe()
    if raw:
        os.write(a.fileno(), raw)
    a.close()
    return b


@scenario
def pipe_duplex(s):
    a, b = Pipe()
    s("flags", lambda: (a.readable, a.writable, b.readable, b.writable, a.closed))
    s("a->b", lambda: (a.send_bytes(b"ping"), b.recv_bytes()))
    s("b->a", lambda: (b.send_bytes(b"pong"), a.recv_bytes()))
    s("objects both ways", lambda: (a.send([1, "x"]), b.recv(), b.send({"k": None}), a.recv()))
    s("type", lambda: type(a).__name__)


@scenario
def pipe_simplex(s):
    r, w = Pipe(duplex=False)
    s("flags", lambda: (r.readable, r.writable, w.readable, w.writable))
    s("w->r", lambda: (w.send_bytes(b"one"), r.recv_bytes()))
    s("reader send_bytes", lambda: r.send_bytes(b"x"))
    s("reader send", lambda: r.send(1))
    s("writer recv_bytes", lambda: w.recv_bytes())
    s("writer recv", lambda: w.recv())
    s("writer recv_bytes_into", lambda: w.recv_bytes_into(bytearray(4)))
    s("writer poll", lambda: w.poll())
    s("nothing leaked", lambda: r.poll(0))


@scenario
def send_offset_and_size(s):
    a, b = Pipe()
    data = b"0123456789"
    cases = [
        (0, None),
        (3, None),
        (10, None),
        (0, 0),
        (3, 4),
        (3, 7),
        (10, 0),
        (True, None),
        (0, True),
        (-1, None),
        (-1, 2),
        (11, None),
        (0, -1),
        (3, 8),
        (0, 11),
        (11, -1),
        (2.0, None),
        (0, 2.0),
        (2**70, None),
        (0, 2**70),
        ("1", None),
    ]
    for offset, size in cases:
        s(f"send_bytes({offset!r}, {size!r})", lambda: wire(a, b, lambda c: c.send_bytes(data, offset, size)))
    s("keyword size", lambda: wire(a, b, lambda c: c.send_bytes(data, size=3)))
    s("keyword offset", lambda: wire(a, b, lambda c: c.send_bytes(buf=data, offset=8)))


@scenario
def send_buffer_types(s):
    a, b = Pipe()
    ints = array.array("i", [1, 2, 3, 4])
    grid = memoryview(bytearray(b"abcdefghijkl")).cast("B", (3, 4))
    m = mmap.mmap(-1, 16)
    m.write(b"mmap-contents!!!")
    released = memoryview(b"gone")
    released.release()
    buffers = {
        "bytes": b"plain",
        "empty bytes": b"",
        "bytearray": bytearray(b"mutable"),
        "memoryview": memoryview(b"view"),
        "memoryview slice": memoryview(b"0123456789")[2:5],
        "strided memoryview": memoryview(b"0123456789")[::2],
        "array i": ints,
        "array d": array.array("d", [1.5, -2.0]),
        "array b": array.array("b", [1, -1]),
        "2-D memoryview": grid,
        "mmap": m,
        "2-D int memoryview": memoryview(array.array("i", range(6))).cast("B").cast("i", (2, 3)),
        "ctypes int": ctypes.c_int(7),
        "ctypes int array": (ctypes.c_int * 3)(1, 2, 3),
        "ctypes char array": ctypes.create_string_buffer(b"abc", 4),
        "str": "text",
        "int": 5,
        "None": None,
        "list": [1, 2],
        "released memoryview": released,
    }
    for name, buf in buffers.items():
        s(f"{name}", lambda: wire(a, b, lambda c: c.send_bytes(buf)))
    # itemsize > 1: offset and size count bytes, not items.
    for offset, size in [(4, 8), (3, None), (0, 5), (16, None), (17, None), (4, 13)]:
        s(f"array i offset={offset} size={size}", lambda: wire(a, b, lambda c: c.send_bytes(ints, offset, size)))
    for offset, size in [(1, None), (0, 4), (4, 4)]:
        s(f"2-D memoryview offset={offset} size={size}", lambda: wire(a, b, lambda c: c.send_bytes(grid, offset, size)))
    s("round trip of an array", lambda: (a.send_bytes(ints, 4, 8), b.recv_bytes()))


@scenario
def wire_format(s):
    a, b = Pipe()
    for n in (0, 3, 16384, 16385, 1 << 20):
        s(
            f"send_bytes of {n}",
            lambda: wire(a, b, lambda c: c.send_bytes(bytes(range(256)) * (n // 256) + b"xyz"[: n % 256])),
        )
    s("send of an object", lambda: wire(a, b, lambda c: c.send({"a": [1, 2.5, None], "b": b"x"})))
    s("send of a large object", lambda: wire(a, b, lambda c: c.send(("big", b"\x01" * 100000))))


@scenario
def recv_maxlength(s):
    a, b = Pipe()
    s("exact", lambda: (a.send_bytes(b"0123456789"), b.recv_bytes(10)))
    s("empty with 0", lambda: (a.send_bytes(b""), b.recv_bytes(0)))
    s("bool maxlength", lambda: (a.send_bytes(b"1"), b.recv_bytes(True)))
    s("float maxlength", lambda: (a.send_bytes(b"123"), b.recv_bytes(5.0)))
    s("huge maxlength", lambda: (a.send_bytes(b"123"), b.recv_bytes(2**70)))
    s("negative", lambda: b.recv_bytes(-1))
    s("negative float", lambda: b.recv_bytes(-0.5))
    s("too long (duplex)", lambda: (a.send_bytes(b"0123456789"), b.recv_bytes(5)))
    s("state after", lambda: (b.readable, b.writable, b.closed))
    s("recv after", lambda: b.recv_bytes())
    s("still writable", lambda: (b.send_bytes(b"back"), a.recv_bytes()))
    s("payload left unread", lambda: os.read(b.fileno(), 100))
    r, w = Pipe(duplex=False)
    s("too long (simplex)", lambda: (w.send_bytes(b"0123456789"), r.recv_bytes(9)))
    s("simplex state after", lambda: (r.readable, r.writable, r.closed))
    s("simplex recv after", lambda: r.recv_bytes())
    a, b = Pipe()
    s("too long, float maxlength", lambda: (a.send_bytes(b"0123456789"), b.recv_bytes(9.5)))
    s("float state after", lambda: (b.readable, b.closed))


@scenario
def recv_bytes_into(s):
    a, b = Pipe()
    buf = bytearray(10)
    s("fits", lambda: (a.send_bytes(b"abc"), b.recv_bytes_into(buf), bytes(buf)))
    s("at offset", lambda: (a.send_bytes(b"xyz"), b.recv_bytes_into(buf, 4), bytes(buf)))
    s("fills to the end", lambda: (a.send_bytes(b"12"), b.recv_bytes_into(buf, 8), bytes(buf)))
    s("negative offset", lambda: b.recv_bytes_into(buf, -1))
    s("offset too large", lambda: b.recv_bytes_into(buf, 11))
    s("nothing consumed by the errors", lambda: b.poll(0))
    s("empty at the end", lambda: (a.send_bytes(b""), b.recv_bytes_into(buf, 10)))
    s("too short", lambda: (a.send_bytes(b"abc"), b.recv_bytes_into(buf, 8)))
    s("too short carries the whole message", lambda: (a.send_bytes(b"0123456789A"), b.recv_bytes_into(buf)))
    s("message consumed, buffer untouched", lambda: (b.poll(0), bytes(buf)))
    s("next message", lambda: (a.send_bytes(b"next"), b.recv_bytes()))
    s("memoryview", lambda: (a.send_bytes(b"mv"), b.recv_bytes_into(memoryview(buf), 1), bytes(buf)))
    s("memoryview slice", lambda: (a.send_bytes(b"s"), b.recv_bytes_into(memoryview(buf)[5:], 1), bytes(buf)))
    ints = array.array("i", [0] * 4)
    s("array i", lambda: (a.send_bytes(b"\x01\x00\x00\x00\x02\x00\x00\x00"), b.recv_bytes_into(ints), ints.tolist()))
    s("array i offset", lambda: (a.send_bytes(b"\x05\x00\x00\x00"), b.recv_bytes_into(ints, 8), ints.tolist()))
    s("array i too large", lambda: b.recv_bytes_into(ints, 17))
    s("array i too short", lambda: (a.send_bytes(b"x" * 17), b.recv_bytes_into(ints)))
    s("array b", lambda: (a.send_bytes(b"\x7f\x01"), b.recv_bytes_into(array.array("b", [0, 0, 0]), 1)))
    grid = bytearray(12)
    s(
        "2-D memoryview",
        lambda: (a.send_bytes(b"xy"), b.recv_bytes_into(memoryview(grid).cast("B", (3, 4)), 1), bytes(grid)),
    )
    s(
        "2-D memoryview too short",
        lambda: (a.send_bytes(b"wxyz"), b.recv_bytes_into(memoryview(grid).cast("B", (3, 4)))),
    )
    s("read-only buffer", lambda: (a.send_bytes(b"ro"), b.recv_bytes_into(b"\x00" * 4)))
    s("after read-only", lambda: b.poll(0))
    s("str buffer", lambda: b.recv_bytes_into("text"))
    s("float offset", lambda: (a.send_bytes(b"f"), b.recv_bytes_into(buf, 1.0)))
    s("after float offset", lambda: b.poll(0))
    s("mmap", lambda: (a.send_bytes(b"map"), b.recv_bytes_into(mmap.mmap(-1, 8), 2)))


@scenario
def closed_connection(s):
    a, b = Pipe()
    s("close twice", lambda: (a.close(), a.close(), a.closed))
    for name, call in [
        ("send_bytes", lambda: a.send_bytes(b"x")),
        ("send", lambda: a.send(1)),
        ("recv_bytes", lambda: a.recv_bytes()),
        ("recv", lambda: a.recv()),
        ("recv_bytes_into", lambda: a.recv_bytes_into(bytearray(4))),
        ("poll", lambda: a.poll()),
        ("fileno", lambda: a.fileno()),
        ("send_bytes bad offset", lambda: a.send_bytes(b"x", -1)),
        ("recv_bytes negative", lambda: a.recv_bytes(-1)),
    ]:
        s(name, call)
    s("peer poll sees end of file", lambda: b.poll(0))
    s("peer recv_bytes", lambda: b.recv_bytes())
    s("peer recv", lambda: b.recv())
    s("peer recv_bytes_into", lambda: b.recv_bytes_into(bytearray(4)))
    s("peer send", lambda: b.send_bytes(b"into the void"))
    r, w = Pipe(duplex=False)
    s("reader closed, writer send", lambda: (r.close(), w.send_bytes(b"x")))
    r, w = Pipe(duplex=False)
    s("writer closed, reader recv", lambda: (w.close(), r.recv_bytes()))


@scenario
def end_of_file(s):
    n5 = b"\x00\x00\x00\x05"
    esc = b"\xff\xff\xff\xff"
    long5 = esc + (5).to_bytes(8, "big")
    for raw in [
        b"",
        b"\x00",
        b"\x00\x00\x00",
        n5,
        n5 + b"he",
        n5 + b"hell",
        esc,
        esc + b"\x00\x00",
        esc + b"\x00" * 7,
        long5,
        long5 + b"he",
    ]:
        s(f"recv_bytes after {raw.hex() or 'nothing'}", lambda: raw_then_close(raw).recv_bytes())
    for raw in [b"", n5, n5 + b"he", esc + b"\x00"]:
        s(f"recv_bytes_into after {raw.hex() or 'nothing'}", lambda: raw_then_close(raw).recv_bytes_into(bytearray(8)))
        s(f"recv after {raw.hex() or 'nothing'}", lambda: raw_then_close(raw).recv())
        s(f"recv_bytes(2) after {raw.hex() or 'nothing'}", lambda: raw_then_close(raw).recv_bytes(2))
    b = raw_then_close(n5 + b"hello")
    s("a whole message, then end of file", lambda: (b.recv_bytes(), b.poll(0)))
    s("then", lambda: b.recv_bytes())


@scenario
def raw_frames(s):
    def feed(raw):
        a, b = Pipe()
        os.write(a.fileno(), raw)
        return a, b

    hello = bytes.fromhex("ffffffff000000000000000568656c6c6f")
    s("escape for a small payload", lambda: feed(hello)[1].recv_bytes())
    s("escape into a buffer", lambda: (lambda buf: (feed(hello)[1].recv_bytes_into(buf, 1), bytes(buf)))(bytearray(8)))
    obj = pickle.dumps(("escaped", 1))
    s("escape for an object", lambda: feed(b"\xff" * 4 + len(obj).to_bytes(8, "big") + obj)[1].recv())
    s("escape with maxlength", lambda: (lambda b: (b.recv_bytes(4), os.read(b.fileno(), 100)))(feed(hello)[1]))
    s("escape with exact maxlength", lambda: feed(hello)[1].recv_bytes(5))
    _, b = feed(bytes.fromhex("fffffffe") + b"\x00\x00\x00\x02hi")
    s("fffffffe is empty, only the header is read", lambda: (b.recv_bytes(), b.recv_bytes()))
    _, b = feed(bytes.fromhex("80000000") + b"\x00\x00\x00\x01z")
    s("80000000 is empty", lambda: (b.recv_bytes(), b.recv_bytes()))
    _, b = feed(bytes.fromhex("fffffffe"))
    s("negative length into a buffer", lambda: b.recv_bytes_into(bytearray(2)))
    _, b = feed(bytes.fromhex("fffffffe"))
    s("negative length with maxlength 0", lambda: b.recv_bytes(0))
    _, b = feed(b"\x00\x00\x00\x00")
    s("empty message", lambda: (b.recv_bytes(), b.poll(0)))
    a, b = feed(b"\x00\x00\x00\x01a\x00\x00\x00\x02bc\x00\x00\x00\x00")
    s(
        "boundaries of frames written at once",
        lambda: (b.recv_bytes(), b.poll(0), b.recv_bytes(), b.poll(0), b.recv_bytes(), b.poll(0)),
    )
    a, b = Pipe()
    s("empty send is one frame", lambda: wire(a, b, lambda c: c.send_bytes(b"")))
    s("empty send then recv", lambda: (a.send_bytes(b""), b.recv_bytes(), b.poll(0)))
    s("garbage pickle", lambda: (os.write(a.fileno(), b"\x00\x00\x00\x07garbage"), b.recv()))
    s("empty pickle", lambda: (a.send_bytes(b""), b.recv()))


@scenario
def poll_behaviour(s):
    a, b = Pipe()

    def timed(fn):
        start = time.monotonic()
        result = fn()
        elapsed = time.monotonic() - start
        return result, elapsed >= 0.18, elapsed < 3.0

    s("nothing", lambda: (b.poll(), b.poll(0), b.poll(0.0), b.poll(-1), b.poll(-0.5)))
    s("timeout 0.2", lambda: timed(lambda: b.poll(0.2)))
    s("bool timeout", lambda: b.poll(False))
    a.send_bytes(b"m1")
    a.send_bytes(b"m2")
    s("two messages waiting", lambda: (b.poll(), b.poll(None), b.poll(0), b.poll(1)))
    s("first", lambda: (b.recv_bytes(), b.poll(0)))
    s("second", lambda: (b.recv_bytes(), b.poll(0)))
    a.send_bytes(b"x")
    for timeout in [float("inf"), 1e7, 2147484, 2147483, 10**30, float("nan"), True, "1", -float("inf")]:
        s(f"poll({timeout!r}) with a message waiting", lambda: b.poll(timeout))
    s("drain", lambda: (b.recv_bytes(), b.poll(0)))

    def later():
        time.sleep(0.2)
        a.send_bytes(b"late")

    def wait_for_late():
        threading.Thread(target=later).start()
        start = time.monotonic()
        ready = b.poll(10)
        elapsed = time.monotonic() - start
        return ready, 0.15 <= elapsed < 5, b.recv_bytes()

    s("message arrives during the wait", wait_for_late)
    s("a part of a header is enough", lambda: (os.write(a.fileno(), b"\x00"), b.poll(0)))
    s("peer closes", lambda: (a.close(), b.poll(0), b.poll(None)))
    s("wait()", lambda: (lambda x, y: (mc.wait([x], 0), y.send_bytes(b"w"), mc.wait([x], 1) == [x]))(*Pipe()))


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    def __repr__(self):
        return f"Point({self.x}, {self.y})"


@scenario
def objects(s):
    a, b = Pipe()
    for obj in [
        None,
        1,
        -(2**100),
        "str",
        [1, 2],
        {"a": (1, b"x")},
        Point(3, 4),
        ("big", b"\x02" * (1 << 20)),
        {1, 2, 3},
        1.5,
        b"",
        bytearray(b"ba"),
    ]:
        s(f"round trip {type(obj).__name__}", lambda: received_while(lambda: a.send(obj), b.recv) == obj)
    s("unpicklable", lambda: a.send(threading.Lock()))
    s("nothing sent", lambda: b.poll(0))
    s("object as bytes", lambda: (a.send("o"), pickle.loads(b.recv_bytes())))
    s("bytes as object", lambda: (a.send_bytes(pickle.dumps([7])), b.recv()))


class Recording(mc.Connection):
    """A subclass that hooks the private transport, as instrumentation code does."""

    log = []

    def _send_bytes(self, buf):
        self.log.append(("send", bytes(buf)))
        super()._send_bytes(buf)

    def _recv_bytes(self, maxsize=None):
        result = super()._recv_bytes(maxsize)
        self.log.append(("recv", maxsize, None if result is None else result.getvalue()))
        return result


@scenario
def subclass(s):
    a, b = Pipe()
    ra, rb = Recording(a._handle), Recording(b._handle)
    a._handle = b._handle = None
    s("send_bytes and recv_bytes", lambda: (ra.send_bytes(b"sub", 1), rb.recv_bytes()))
    s("send and recv", lambda: (ra.send([1]), rb.recv()))
    s(
        "recv_bytes_into",
        lambda: (ra.send_bytes(b"into"), (lambda buf: (rb.recv_bytes_into(buf, 1), bytes(buf)))(bytearray(6))),
    )
    s("maxlength", lambda: (ra.send_bytes(b"toolong"), rb.recv_bytes(3)))
    s("poll", lambda: (ra.poll(0), rb.send_bytes(b"p"), ra.poll(0), ra.recv_bytes()))
    s("what the hooks saw", lambda: repr(Recording.log))


@scenario
def os_errors(s):
    a, b = Pipe()
    s("send to a closed peer", lambda: (b.close(), a.send_bytes(b"x")))
    s("send an object to a closed peer", lambda: a.send(1))
    s("send a large message to a closed peer", lambda: a.send_bytes(b"x" * 100000))
    a, b = Pipe()
    os.set_blocking(b.fileno(), False)
    s("non-blocking recv with nothing", lambda: b.recv_bytes())
    s("non-blocking recv_bytes_into", lambda: b.recv_bytes_into(bytearray(4)))
    s("non-blocking recv of a whole message", lambda: (a.send_bytes(b"nb"), b.recv_bytes()))
    a, b = Pipe()
    os.set_blocking(a.fileno(), False)
    s("non-blocking send that cannot finish", lambda: a.send_bytes(b"y" * (16 << 20)))
    a, b = Pipe()
    fd = b.fileno()
    os.close(fd)
    s("descriptor closed behind its back: recv", lambda: b.recv_bytes())
    s("descriptor closed behind its back: send", lambda: b.send_bytes(b"x"))
    s("descriptor closed behind its back: poll", lambda: b.poll(0))
    b._handle = None


@scenario
def signals(s):
    main = threading.get_ident()
    calls = []
    threads = []

    def benign(signum, frame):
        calls.append(signum)

    def raising(signum, frame):
        raise RuntimeError("raised by the SIGUSR1 handler")

    def in_thread(*actions):
        def run():
            for action in actions:
                time.sleep(0.15)
                action()

        t = threading.Thread(target=run)
        t.start()
        threads.append(t)

    def kill():
        signal.pthread_kill(main, signal.SIGUSR1)

    previous = signal.signal(signal.SIGUSR1, benign)
    try:
        a, b = Pipe()
        s(
            "benign handler during recv_bytes",
            lambda: (in_thread(kill, lambda: a.send_bytes(b"after the signal")), b.recv_bytes(), len(calls)),
        )
        calls.clear()
        s(
            "benign handler in the middle of a message",
            lambda: (
                in_thread(
                    lambda: os.write(a.fileno(), b"\x00\x00\x00\x0aabc"), kill, lambda: os.write(a.fileno(), b"defghij")
                ),
                b.recv_bytes(),
                len(calls),
            ),
        )
        calls.clear()
        s(
            "benign handler in the middle of a header",
            lambda: (
                in_thread(lambda: os.write(a.fileno(), b"\x00\x00"), kill, lambda: os.write(a.fileno(), b"\x00\x02ok")),
                b.recv_bytes(),
                len(calls),
            ),
        )
        calls.clear()
        buf = bytearray(8)
        s(
            "benign handler during recv_bytes_into",
            lambda: (in_thread(kill, lambda: a.send_bytes(b"into")), b.recv_bytes_into(buf, 2), bytes(buf), len(calls)),
        )
        calls.clear()
        s("benign handler during recv", lambda: (in_thread(kill, lambda: a.send(("obj", 1))), b.recv(), len(calls)))
        calls.clear()
        s(
            "benign handler during poll",
            lambda: (in_thread(kill, lambda: a.send_bytes(b"p")), b.poll(10), b.recv_bytes(), len(calls)),
        )
        calls.clear()
        big = bytes(range(256)) * (4 << 12)  # 4 MiB: more than the socket buffers hold
        got = []
        s(
            "benign handler during a blocked send_bytes",
            lambda: (in_thread(kill, lambda: got.append(b.recv_bytes())), a.send_bytes(big), len(calls)),
        )
        threads[-1].join(30)
        s("the blocked send arrived whole", lambda: (len(got), got[0] == big if got else None))
        calls.clear()
        signal.signal(signal.SIGUSR1, raising)
        s("raising handler during recv_bytes", lambda: (in_thread(kill), b.recv_bytes()))
        time.sleep(0.2)
        s("the connection still works after", lambda: (a.send_bytes(b"next"), b.recv_bytes()))
        s("raising handler during poll", lambda: (in_thread(kill), b.poll(10)))
        time.sleep(0.2)
        s("raising handler during recv_bytes_into", lambda: (in_thread(kill), b.recv_bytes_into(bytearray(4))))
        time.sleep(0.2)
    finally:
        for t in threads:
            t.join(30)
        signal.signal(signal.SIGUSR1, previous)


def transport():
    """Which code `Connection`'s transport and the handshake run: ours or stock."""
    code = mc.Connection.recv_bytes.__code__.co_filename
    return {
        "patched": bool(getattr(mc, "__multiprocessing_rs_patched__", False)),
        "recv_bytes": os.path.basename(os.path.dirname(code)),
        "send_bytes": os.path.basename(os.path.dirname(mc.Connection.send_bytes.__code__.co_filename)),
        "deliver_challenge": os.path.basename(os.path.dirname(mc.deliver_challenge.__code__.co_filename)),
        "qualname": mc.Connection.recv_bytes.__qualname__,
        "module": mc.Connection.recv_bytes.__module__,
    }


if __name__ == "__main__":
    results = {}
    for name, fn in SCENARIOS.items():
        steps = Steps()
        try:
            fn(steps)
        except BaseException as exc:  # a scenario that died half-way shows as such
            steps.append(["scenario died", {"raised": describe(exc)}])
        results[name] = steps
    print(json.dumps({"transport": transport(), "scenarios": results}))
