"""A `Listener` with an authkey survives hostile peers and still lets the right client in.

`scripts/hostile_listener.py` serves `accept()` in a loop while peers connect one after another
with random bytes, huge announced lengths (2**31-1, 2**62, 2**64-1), truncated frames and
headers, malformed and forged answers, nothing at all, and then a client with the wrong key and
one with the right key. On stock and under the override, in both dialects of the handshake, each
`accept()` must fail exactly as on stock, each peer must be closed on (not left waiting), the
wrong key must be refused on both sides, and the right client must get in. A huge announcement
must cost the listener nothing (stock reads only 256 bytes of a handshake message, too).
"""

from pathlib import Path

from conftest import run_json_both

SCRIPT = Path(__file__).parent / "scripts" / "hostile_listener.py"


def test_hostile_peers_fail_as_on_stock_and_the_right_client_gets_in(version):
    stock, ours = run_json_both(version, [str(SCRIPT)], timeout=300)
    assert ours["listener saw"] == stock["listener saw"]
    assert ours["peers saw"] == stock["peers saw"]
    assert ours["right client got"] == stock["right client got"] == "welcome in"
    assert ours["listener saw"]["right client"] == {"accepted": "right client"}
    assert ours["listener saw"]["wrong key"]["raised"]["type"].endswith("AuthenticationError")
    assert ours["peers saw"]["wrong key"]["client raised"]["type"].endswith("AuthenticationError")
    hostile = [name for name in ours["peers saw"] if name != "wrong key"]
    for name in hostile:
        assert "raised" in ours["listener saw"][name], name
        assert ours["peers saw"][name]["listener closed"], name
    assert ours["peak memory growth MiB"] < 32
