"""The handshake under the override gives stock's results, word for word, on every version.

`scripts/handshake_scenarios.py` drives `deliver_challenge`, `answer_challenge` and (3.12+)
`_create_response`/`_verify_challenge` over a scripted connection object, with good and hostile
peers: what they send (the deliverer's random challenge by its shape), the `maxlength` they
receive with, their signatures and every exception (type, arguments, context) must be stock's.
That includes the 3.12/3.13.0 "challenge too short" message, whose missing f-prefix comes from
the running interpreter's own code, and the 3.10/3.11 `assert` that `python -O` skips.
"""

import os

import pytest

from conftest import run_json_both, script


@pytest.fixture(scope="module", params=["", "-O"])
def optimize(request):
    return request.param


_runs = {}


def results(version, optimize):
    if (version, optimize) not in _runs:
        env = dict(os.environ, PYTHONOPTIMIZE="1") if optimize else None
        _runs[version, optimize] = run_json_both(version, [script("handshake_scenarios.py")], env=env)
    return _runs[version, optimize]


def test_ours_is_what_runs(version, optimize):
    stock, ours = results(version, optimize)
    assert stock["optimize"] == ours["optimize"] == (1 if optimize else 0)
    assert {where for *_, where in stock["signatures"].values()} == {"stock"}
    assert {where for *_, where in ours["signatures"].values()} == {"multiprocessing_rs"}


def test_signatures_and_docstrings_are_stocks(version, optimize):
    stock, ours = results(version, optimize)
    strip = lambda signatures: {name: sig[:3] for name, sig in signatures.items()}  # noqa: E731
    assert strip(ours["signatures"]) == strip(stock["signatures"])


@pytest.mark.parametrize("part", ["answers", "deliveries", "helpers"])
def test_same_outcomes_as_stock(version, optimize, part):
    stock, ours = results(version, optimize)
    assert sorted(ours[part]) == sorted(stock[part])
    for name in stock[part]:
        assert ours[part][name] == stock[part][name], name


def test_the_outcomes_are_the_documented_ones(version, optimize):
    """A few facts, so that the comparison cannot pass on two equally wrong results."""
    stock, ours = results(version, optimize)
    modern = version >= "3.12"
    answers, deliveries = ours["answers"], ours["deliveries"]
    assert "raised" not in answers["modern challenge"]
    assert answers["legacy challenge"]["maxlengths"] == [256, 256]
    assert deliveries["right answer"]["sent"] == [
        "challenge {sha256} + 59 bytes" if modern else "b'#CHALLENGE#' + 31 bytes",
        "b'#WELCOME#' + 9 bytes",
    ]
    assert "raised" not in deliveries["right answer"]
    wrong = deliveries["wrong key"]
    assert wrong["sent"][1] == "b'#FAILURE#' + 9 bytes"
    assert wrong["raised"]["args"] == "('digest received was wrong',)"
    # 3.12+ sends #FAILURE# while handling the AuthenticationError; 3.11 before raising it.
    assert deliveries["failure cannot be sent"]["raised"] == {
        "type": "builtins.BrokenPipeError",
        "args": "(32, 'Broken pipe')",
        **({"context": "AuthenticationError"} if modern else {}),
    }
    not_a_challenge = answers["not a challenge"]
    if modern:
        message = b"hello'\x00\xff\""
        assert not_a_challenge["raised"]["args"] == repr((f"Protocol error, expected challenge: {message=}",))
        too_short = answers["challenge too short"]["raised"]["args"]
        # 3.12.1 and 3.13.0, the interpreters here, lack the f-prefix.
        assert too_short == "('challenge too short: {len(message)} bytes',)"
    elif optimize:
        assert "raised" not in not_a_challenge, "python -O skips the assert"
    else:
        assert not_a_challenge["raised"]["type"] == "builtins.AssertionError"


def test_the_too_short_wording_follows_the_interpreters_code():
    """3.12 and 3.13.0 show `{len(message)}` as written; the releases that fixed the f-string
    (3.14, probably later 3.13.x), not installed here, interpolate: both read from stock's code."""
    from multiprocessing import AuthenticationError

    from multiprocessing_rs import _native
    from multiprocessing_rs._connection import _challenge_too_short

    namespace = {}
    exec(
        "def fixed(message):\n    raise E(f'challenge too short: {len(message)} bytes')\n"
        "def unfixed(message):\n    raise E('challenge too short: {len(message)} bytes')\n",
        namespace,
    )
    fixed, unfixed = _challenge_too_short(namespace["fixed"]), _challenge_too_short(namespace["unfixed"])
    assert fixed(19) == "challenge too short: 19 bytes"
    assert unfixed(19) == "challenge too short: {len(message)} bytes"
    answerer = _native.Answerer(b"key", False, fixed)
    with pytest.raises(AuthenticationError) as raised:
        answerer.respond(b"#CHALLENGE#" + bytes(7))
    assert raised.value.args == ("challenge too short: 7 bytes",)
