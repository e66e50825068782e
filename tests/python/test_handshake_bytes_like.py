"""The handshake accepts the messages a `Connection` subclass returns, as stock's does.

Stock's `deliver_challenge`/`answer_challenge` of 3.10 and 3.11 compare and MAC whatever
`recv_bytes` returned, so a subclass returning `bytearray` authenticates (or is refused) as
with `bytes`: ours must end each side of each handshake exactly as stock, with the right key and
a wrong one. From 3.12 stock's digest parsing fails on a `bytearray` (`TypeError: unhashable
type`); ours authenticates it as 3.10 and 3.11 do (an intentional difference, in the README).
"""

from pathlib import Path

from conftest import run_json_both

SCRIPT = Path(__file__).parent / "scripts" / "handshake_bytearray.py"

AUTHENTICATED = {"deliver": "ok", "answer": "ok"}


def test_a_subclass_returning_bytearray_authenticates(version):
    stock, ours = run_json_both(version, [str(SCRIPT)])
    for side in ("deliver", "answer"):
        assert ours[f"{side}, same key"] == AUTHENTICATED
        refused = ours[f"{side}, wrong key"]
        assert refused["deliver"] == ["AuthenticationError", "digest received was wrong"]
        assert refused["answer"] == ["AuthenticationError", "digest sent was rejected"]
    if version in ("3.10", "3.11"):
        assert ours == stock
    else:
        subclass_side = {key: ended[key.split(",")[0]] for key, ended in stock.items()}
        assert all(outcome[0] == "TypeError" for outcome in subclass_side.values()), stock
