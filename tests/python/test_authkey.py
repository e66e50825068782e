"""`current_process().authkey` never shows its bytes under the override, in parents and children."""

import textwrap

import pytest

from conftest import run_json

CENSORED = "<AuthenticationString: censored for security reasons>"

SHOW_THE_KEY = textwrap.dedent(
    """
    import hmac, io, json, logging, multiprocessing, pickle, traceback

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
            "repr": repr(key), "str": str(key), "fstring": f"{key}", "percent": "%s" % (key,),
            "format": "{}".format(key), "log": log.getvalue(), "traceback": tb,
            "leaks": any(
                secret in (repr(key) + str(key) + log.getvalue() + tb)
                for secret in (key.hex(), repr(bytes(key))[2:-1])
            ),
            "is_bytes": isinstance(key, bytes), "equal_to_plain": key == bytes(key),
            "hmac_same": hmac.new(key, b"m", "sha256").digest() == hmac.new(bytes(key), b"m", "sha256").digest(),
            "pickle_refused": refused, "key_hex": key.hex(),
        }

    def child(q):
        q.put(renderings())

    if __name__ == "__main__":
        result = {"parent": renderings()}
        for method in ("spawn", "forkserver", "fork"):
            ctx = multiprocessing.get_context(method)
            q = ctx.Queue()
            p = ctx.Process(target=child, args=(q,))
            p.start()
            result[method] = q.get(timeout=60)
            p.join()
        print(json.dumps(result))
    """
)


@pytest.fixture(scope="module")
def shown(tmp_path_factory):
    script = tmp_path_factory.mktemp("authkey") / "show.py"
    script.write_text(SHOW_THE_KEY)
    return {
        version: {ours: run_json(version, [str(script)], ours=ours) for ours in (False, True)}
        for version in ("3.11", "3.13")
    }


@pytest.mark.parametrize("process", ["parent", "spawn", "forkserver", "fork"])
@pytest.mark.parametrize("version", ["3.11", "3.13"])
def test_the_key_is_censored_everywhere_under_the_override(shown, version, process):
    seen = shown[version][True][process]
    for rendering in ("repr", "str", "fstring", "percent", "format"):
        assert seen[rendering] == CENSORED, rendering
    assert seen["log"] == f"key={CENSORED} repr={CENSORED}\n"
    assert CENSORED in seen["traceback"]
    assert not seen["leaks"]


@pytest.mark.parametrize("version", ["3.11", "3.13"])
def test_stock_leaks_the_key_which_is_why_this_exists(shown, version):
    stock = shown[version][False]["parent"]
    assert stock["leaks"], "stock repr() shows the key bytes"


@pytest.mark.parametrize("version", ["3.11", "3.13"])
def test_it_is_still_the_same_key_as_bytes(shown, version):
    for ours in (False, True):
        runs = shown[version][ours]
        parent = runs["parent"]
        assert parent["is_bytes"] and parent["equal_to_plain"] and parent["hmac_same"]
        # Children inherit the parent's key, whichever way they were started.
        assert {runs[m]["key_hex"] for m in ("spawn", "forkserver", "fork")} == {parent["key_hex"]}


@pytest.mark.parametrize("version", ["3.11", "3.13"])
def test_pickling_is_refused_with_the_stock_message(shown, version):
    stock_message = shown[version][False]["parent"]["pickle_refused"]
    assert stock_message == "Pickling an AuthenticationString object is disallowed for security reasons"
    for process in ("parent", "spawn", "forkserver", "fork"):
        assert shown[version][True][process]["pickle_refused"] == stock_message
