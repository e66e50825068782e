"""No Rust panic reaches Python, whatever size, offset, descriptor or timeout is given.

Each case once raised `pyo3_runtime.PanicException` (a `BaseException` that `except Exception`
does not catch) under the override: `send_bytes(b"abcdef", 1, 2**63 - 1)` overflowed a slice
range, the native `poll` overflowed an `Instant` from a timeout of about 9.2e18 s, a descriptor
of -1 failed an assertion in `BorrowedFd`, and a frame announcing more than 2**63 bytes
overflowed the room check of `recv_bytes_into`. `Connection` calls must now give exactly stock's
result or exception; the native functions, which stock does not have, the errors stock's
`Connection` gives for the same descriptor (`OSError(EBADF)` to read or write, `ValueError` to
poll) and no panic.
"""

import errno
from pathlib import Path

import pytest

from conftest import run_json_both

SCRIPT = Path(__file__).parent / "scripts" / "extreme_arguments.py"
PANIC = "pyo3_runtime.PanicException"
_REPORTS = {}


@pytest.fixture
def reports(version):
    """(stock, ours) reports of the script on `version`, run once per version."""
    if version not in _REPORTS:
        # A short timeout: a poll(2) of a negative descriptor waits forever, where stock raises.
        _REPORTS[version] = run_json_both(version, [str(SCRIPT)], timeout=60)
    return _REPORTS[version]


def raised(case):
    return case.get("raised", {}).get("type")


def test_connection_calls_end_as_on_stock(reports):
    stock, ours = reports
    assert not stock["ours"] and ours["ours"]
    for name, expected in stock["connection"].items():
        assert ours["connection"][name] == expected, name
    assert ours["connection"]["stream still in step"] == {"value": "b'still in step'"}


def test_native_functions_raise_the_stock_errors_and_never_panic(reports):
    _, ours = reports
    native = ours["native"]
    assert not [name for name, case in native.items() if raised(case) == PANIC]
    for name in ("poll 9.3e18 seconds", "poll 1.8e19 seconds", "poll inf", "poll -inf"):
        assert native[name] == {"value": "True"}, name  # end of file is there to read
    for name in ("poll -1 None", "poll -1 0"):
        assert native[name]["raised"] == {"type": "builtins.ValueError", "str": "Invalid file descriptor: -1"}
    for name in ("recv_bytes -1", "recv_bytes_into -1", "send_bytes -1"):
        assert native[name]["raised"]["type"] == "builtins.OSError"
        assert native[name]["raised"]["errno"] == errno.EBADF
    for name in ("send_bytes size 2**63-1", "send_bytes offset 2**63-1"):
        assert native[name]["raised"]["type"] == "builtins.ValueError", name


def test_an_announcement_beyond_i64_ends_at_end_of_file(reports):
    _, ours = reports
    assert ours["hostile"]["recv_bytes_into, 2**63 + 5 announced"]["raised"] == {
        "type": "builtins.OSError",
        "str": "got end of file during message",
        "errno": None,
    }
