"""A `Connection` subclass that overrides `_send`/`_recv` is called as on stock.

Stock's `send_bytes`, `send`, `recv_bytes`, `recv_bytes_into` and `recv` go through
`_send_bytes`/`_recv_bytes`, which go through `_send`/`_recv`: overriding the last two is how
code traces or counts a connection's bytes. The override must keep every one of those calls for
a subclass (it takes the Rust path only for `Connection` itself). The script records what the
hooks saw, and the two runs must agree exactly.
"""

from pathlib import Path

from conftest import run_json_both

SCRIPT = Path(__file__).parent / "scripts" / "subclass_hooks.py"


def test_send_and_recv_overrides_see_every_byte_as_on_stock(version):
    stock, ours = run_json_both(version, [str(SCRIPT)])
    assert ours["steps"] == stock["steps"]
    assert ours["hooks saw"] == stock["hooks saw"]
    # Stock really calls the hooks (or the comparison above would prove nothing).
    kinds = {entry[0] for entry in stock["hooks saw"]}
    assert kinds == {"_send", "_recv"}
