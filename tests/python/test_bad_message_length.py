"""A message over `maxlength` ends as stock's does under the override: the native receive
raises `BadMessageLength` (no sentinel value), and the wrapper calls the connection's own
`_bad_message_length()` (a replaced one included), so stock's `OSError('bad message length')`
results, with no exception context, and the connection is left as stock leaves it."""

from conftest import run_json_both, script


def test_bad_message_length_runs_the_connections_hook(version):
    stock, ours = run_json_both(version, [script("bad_message_length.py")])
    assert (stock.pop("transport"), ours.pop("transport")) == (False, True)
    assert ours == stock
    assert ours["calls"] == ["called"], "the replaced hook ran"
    assert ours["default"]["raised"] == {"type": "OSError", "args": "('bad message length',)", "context": None}
    assert ours["default"]["state"] == [False, False, True], "a duplex end stops being readable"
    assert ours["private _recv_bytes"]["value"] == "None"
