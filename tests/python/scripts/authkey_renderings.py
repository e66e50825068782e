"""Every way a program might show `current_process().authkey` (repr, str, formatting, a log
line, a traceback, pickling), in the parent and in a child of each start method. Prints one JSON
document; test_authkey.py runs it on stock and under the override."""

import hmac
import io
import json
import logging
import multiprocessing
import pickle
import traceback

from each_start_method import in_a_child_of_each


def renderings():
    key = multiprocessing.current_process().authkey
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    logger = logging.getLogger("authkey-test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.info("key=%s repr=%r", key, key)
    logger.removeHandler(handler)
    try:
        pickle.dumps(key)
        refused = None
    except TypeError as exc:
        refused = str(exc)
    try:
        raise RuntimeError(f"bad key {key!r}")
    except RuntimeError:
        tb = traceback.format_exc()
    return {
        "repr": repr(key),
        "str": str(key),
        "fstring": f"{key}",
        "percent": "%s" % (key,),  # noqa: UP031 (each way of formatting the key is tried)
        "format": "{}".format(key),  # noqa: UP032
        "log": log.getvalue(),
        "traceback": tb,
        "leaks": any(
            secret in (repr(key) + str(key) + log.getvalue() + tb) for secret in (key.hex(), repr(bytes(key))[2:-1])
        ),
        "is_bytes": isinstance(key, bytes),
        "equal_to_plain": key == bytes(key),
        "hmac_same": hmac.new(key, b"m", "sha256").digest() == hmac.new(bytes(key), b"m", "sha256").digest(),
        "pickle_refused": refused,
        "key_hex": key.hex(),
    }


if __name__ == "__main__":
    parent = renderings()
    print(json.dumps({"parent": parent, **in_a_child_of_each(["spawn", "forkserver", "fork"], renderings)}))
