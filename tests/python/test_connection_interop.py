"""Our `multiprocessing.connection` talks to real stock CPython peers, in both directions.

A `Listener` in a process under the override serves stock 3.11 and 3.13 `Client`s started with
`python -E` (so they cannot see the override; each side reports what it runs, and the test
checks it), and a `Client` under the override connects to stock 3.11 and 3.13 `Listener`s,
over AF_INET, AF_UNIX paths and AF_UNIX abstract names. 3.11 speaks the legacy handshake and
3.13 the modern one, and ours on 3.11 and on 3.13 meets both. Messages of 0, 1, 16384, 16385
bytes and 5 MiB go each way with their content checked on both sides, through
`send_bytes`/`recv_bytes` and through `send`/`recv` of a pickled object. A wrong authkey must
raise `AuthenticationError` on both sides within a second, with the same messages as between
two stock peers of the same versions. Every side runs `scripts/connection_peer.py`.
"""

import json
import os
import uuid

import pytest

from conftest import Peer, script

KEY = bytes(range(32)).hex()
WRONG_KEY = bytes(range(1, 33)).hex()
SIZES = [0, 1, 16384, 16385, 5 << 20]
INTACT = [[n, True] for n in SIZES]
#: (version under the override, stock version): every pairing of the two handshake dialects.
PAIRS = [("3.11", "3.11"), ("3.11", "3.13"), ("3.13", "3.11"), ("3.13", "3.13")]
FAMILIES = ["inet", "unix", "abstract"]


def expect_identity(report, version, ours):
    place = "multiprocessing_rs" if ours else "multiprocessing"
    assert {k: v for k, v in report.items() if k not in ("event", "address")} == {
        "version": version,
        "ignore_environment": 0 if ours else 1,
        "patched": ours,
        "send_bytes": place,
        "recv_bytes": place,
        "deliver_challenge": place,
        "answer_challenge": place,
    }


@pytest.fixture
def peer_script():
    return script("connection_peer.py")


def place_for(family, tmp_path):
    """Where an AF_UNIX listener lives: a socket file in tmp_path, or a fresh abstract name."""
    if family == "unix":
        path = tmp_path / "listener.sock"
        assert len(os.fsencode(path)) < 100, "an AF_UNIX path must fit in sun_path"
        return str(path)
    return f"mprs-test-{os.getpid()}-{uuid.uuid4().hex}"


def start_listener(version, ours, family, key, peer_script, tmp_path):
    place = place_for(family, tmp_path)
    args = [peer_script, "listen", family, key, place]
    listener = Peer(version, args if ours else ["-E", *args], ours=ours)
    announced = listener.event()
    assert announced["event"] == "listening", announced
    expect_identity(announced, version, ours)
    if family == "unix":
        assert announced["address"] == {"unix": place} and os.path.exists(place)
    elif family == "abstract":
        assert announced["address"] == {"abstract": place}
    return listener, json.dumps(announced["address"]), place


def start_client(version, ours, address, key, peer_script):
    args = [peer_script, "connect", address, key]
    client = Peer(version, args if ours else ["-E", *args], ours=ours)
    first = client.event()
    assert first["event"] == "identity", first
    expect_identity(first, version, ours)
    return client


def exchange(listener, client):
    """Both sides of a successful session: every message echoed intact, then a clean end."""
    accepted, connected = listener.event(), client.event()
    assert accepted["event"] == "accepted" and connected["event"] == "connected", (accepted, connected)
    assert client.event(60) == {"event": "done", "echoed": INTACT, "objects": INTACT}
    assert listener.event(60) == {"event": "done", "received": INTACT, "objects": INTACT, "eof": True}
    assert client.finish() == 0, client.stderr()
    assert listener.finish() == 0, listener.stderr()


def echo_session(listener_version, listener_ours, client_version, client_ours, family, peer_script, tmp_path):
    """A whole successful session (see `exchange`), then no socket file left behind."""
    listener, address, place = start_listener(listener_version, listener_ours, family, KEY, peer_script, tmp_path)
    with listener:
        with start_client(client_version, client_ours, address, KEY, peer_script) as client:
            exchange(listener, client)
    assert not os.path.exists(place), "the listener's socket file outlived it"


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("ours_version, stock_version", PAIRS)
def test_our_listener_serves_a_stock_client(peer_script, tmp_path, family, ours_version, stock_version):
    echo_session(ours_version, True, stock_version, False, family, peer_script, tmp_path)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("ours_version, stock_version", PAIRS)
def test_our_client_uses_a_stock_listener(peer_script, tmp_path, family, ours_version, stock_version):
    echo_session(stock_version, False, ours_version, True, family, peer_script, tmp_path)


def wrong_key_session(listener_version, listener_ours, client_version, client_ours, peer_script, tmp_path):
    """Both sides' reports when the client has the wrong key: [listener's, client's]."""
    listener, address, _ = start_listener(listener_version, listener_ours, "inet", KEY, peer_script, tmp_path)
    with listener:
        with start_client(client_version, client_ours, address, WRONG_KEY, peer_script) as client:
            reports = [listener.event(), client.event()]
            assert client.finish() == 0, client.stderr()
            assert listener.finish() == 0, listener.stderr()
    return reports


_stock_failures = {}


@pytest.mark.parametrize("ours_side", ["listener", "client"])
@pytest.mark.parametrize("ours_version, stock_version", PAIRS)
def test_a_wrong_authkey_fails_on_both_sides_within_a_second(
    peer_script, tmp_path, ours_side, ours_version, stock_version
):
    if ours_side == "listener":
        versions = (ours_version, stock_version)
        reports = wrong_key_session(ours_version, True, stock_version, False, peer_script, tmp_path)
    else:
        versions = (stock_version, ours_version)
        reports = wrong_key_session(stock_version, False, ours_version, True, peer_script, tmp_path)
    for side, report in zip(("listener", "client"), reports):
        assert report["event"] == "auth failed", (side, report)
        assert report["type"] == "multiprocessing.context.AuthenticationError", (side, report)
        assert report["seconds"] < 1.0, (side, report)
    assert [r["message"] for r in reports] == ["digest received was wrong", "digest sent was rejected"]
    # The same session between two stock peers of the same versions fails with the same words.
    if versions not in _stock_failures:
        _stock_failures[versions] = wrong_key_session(versions[0], False, versions[1], False, peer_script, tmp_path)
    stock = _stock_failures[versions]
    assert [(r["event"], r["type"], r["message"]) for r in reports] == [
        (r["event"], r["type"], r["message"]) for r in stock
    ]
