"""A peer that announces more than it sends cannot make our receiver allocate it.

A process under the override reads frames that announce 2**62 bytes (the -1 escape and an
8-byte length of 0x4000000000000000) or 2**31-1 bytes, then get a few bytes, 8 MiB or nothing
before the peer closes. `recv_bytes` (and `recv_bytes_into`, `recv`) must fail as stock does
at end of file (OSError 'got end of file during message', or EOFError if no payload byte came),
and the process's peak resident memory (VmHWM) and peak address space (VmPeak) must grow by
less than 64 MiB. With `maxlength` (as the handshake uses) a 2**62 announcement must raise
'bad message length' without reading the payload, in a Listener's accept() and a Client too.

Stock 3.11-3.13 read a payload with os.read(fd, remaining), which allocates the announced size
at once, so stock is never run against a huge announcement: the same frames announcing 16 MiB
give stock's outcome, and ours must give the same on both. The maxlength cases are safe for
stock (it checks the length before reading) and run on both.
"""

import socket
import time

import pytest

from conftest import INTERPRETERS, BackgroundRuns, Peer, script

MIB = 1024
#: What a hostile frame may cost the receiver, at most.
BUDGET_KIB = 64 * MIB

#: Ours only (stock would allocate the announcement), each in a process of its own so that
#: its memory peaks are its own. The second name is the frame stock can safely get instead,
#: which must end the same way.
OURS_ONLY = {
    "2**62, 3 bytes": "16 MiB, 3 bytes",
    "2**62, nothing": "16 MiB, nothing",
    "2**62, 8 MiB": "16 MiB, 8 MiB",
    "2**62, 3 bytes, recv_bytes_into": "16 MiB, 3 bytes, recv_bytes_into",
    "2**62, 3 bytes, recv": "16 MiB, 3 bytes, recv",
    "2**62, 3 bytes, one-way pipe": "16 MiB, 3 bytes, one-way pipe",
    "2**31-1, 3 bytes": "16 MiB, 3 bytes",
    "2**31-1 escaped, 3 bytes": "16 MiB escaped, 3 bytes",
    "255 MiB, 3 bytes": "16 MiB, 3 bytes",
}
#: Safe on stock: run on both, in one process per (version, implementation).
SHARED = [
    "16 MiB, 3 bytes",
    "16 MiB, nothing",
    "16 MiB, 8 MiB",
    "16 MiB escaped, 3 bytes",
    "16 MiB, 3 bytes, recv_bytes_into",
    "16 MiB, 3 bytes, recv",
    "16 MiB, 3 bytes, one-way pipe",
    "2**62, maxlength 100",
    "2**62, maxlength 100, one-way pipe",
]
OURS_VERSIONS = [v for v in ("3.11", "3.13") if v in INTERPRETERS] or sorted(INTERPRETERS)[-1:]


@pytest.fixture(scope="module")
def runs():
    """Every run of scripts/hostile_frames.py, started at once on first use: per (version,
    ours) the SHARED cases, and per case of OURS_ONLY a process of its own."""
    frames = script("hostile_frames.py")
    with BackgroundRuns() as runs:
        for version in sorted(INTERPRETERS):
            for ours in (False, True):
                runs.start((version, ours, "shared"), version, [frames, *SHARED], ours=ours)
        for version in OURS_VERSIONS:
            for case in OURS_ONLY:
                runs.start((version, True, case), version, [frames, case], ours=True)
        yield runs


def hostile(runs, version, ours, what):
    """The cases' reports of the run `what` ("shared" or a case name)."""
    report = runs.report((version, ours, what))
    assert report["transport"] == ("multiprocessing_rs" if ours else "multiprocessing"), report
    return report["cases"]


@pytest.mark.parametrize("case", SHARED)
def test_safe_frames_end_as_on_stock(runs, version, case):
    stock = hostile(runs, version, False, "shared")[case]
    ours = hostile(runs, version, True, "shared")[case]
    assert (ours["outcome"], ours["state"]) == (stock["outcome"], stock["state"])
    assert ours["hwm_growth_kib"] < BUDGET_KIB, ours


EXPECTED = {
    "16 MiB, 3 bytes": {"raised": {"type": "builtins.OSError", "str": "got end of file during message"}},
    "16 MiB, nothing": {"raised": {"type": "builtins.EOFError", "str": ""}},
    "2**62, maxlength 100": {"raised": {"type": "builtins.OSError", "str": "bad message length"}},
}


def test_the_stock_outcomes_are_the_documented_ones(runs):
    """The spec's rules, seen on stock 3.11 and 3.13 themselves (so the comparisons above and
    below hold ours to the right thing)."""
    for version in OURS_VERSIONS:
        stock = hostile(runs, version, False, "shared")
        for case, outcome in EXPECTED.items():
            assert stock[case]["outcome"] == outcome, (version, case)
        assert stock["2**62, maxlength 100"]["state"] == {"readable": False, "closed": False, "left": "abc"}
        assert stock["2**62, maxlength 100, one-way pipe"]["state"] == {"readable": True, "closed": True}


@pytest.mark.parametrize("case", list(OURS_ONLY))
@pytest.mark.parametrize("ours_version", OURS_VERSIONS)
def test_a_huge_announcement_costs_only_what_arrived(runs, ours_version, case):
    ours = hostile(runs, ours_version, True, case)[case]
    stock = hostile(runs, ours_version, False, "shared")[OURS_ONLY[case]]
    assert (ours["outcome"], ours["state"]) == (stock["outcome"], stock["state"])
    assert ours["seconds"] < 10, ours
    assert ours["hwm_growth_kib"] < BUDGET_KIB, ours
    if not case.startswith("255 MiB"):
        # Not even address space: the buffer grows with the data. (Up to 256 MiB, ours
        # allocates the announced size untouched, which the kernel backs only as it is written.)
        assert ours["peak_growth_kib"] < BUDGET_KIB, ours


def test_maxlength_refuses_a_huge_announcement_without_reading(runs):
    for version in OURS_VERSIONS:
        ours = hostile(runs, version, True, "shared")
        assert ours["2**62, maxlength 100"]["outcome"] == EXPECTED["2**62, maxlength 100"]
        assert ours["2**62, maxlength 100"]["state"]["left"] == "abc"
        assert ours["2**62, maxlength 100"]["seconds"] < 1


HUGE_FRAME = b"\xff\xff\xff\xff" + (2**62).to_bytes(8, "big")


def recv_frame(sock):
    """One whole frame from a raw socket (4-byte header only; the handshake's are small)."""

    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            assert chunk, "the peer closed"
            data += chunk
        return data

    return exactly(int.from_bytes(exactly(4), "big"))


def huge_frame_to(peer, sock):
    """Sends the 2**62 announcement (and 3 bytes) on `sock`; returns the tested side's report of
    what came of it, with the seconds it took."""
    start = time.monotonic()
    sock.sendall(HUGE_FRAME + b"abc")
    result = peer.event()
    result["seconds"] = time.monotonic() - start
    return result


def handshake_against_a_hostile_peer(version, ours, role, script):
    """A Listener (role "listen") or Client under test, and this process as the hostile peer
    that answers the first challenge with a 2**62 announcement. Returns the tested side's
    report and the first frame it sent us (its challenge, for a Listener)."""
    if role == "listen":
        with Peer(version, [script, "listen"], ours=ours) as peer:
            first = peer.event()
            with socket.create_connection(("127.0.0.1", first["port"]), timeout=30) as sock:
                challenge = recv_frame(sock)
                result = huge_frame_to(peer, sock)
            assert peer.finish() == 0, peer.stderr()
        return first, result, challenge
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(30)
        with Peer(version, [script, "connect", str(server.getsockname()[1])], ours=ours) as peer:
            first = peer.event()
            sock, _ = server.accept()
            with sock:
                result = huge_frame_to(peer, sock)
            assert peer.finish() == 0, peer.stderr()
    return first, result, None


@pytest.mark.parametrize("role", ["listen", "connect"])
@pytest.mark.parametrize("version", OURS_VERSIONS)
def test_the_handshake_refuses_a_huge_frame(version, role):
    handshake = script("hostile_handshake.py")
    reports = {ours: handshake_against_a_hostile_peer(version, ours, role, handshake) for ours in (False, True)}
    for ours, (first, result, challenge) in reports.items():
        assert first["handshake"] == ("multiprocessing_rs" if ours else "multiprocessing")
        assert result["outcome"] == {"raised": {"type": "builtins.OSError", "str": "bad message length"}}, (
            ours,
            result,
        )
        assert result["seconds"] < 1 and result["hwm_growth_kib"] < BUDGET_KIB, (ours, result)
        if role == "listen":
            # The challenge is the one of the interpreter's dialect: legacy (3.11) or modern.
            modern = tuple(map(int, version.split("."))) >= (3, 12)
            assert challenge.startswith(b"#CHALLENGE#{sha256}" if modern else b"#CHALLENGE#"), challenge
            assert len(challenge) == (59 if modern else 31), challenge
