"""Extreme sizes, offsets, descriptors and timeouts given to `Connection` (and, under the
override, to the native functions behind it). Prints, as JSON, what each call returned or
raised. Under the override a Rust panic would surface as `pyo3_runtime.PanicException`, a
`BaseException`, which is caught and reported like any other outcome."""

import json
import os
import sys
from multiprocessing import Pipe

I64_MAX = 2**63 - 1


def outcome(fn):
    try:
        value = fn()
    except BaseException as exc:  # PanicException is a BaseException
        described = {"type": f"{type(exc).__module__}.{type(exc).__qualname__}", "str": str(exc)}
        if isinstance(exc, OSError):
            described["errno"] = exc.errno
        return {"raised": described}
    return {"value": repr(value)}


def with_handle(conn, handle, fn):
    """Runs `fn` with the connection's descriptor replaced by `handle` (as code that sets
    `_handle` by hand would), then restores it."""
    saved, conn._handle = conn._handle, handle
    try:
        return outcome(fn)
    finally:
        conn._handle = saved


def connection_cases():
    a, b = Pipe()
    cases = {
        "send_bytes size 2**63-1": outcome(lambda: a.send_bytes(b"abcdef", 1, I64_MAX)),
        "send_bytes offset 2**63-1": outcome(lambda: a.send_bytes(b"abcdef", I64_MAX, 1)),
        "send_bytes offset and size 2**62": outcome(lambda: a.send_bytes(b"abcdef", 2**62, 2**62)),
        "send_bytes size 2**63": outcome(lambda: a.send_bytes(b"abcdef", 0, 2**63)),
        "send_bytes offset -2**63": outcome(lambda: a.send_bytes(b"abcdef", -(2**63), 1)),
        "send_bytes size -2**63": outcome(lambda: a.send_bytes(b"abcdef", 0, -(2**63))),
        "recv_bytes_into offset 2**63-1": outcome(lambda: b.recv_bytes_into(bytearray(4), I64_MAX)),
        "recv_bytes_into offset -2**63": outcome(lambda: b.recv_bytes_into(bytearray(4), -(2**63))),
        "recv_bytes maxlength -2**63": outcome(lambda: b.recv_bytes(-(2**63))),
        "poll 2**31 seconds": outcome(lambda: b.poll(2**31)),
        "poll 9.3e18 seconds": outcome(lambda: b.poll(9.3e18)),
        "poll inf": outcome(lambda: b.poll(float("inf"))),
        "poll -inf": outcome(lambda: b.poll(float("-inf"))),
        "poll nan": outcome(lambda: b.poll(float("nan"))),
    }
    for handle in (-1, -2, -(2**31)):
        cases[f"handle {handle}: send_bytes"] = with_handle(a, handle, lambda: a.send_bytes(b"x"))
        cases[f"handle {handle}: send"] = with_handle(a, handle, lambda: a.send([1]))
        cases[f"handle {handle}: recv_bytes"] = with_handle(b, handle, lambda: b.recv_bytes())
        cases[f"handle {handle}: recv_bytes maxlength"] = with_handle(b, handle, lambda: b.recv_bytes(10))
        cases[f"handle {handle}: recv_bytes_into"] = with_handle(b, handle, lambda: b.recv_bytes_into(bytearray(4)))
        cases[f"handle {handle}: recv"] = with_handle(b, handle, lambda: b.recv())
        cases[f"handle {handle}: poll(0)"] = with_handle(b, handle, lambda: b.poll(0))
        cases[f"handle {handle}: poll(None)"] = with_handle(b, handle, lambda: b.poll(None))
        cases[f"handle {handle}: poll(1.5)"] = with_handle(b, handle, lambda: b.poll(1.5))
    # A message is still readable after all this: nothing was sent or consumed by mistake.
    a.send_bytes(b"still in step")
    cases["stream still in step"] = outcome(lambda: b.recv_bytes())
    return cases


def native_cases():
    """The native functions called directly (ours only: stock has none)."""
    from multiprocessing_rs import _native

    r, w = os.pipe()
    os.close(w)  # end of file: always readable, so no wait below can block
    cases = {
        "poll 9.3e18 seconds": outcome(lambda: _native.poll(r, 9.3e18)),
        "poll 1.8e19 seconds": outcome(lambda: _native.poll(r, 1.8e19)),
        "poll inf": outcome(lambda: _native.poll(r, float("inf"))),
        "poll -inf": outcome(lambda: _native.poll(r, float("-inf"))),
        "poll -1 None": outcome(lambda: _native.poll(-1, None)),
        "poll -1 0": outcome(lambda: _native.poll(-1, 0.0)),
        "recv_bytes -1": outcome(lambda: _native.recv_bytes(-1, None)),
        "recv_bytes_into -1": outcome(lambda: _native.recv_bytes_into(-1, bytearray(4), 0)),
        "send_bytes -1": outcome(lambda: _native.send_bytes(-1, b"x", 0, None)),
        "send_bytes size 2**63-1": outcome(lambda: _native.send_bytes(-1, b"abcdef", 1, I64_MAX)),
        "send_bytes offset 2**63-1": outcome(lambda: _native.send_bytes(-1, b"abcdef", I64_MAX, I64_MAX)),
    }
    os.close(r)
    return cases


def hostile_length_into():
    """A peer announces 2**63 + 5 bytes (more than fits an i64), sends 3 and closes;
    `recv_bytes_into` must end as the documented end-of-file error, consuming only what came."""
    a, b = Pipe()
    os.write(a.fileno(), b"\xff\xff\xff\xff" + (2**63 + 5).to_bytes(8, "big") + b"abc")
    a.close()
    return {"recv_bytes_into, 2**63 + 5 announced": outcome(lambda: b.recv_bytes_into(bytearray(10)))}


def main():
    import _multiprocessing

    ours = bool(getattr(_multiprocessing, "__multiprocessing_rs__", False))
    report = {"ours": ours, "connection": connection_cases()}
    if ours:
        report["native"] = native_cases()
        report["hostile"] = hostile_length_into()
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
