"""`multiprocessing.connection.Connection` behaves the same under the override as on stock.

One script (`scripts/connection_battery.py`) plays every scenario with `Pipe()` connections
and writes down what each step returned or raised (exception type, message, args, errno), plus
the raw bytes our sender put on the wire. It runs once per CPython version on the stock module
and once under the override, and every scenario is compared step by step: ours must give
exactly stock's results.
The script also reports whether the Rust transport was really in use, so a silently unpatched
run cannot pass as "ours". A few steps are also checked against the wire facts of the spec, so
that stock and ours agreeing on a wrong answer would still fail.

A second (`scripts/connection_workload.py`) runs a `Queue`, a `Pool` and a `Manager` under
spawn and fork, and has every child process report which `Connection` code it runs.
"""

import pytest

from conftest import INTERPRETERS, BackgroundRuns, script

SCENARIOS = [
    "pipe_duplex",
    "pipe_simplex",
    "send_offset_and_size",
    "send_buffer_types",
    "wire_format",
    "recv_maxlength",
    "recv_bytes_into",
    "closed_connection",
    "end_of_file",
    "raw_frames",
    "poll_behaviour",
    "objects",
    "subclass",
    "os_errors",
    "signals",
]


@pytest.fixture(scope="module")
def batteries():
    """The battery's report per (version, ours): every run starts at once, on first use."""
    with BackgroundRuns() as runs:
        for v in sorted(INTERPRETERS):
            for ours in (False, True):
                runs.start((v, ours), v, [script("connection_battery.py")], ours=ours)
        yield runs


@pytest.fixture
def both(version, batteries):
    return batteries.report((version, False)), batteries.report((version, True))


def test_the_battery_knows_every_scenario(both):
    stock, ours = both
    assert sorted(stock["scenarios"]) == sorted(SCENARIOS)
    assert sorted(ours["scenarios"]) == sorted(SCENARIOS)


def test_ours_runs_on_the_rust_transport_and_stock_does_not(both):
    stock, ours = both
    assert stock["transport"] == {
        "patched": False,
        "recv_bytes": "multiprocessing",
        "send_bytes": "multiprocessing",
        "deliver_challenge": "multiprocessing",
        "qualname": "_ConnectionBase.recv_bytes",
        "module": "multiprocessing.connection",
    }
    assert ours["transport"] == {
        "patched": True,
        "recv_bytes": "multiprocessing_rs",
        "send_bytes": "multiprocessing_rs",
        "deliver_challenge": "multiprocessing_rs",
        "qualname": "Connection.recv_bytes",
        "module": "multiprocessing.connection",
    }


@pytest.mark.parametrize("name", SCENARIOS)
def test_same_results_as_stock(both, name):
    stock, ours = both
    stock_steps, our_steps = stock["scenarios"][name], ours["scenarios"][name]
    assert [label for label, _ in our_steps] == [label for label, _ in stock_steps]
    differences = [(label, s, o) for (label, s), (_, o) in zip(stock_steps, our_steps) if s != o]
    assert not differences, "\n".join(f"{label}:\n  stock {s}\n  ours  {o}" for label, s, o in differences)
    assert all(label != "scenario died" for label, _ in stock_steps), stock_steps[-1]


def steps_of(result, name):
    return dict(result["scenarios"][name])


def raised(message, type_="builtins.OSError"):
    return lambda outcome: outcome.get("raised", {}).get("type") == type_ and outcome["raised"]["str"] == message


def test_results_match_the_wire_facts(both):
    """The parts of the spec that do not depend on who is right: ours gives them (and, since
    the test above compares, so does stock)."""
    _, ours = both
    raw = steps_of(ours, "raw_frames")
    assert raw["escape for a small payload"] == {"value": "bytes:b'hello'"}
    assert raw["fffffffe is empty, only the header is read"] == {"value": "(bytes:b'', bytes:b'hi')"}
    assert raw["escape with maxlength"]["raised"]["str"] == "bad message length"
    assert raw["empty send is one frame"] == {"value": "str:'00000000'"}
    wire = steps_of(ours, "wire_format")
    assert wire["send_bytes of 3"] == {"value": "str:'0000000378797a'"}
    assert wire["send_bytes of 16385"]["value"].startswith("str:'00004001")
    eof = steps_of(ours, "end_of_file")
    assert eof["recv_bytes after nothing"]["raised"]["type"] == "builtins.EOFError"
    assert raised("got end of file during message")(eof["recv_bytes after 0000000568656c6c"])
    assert eof["recv_bytes after 00000005"]["raised"]["type"] == "builtins.EOFError"
    sent = steps_of(ours, "send_offset_and_size")
    for label, message in [
        ("send_bytes(-1, None)", "offset is negative"),
        ("send_bytes(11, None)", "buffer length < offset"),
        ("send_bytes(0, -1)", "size is negative"),
        ("send_bytes(3, 8)", "buffer length < offset + size"),
    ]:
        assert raised(message, "builtins.ValueError")(sent[label]), (label, sent[label])
    assert sent["send_bytes(3, 4)"] == {"value": "str:'0000000433343536'"}
    buffers = steps_of(ours, "send_buffer_types")
    assert buffers["array i offset=4 size=8"] == {"value": "str:'000000080200000003000000'"}
    maxlength = steps_of(ours, "recv_maxlength")
    assert raised("bad message length")(maxlength["too long (duplex)"])
    assert maxlength["state after"] == {"value": "(bool:False, bool:True, bool:False)"}
    assert maxlength["payload left unread"] == {"value": "bytes:b'0123456789'"}
    assert maxlength["simplex state after"] == {"value": "(bool:True, bool:False, bool:True)"}
    assert raised("handle is closed")(maxlength["simplex recv after"])
    assert raised("negative maxlength", "builtins.ValueError")(maxlength["negative"])
    into = steps_of(ours, "recv_bytes_into")
    assert into["too short carries the whole message"]["raised"] == {
        "type": "multiprocessing.context.BufferTooShort",
        "str": "b'0123456789A'",
        "args": "(bytes:b'0123456789A')",
    }
    assert into["message consumed, buffer untouched"] == {"value": "(bool:False, bytes:b'abc\\x00xyz\\x0012')"}
    assert raised("negative offset", "builtins.ValueError")(into["negative offset"])
    assert raised("offset too large", "builtins.ValueError")(into["offset too large"])
    closed = steps_of(ours, "closed_connection")
    assert raised("handle is closed")(closed["recv_bytes"]) and raised("handle is closed")(closed["send_bytes"])
    simplex = steps_of(ours, "pipe_simplex")
    assert raised("connection is read-only")(simplex["reader send_bytes"])
    assert raised("connection is write-only")(simplex["writer recv_bytes"])
    sig = steps_of(ours, "signals")
    assert sig["benign handler during recv_bytes"] == {"value": "(NoneType:None, bytes:b'after the signal', int:1)"}
    assert sig["benign handler in the middle of a message"]["value"].endswith("bytes:b'abcdefghij', int:1)")
    assert raised("raised by the SIGUSR1 handler", "builtins.RuntimeError")(sig["raising handler during recv_bytes"])
    assert sig["the blocked send arrived whole"] == {"value": "(int:1, bool:True)"}
    poll = steps_of(ours, "poll_behaviour")
    assert poll["timeout 0.2"] == {"value": "(bool:False, bool:True, bool:True)"}
    assert poll["message arrives during the wait"] == {"value": "(bool:True, bool:True, bytes:b'late')"}


@pytest.mark.parametrize("version", ["3.11", "3.13"])
def test_queue_pool_and_manager_run_on_our_transport(version):
    methods = ["spawn", "fork"]
    with BackgroundRuns() as runs:
        for ours in (False, True):
            runs.start(ours, version, [script("connection_workload.py"), *methods], ours=ours)
        results = {ours: runs.report(ours) for ours in (False, True)}
    for ours, expected in [(False, "False:multiprocessing"), (True, "True:multiprocessing_rs")]:
        result = results[ours]
        assert result["parent"] == expected
        for method in methods:
            r = result[method]
            assert r["queue"] == {"intact": True, "transports": [expected], "exitcode": 0}
            assert r["pool"] == {"squares": [x * x for x in range(20)], "big": 3 << 20, "transports": [expected]}
            assert r["manager"] == {
                "blob": True,
                "n": 6,
                "list": [0, 1, 2, 3, 4, 5],
                "server transport": expected,
                "server is another process": True,
            }
