"""A sender killed in the middle of a large message gives the receiver stock's error, at once.

The same scenarios run on stock and under the override (`scripts/sender_killed.py`): over a
pipe and a socket pair, with `recv_bytes`, `recv_bytes_into` and `recv`, the receive started
after the kill or already blocked when it comes, and a sender killed before sending anything.
Each must end as on stock (OSError "got end of file during message" inside a message, EOFError
before one), and none may hang.
"""

from pathlib import Path

from conftest import run_json_both

SCRIPT = Path(__file__).parent / "scripts" / "sender_killed.py"


def test_the_receiver_gets_stocks_error(version):
    stock, ours = run_json_both(version, [str(SCRIPT)], timeout=300)
    assert ours == stock
    for name, result in stock.items():
        assert result["exit code"] == -9, name
        if "before sending" in name:
            assert result["raised"] == {"type": "builtins.EOFError", "str": ""}, name
        else:
            assert result["raised"] == {"type": "builtins.OSError", "str": "got end of file during message"}, name
