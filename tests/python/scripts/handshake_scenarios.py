"""The authentication handshake's outcomes, printed as JSON: run on the stock module and under the
override by `test_handshake_parity.py`, which compares the two.

`deliver_challenge` and `answer_challenge` run over a scripted connection-like object (as stock's
do, they must work over any object with `send_bytes` and `recv_bytes`): what they send, the
`maxlength` they ask for and what they raise are recorded. Nonces are random, so a deliverer's
challenge is recorded by its shape, and the answers to it are computed here from the key.
"""

import hmac
import json
import multiprocessing.connection as mc
import sys

KEY = b"test-authkey-0123456789abcdef!!!"
CHALLENGE, WELCOME, FAILURE = b"#CHALLENGE#", b"#WELCOME#", b"#FAILURE#"
MODERN = sys.version_info >= (3, 12)


class Scripted:
    """A connection that hands out `incoming` in turn (a callable gets what was sent so far and
    returns the message) and records what is sent; `send_error` fails a send of those bytes."""

    def __init__(self, *incoming, send_error=None):
        self.incoming = list(incoming)
        self.sent = []
        self.maxlengths = []
        self.send_error = send_error

    def recv_bytes(self, maxlength=None):
        self.maxlengths.append(maxlength)
        if not self.incoming:
            raise EOFError
        message = self.incoming.pop(0)
        return message(self.sent) if callable(message) else message

    def send_bytes(self, buf):
        if self.send_error is not None and bytes(buf) == self.send_error:
            raise BrokenPipeError(32, "Broken pipe")
        self.sent.append(bytes(buf))


def shape(message):
    """A challenge by its form: prefix, digest and length, not its random bytes."""
    if MODERN and message.startswith(CHALLENGE + b"{"):  # a legacy nonce may start with "{"
        return f"challenge {message[11 : message.index(b'}') + 1].decode()} + {len(message)} bytes"
    return f"{message[:11]!r} + {len(message)} bytes"


def describe(exc):
    d = {"type": f"{type(exc).__module__}.{type(exc).__qualname__}", "args": repr(exc.args)}
    if exc.__context__ is not None:
        d["context"] = type(exc.__context__).__qualname__
    return d


def run(function, conn, *args, show_sent=True):
    try:
        value = function(conn, *args)
    except Exception as exc:
        result = {"raised": describe(exc)}
    else:
        result = {"value": repr(value)}
    result["maxlengths"] = conn.maxlengths
    result["sent"] = [msg.hex() if show_sent else shape(msg) for msg in conn.sent]
    return result


def body(sent):
    """The challenge our deliverer sent, without `#CHALLENGE#`."""
    return sent[0][len(CHALLENGE) :]


def mac(digest, message, key=KEY):
    return hmac.new(key, message, digest).digest()


def answers():
    nonce20, nonce40 = bytes(range(20)), bytes(range(40))
    legacy = CHALLENGE + nonce20
    modern = CHALLENGE + b"{sha256}" + nonce40
    answer = mc.answer_challenge
    return {
        "legacy challenge": run(answer, Scripted(legacy, WELCOME), KEY),
        "modern challenge": run(answer, Scripted(modern, WELCOME), KEY),
        "sha3_384 challenge": run(answer, Scripted(CHALLENGE + b"{sha3_384}" + nonce40, WELCOME), KEY),
        "md5 challenge": run(answer, Scripted(CHALLENGE + b"{md5}" + nonce40, WELCOME), KEY),
        "rejected": run(answer, Scripted(modern, FAILURE), KEY),
        "verdict not bytes": run(answer, Scripted(modern, "#WELCOME#"), KEY),
        "no verdict": run(answer, Scripted(modern), KEY),
        "not a challenge": run(answer, Scripted(b"hello'\x00\xff\"", WELCOME), KEY),
        "empty first message": run(answer, Scripted(b"", WELCOME), KEY),
        "challenge too short": run(answer, Scripted(CHALLENGE + bytes(19), WELCOME), KEY),
        "empty challenge": run(answer, Scripted(CHALLENGE, WELCOME), KEY),
        "unknown digest": run(answer, Scripted(CHALLENGE + b"{unknown}" + bytes(16), WELCOME), KEY),
        "no digest prefix": run(answer, Scripted(CHALLENGE + b"x" * 30, WELCOME), KEY),
        "authkey str": run(answer, Scripted(legacy, WELCOME), "key"),
        "authkey bytearray": run(answer, Scripted(legacy, WELCOME), bytearray(KEY)),
        "authkey bytes subclass": run(answer, Scripted(legacy, WELCOME), type("Key", (bytes,), {})(KEY)),
        "empty authkey": run(answer, Scripted(modern, WELCOME), b""),
    }


def deliveries():
    deliver = mc.deliver_challenge

    def right(sent, key=KEY):
        if not MODERN:
            return mac("md5", body(sent), key)
        return b"{sha256}" + mac("sha256", body(sent), key)

    cases = {
        "right answer": (right,),
        "wrong key": (lambda sent: right(sent, b"another key"),),
        "bare md5 answer": (lambda sent: mac("md5", body(sent)),),
        "bare md5 answer, wrong key": (lambda sent: mac("md5", body(sent), b"another key"),),
        "sha384 answer": (lambda sent: b"{sha384}" + mac("sha384", body(sent)),),
        "short sha256 mac": (b"{sha256}" + bytes(16),),
        "20 bytes": (bytes(20),),
        "unsupported prefix": (b"{sha512}" + bytes(64),),
        "empty answer": (b"",),
        "no answer": (),
    }
    results = {name: run(deliver, Scripted(*incoming), KEY, show_sent=False) for name, incoming in cases.items()}
    wrong = cases["wrong key"]
    results["failure cannot be sent"] = run(deliver, Scripted(*wrong, send_error=FAILURE), KEY, show_sent=False)
    results["authkey str"] = run(deliver, Scripted(right), "key", show_sent=False)
    if MODERN:

        def answer_in_kind(sent):
            """The named digest's MAC if the peer may use it, else a bare MD5 (as 3.11 sends)."""
            name = body(sent)[1 : body(sent).index(b"}")].decode()
            if name in ("md5", "sha256", "sha384", "sha3_256", "sha3_384"):
                return b"{" + name.encode() + b"}" + mac(name, body(sent))
            return mac("md5", body(sent))

        for digest in ("md5", "sha384", "sha3_256", "sha512", None, 3):
            results[f"digest_name={digest!r}"] = run(deliver, Scripted(answer_in_kind), KEY, digest, show_sent=False)
    return results


def helpers():
    """3.12+'s private helpers, on fixed inputs."""
    if not MODERN:
        return {}
    challenge = b"{sha256}" + bytes(range(40))
    good = mc._create_response(KEY, challenge)

    def call(function, *args):
        try:
            return {"value": repr(function(*args))}
        except Exception as exc:
            return {"raised": describe(exc)}

    return {
        "create legacy": call(mc._create_response, KEY, bytes(20)),
        "create sha256": call(mc._create_response, KEY, challenge),
        "create unsupported": call(mc._create_response, KEY, b"{nope}" + bytes(20)),
        "verify good": call(mc._verify_challenge, KEY, challenge, good),
        "verify wrong": call(mc._verify_challenge, KEY, challenge, b"{sha256}" + bytes(32)),
        "verify short": call(mc._verify_challenge, KEY, challenge, b"{sha256}" + bytes(8)),
        "verify md5 of 20": call(mc._verify_challenge, KEY, challenge, bytes(20)),
        "verify unsupported": call(mc._verify_challenge, KEY, challenge, b"no prefix here at all"),
    }


def where(function):
    return "multiprocessing_rs" if "multiprocessing_rs" in function.__code__.co_filename else "stock"


def signatures():
    import inspect

    names = ["deliver_challenge", "answer_challenge"] + (["_create_response", "_verify_challenge"] if MODERN else [])
    return {
        name: [
            str(inspect.signature(getattr(mc, name))),
            getattr(mc, name).__qualname__,
            getattr(mc, name).__doc__,
            where(getattr(mc, name)),
        ]
        for name in names
    }


if __name__ == "__main__":
    print(
        json.dumps(
            {
                "optimize": sys.flags.optimize,
                "signatures": signatures(),
                "answers": answers(),
                "deliveries": deliveries(),
                "helpers": helpers(),
            }
        )
    )
