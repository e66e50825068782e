"""``multiprocessing.connection`` on the Rust framing and handshake.

``patch(module)`` replaces, on the stock module object:

* the byte transport of POSIX ``Connection`` (``send_bytes``, ``send``, ``recv_bytes``,
  ``recv_bytes_into``, ``recv``, ``_poll``, and the private ``_send_bytes``/``_recv_bytes``)
  with wrappers that keep the stock checks and messages and hand the descriptor to Rust, which
  frames a whole message with no Python-level loop;
* ``deliver_challenge`` and ``answer_challenge`` (and, from 3.12, ``_create_response`` and
  ``_verify_challenge``) with the same message sequence, speaking the dialect of the running
  interpreter, around Rust nonces, MACs and a constant-time comparison.

Everything else stays stock: a subclass of ``Connection``, a buffer that is not one contiguous
run of bytes, or an offset that is not an ``int`` takes the stock code path unchanged.
"""

import io
import sys

from . import _native

_MODERN = sys.version_info >= (3, 12)
_CHALLENGE = b"#CHALLENGE#"
_WELCOME = b"#WELCOME#"
_FAILURE = b"#FAILURE#"
_DIGESTS = frozenset({"md5", "sha256", "sha384", "sha3_256", "sha3_384"})
#: The longest timeout stock's poll(2)-based wait takes: 2**31 - 1 milliseconds, rounded down.
_MAX_POLL_SECONDS = 2147483


def patch(module):
    """Wires the Rust transport and handshake into ``multiprocessing.connection``."""
    if hasattr(_native, "send_bytes"):  # POSIX: Connection is a descriptor
        _patch_transport(module.Connection, module._ForkingPickler)
    _patch_handshake(module)


def _patch_transport(Connection, ForkingPickler):
    stock = {
        name: getattr(Connection, name)
        for name in (
            "send_bytes",
            "send",
            "recv_bytes",
            "recv_bytes_into",
            "recv",
            "_poll",
            "_send_bytes",
            "_recv_bytes",
        )
    }
    native_send, native_recv = _native.send_bytes, _native.recv_bytes
    native_recv_into, native_poll = _native.recv_bytes_into, _native.poll
    loads = ForkingPickler.loads
    from multiprocessing import BufferTooShort

    from ._pickling import ReusedPickler

    dumps = ReusedPickler(ForkingPickler).dumps

    def send_bytes(self, buf, offset=0, size=None):
        """Send the bytes data from a bytes-like object"""
        handle = self._handle
        if handle is None:
            raise OSError("handle is closed")
        if not self._writable:
            raise OSError("connection is read-only")
        if type(self) is not Connection or native_send(handle, buf, offset, size) is NotImplemented:
            stock["send_bytes"](self, buf, offset, size)

    def send(self, obj):
        """Send a (picklable) object"""
        handle = self._handle
        if handle is None:
            raise OSError("handle is closed")
        if not self._writable:
            raise OSError("connection is read-only")
        if type(self) is not Connection:
            return stock["send"](self, obj)
        payload = dumps(obj)
        if native_send(handle, payload, 0, None) is NotImplemented:
            self._send_bytes(payload)

    def recv_bytes(self, maxlength=None):
        """
        Receive bytes data as a bytes object.
        """
        handle = self._handle
        if handle is None:
            raise OSError("handle is closed")
        if not self._readable:
            raise OSError("connection is write-only")
        if maxlength is not None and maxlength < 0:
            raise ValueError("negative maxlength")
        if type(self) is not Connection:
            return stock["recv_bytes"](self, maxlength)
        message = native_recv(handle, maxlength)
        if message is NotImplemented:
            return stock["recv_bytes"](self, maxlength)
        if message is None:
            self._bad_message_length()
        return message

    def recv_bytes_into(self, buf, offset=0):
        """
        Receive bytes data into a writeable bytes-like object.
        Return the number of bytes read.
        """
        handle = self._handle
        if handle is None:
            raise OSError("handle is closed")
        if not self._readable:
            raise OSError("connection is write-only")
        if type(self) is not Connection:
            return stock["recv_bytes_into"](self, buf, offset)
        result = native_recv_into(handle, buf, offset)
        if result is NotImplemented:
            return stock["recv_bytes_into"](self, buf, offset)
        if isinstance(result, bytes):
            raise BufferTooShort(result)
        return result

    def recv(self):
        """Receive a (picklable) object"""
        handle = self._handle
        if handle is None:
            raise OSError("handle is closed")
        if not self._readable:
            raise OSError("connection is write-only")
        if type(self) is not Connection:
            return stock["recv"](self)
        return loads(native_recv(handle, None))

    def _poll(self, timeout):
        # Stock waits with poll(2) in whole milliseconds and raises OverflowError for a timeout
        # beyond a C int of them (or infinite, or NaN), even with a message waiting: those go
        # to stock, as does any timeout that is not a plain int or float.
        if type(self) is Connection and (
            timeout is None or (type(timeout) in (int, float) and timeout <= _MAX_POLL_SECONDS)
        ):
            ready = native_poll(self._handle, timeout)
            if ready is not NotImplemented:
                return ready
        return stock["_poll"](self, timeout)

    def _send_bytes(self, buf):
        if native_send(self._handle, buf, 0, None) is NotImplemented:
            stock["_send_bytes"](self, buf)

    def _recv_bytes(self, maxsize=None):
        message = native_recv(self._handle, maxsize)
        if message is NotImplemented:
            return stock["_recv_bytes"](self, maxsize)
        if message is None:
            return None
        # Positioned at the end, as stock's buffer is after its writes (callers read tell()).
        buf = io.BytesIO(message)
        buf.seek(0, io.SEEK_END)
        return buf

    for function in (send_bytes, send, recv_bytes, recv_bytes_into, recv, _poll, _send_bytes, _recv_bytes):
        function.__qualname__ = f"{Connection.__qualname__}.{function.__name__}"
        function.__module__ = Connection.__module__
        setattr(Connection, function.__name__, function)


def _authkey_error(authkey):
    return ValueError(f"Authkey must be bytes, not {type(authkey)!s}")


def _patch_handshake(module):
    functions = _modern_handshake(module) if _MODERN else _legacy_handshake(module)
    for function in functions:
        function.__module__ = module.__name__
        setattr(module, function.__name__, function)


def _modern_handshake(module):
    """CPython 3.12+: a ``{sha256}`` challenge; answers in any allowed digest are accepted."""
    AuthenticationError = module.AuthenticationError
    challenge, response, verify = _native.auth_challenge, _native.auth_response, _native.auth_verify
    stock_deliver = module.deliver_challenge

    def deliver_challenge(connection, authkey: bytes, digest_name="sha256"):
        if not isinstance(authkey, bytes):
            raise _authkey_error(authkey)
        if digest_name not in _DIGESTS:
            return stock_deliver(connection, authkey, digest_name)
        message = challenge(digest_name)
        connection.send_bytes(_CHALLENGE + message)
        answer = connection.recv_bytes(256)  # reject large message
        try:
            verify(authkey, message, answer, False)
        except AuthenticationError:
            connection.send_bytes(_FAILURE)
            raise
        else:
            connection.send_bytes(_WELCOME)

    def answer_challenge(connection, authkey: bytes):
        if not isinstance(authkey, bytes):
            raise _authkey_error(authkey)
        message = connection.recv_bytes(256)  # reject large message
        if not message.startswith(_CHALLENGE):
            raise AuthenticationError(f"Protocol error, expected challenge: {message=}")
        message = message[len(_CHALLENGE) :]
        if len(message) < 20:
            # The missing f-prefix is stock's (3.12, 3.13): keep the message identical.
            raise AuthenticationError("challenge too short: {len(message)} bytes")
        connection.send_bytes(response(authkey, message, False))
        if connection.recv_bytes(256) != _WELCOME:
            raise AuthenticationError("digest sent was rejected")

    def _create_response(authkey, message):
        return response(authkey, message, False)

    def _verify_challenge(authkey, message, answer):
        verify(authkey, message, answer, False)

    return deliver_challenge, answer_challenge, _create_response, _verify_challenge


def _legacy_handshake(module):
    """CPython 3.10 and 3.11: a bare 20-byte nonce answered with a bare HMAC-MD5."""
    AuthenticationError = module.AuthenticationError
    challenge, response, verify = _native.auth_challenge, _native.auth_response, _native.auth_verify

    def deliver_challenge(connection, authkey):
        if not isinstance(authkey, bytes):
            raise _authkey_error(authkey)
        message = challenge(None)
        connection.send_bytes(_CHALLENGE + message)
        answer = connection.recv_bytes(256)  # reject large message
        try:
            verify(authkey, message, answer, True)
        except AuthenticationError:
            connection.send_bytes(_FAILURE)
            raise
        connection.send_bytes(_WELCOME)

    def answer_challenge(connection, authkey):
        if not isinstance(authkey, bytes):
            raise _authkey_error(authkey)
        message = connection.recv_bytes(256)  # reject large message
        assert message[: len(_CHALLENGE)] == _CHALLENGE, f"message = {message!r}"
        message = message[len(_CHALLENGE) :]
        connection.send_bytes(response(authkey, message, True))
        if connection.recv_bytes(256) != _WELCOME:
            raise AuthenticationError("digest sent was rejected")

    return deliver_challenge, answer_challenge
