"""`Connection.poll(timeout)` while the clock fails for the extension (the LD_PRELOAD library
in `tests/python/preload/`): the Rust panic this provokes must come back as an exception, and
the process go on. Prints one JSON document: the exception's type and message, and a message
sent and received afterwards."""

import json
import multiprocessing


def main():
    a, b = multiprocessing.Pipe()
    try:
        a.poll(0.5)
        caught = None
    except BaseException as exc:  # PanicException derives from BaseException
        caught = [type(exc).__name__, str(exc)]
    a.send("after the panic")
    return {"caught": caught, "then": b.recv()}


if __name__ == "__main__":
    print(json.dumps(main()))
