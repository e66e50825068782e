"""`current_process().authkey` never shows its bytes under the override, in parents and children."""

import pytest

from conftest import run_json, script

CENSORED = "<AuthenticationString: censored for security reasons>"


@pytest.fixture(scope="module")
def shown():
    renderings = script("authkey_renderings.py")
    return {
        version: {ours: run_json(version, [renderings], ours=ours) for ours in (False, True)}
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
