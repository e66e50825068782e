"""``multiprocessing.connection`` on the Rust framing and handshake.

``patch(module)`` replaces, on the stock module object:

* the byte transport of POSIX ``Connection`` (``send_bytes``, ``send``, ``recv_bytes``,
  ``recv_bytes_into``, ``recv``, ``_poll``, and the private ``_send_bytes``/``_recv_bytes``)
  with wrappers that keep the stock checks and messages and hand the descriptor to Rust, which
  frames a whole message with no Python-level loop;
* ``deliver_challenge`` and ``answer_challenge`` (and, from 3.12, ``_create_response`` and
  ``_verify_challenge``) with the same calls on the connection they are given, speaking the
  dialect of the running interpreter; the handshake itself (nonces, MACs, prefixes, the
  verdict and its errors) is mpcore's state machines, one small native object per handshake.

Everything else stays stock: a subclass of ``Connection``, a buffer that is not one contiguous
run of bytes, or an offset that is not an ``int`` takes the stock code path unchanged.
"""

import io
import sys

from . import _native, _stdlib_shape

#: CPython 3.10 and 3.11 speak the legacy handshake (a bare HMAC-MD5), 3.12+ the modern one.
_LEGACY = sys.version_info < (3, 12)
#: The longest timeout stock's poll(2)-based wait takes: 2**31 - 1 milliseconds, rounded down.
_MAX_POLL_SECONDS = 2147483
#: ``Connection.recv_bytes`` once the transport is ours (``_queues`` reads messages itself
#: only from connections whose ``recv_bytes`` this still is).
patched_recv_bytes = None


def patch(module):
    """Wires the Rust transport and handshake into ``multiprocessing.connection``. A piece whose
    private names are not as expected (a CPython we have not verified) stays stock, with one
    warning that says what changed."""
    changed = []
    if hasattr(_native, "send_bytes"):  # POSIX: Connection is a descriptor
        transport = _stdlib_shape.transport_mismatches(module)
        if transport:
            changed.append(("Connection transport", transport))
        else:
            _patch_transport(module.Connection, module._ForkingPickler)
    handshake = _stdlib_shape.handshake_mismatches(module)
    if handshake:
        changed.append(("authentication handshake", handshake))
    else:
        _patch_handshake(module)
    if changed:
        from ._fallback import warn_once

        pieces = " and ".join(piece for piece, _ in changed)
        details = "; ".join(detail for _, details in changed for detail in details)
        version = ".".join(map(str, sys.version_info[:3]))
        warn_once(
            f"multiprocessing.connection of Python {version} is not as this version expects ({details})",
            f"its stock {pieces} runs",
        )


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
    native_recv_reusing = _native.recv_bytes_reusing
    BadMessageLength = _native.BadMessageLength
    loads = ForkingPickler.loads
    from multiprocessing import BufferTooShort

    from ._reused_buffer import loads_lent, thread_buffer

    # Stock's own pickler, not _pickling's reused one: a manager's request/reply loop, the
    # main user of send(obj), measured slower with it (0.85-0.91x stock against 0.98-1.03x, 12
    # and 16 alternating rounds of the bench's Manager workload), although each pickling costs
    # less; Queue and Pool pickle through the queues patch instead.
    dumps = ForkingPickler.dumps

    def checked_handle(conn, direction_open, refusal):
        """``conn``'s descriptor after stock's checks, in its words: closed, then the direction."""
        handle = conn._handle
        if handle is None:
            raise OSError("handle is closed")
        if not direction_open:
            raise OSError(refusal)
        return handle

    def send_bytes(self, buf, offset=0, size=None):
        """Send the bytes data from a bytes-like object"""
        handle = checked_handle(self, self._writable, "connection is read-only")
        if type(self) is not Connection or native_send(handle, buf, offset, size) is NotImplemented:
            stock["send_bytes"](self, buf, offset, size)

    def send(self, obj):
        """Send a (picklable) object"""
        handle = checked_handle(self, self._writable, "connection is read-only")
        if type(self) is not Connection:
            return stock["send"](self, obj)
        payload = dumps(obj)
        if native_send(handle, payload, 0, None) is NotImplemented:
            self._send_bytes(payload)

    def recv_bytes(self, maxlength=None):
        """
        Receive bytes data as a bytes object.
        """
        handle = checked_handle(self, self._readable, "connection is write-only")
        if maxlength is not None and maxlength < 0:
            raise ValueError("negative maxlength")
        if type(self) is not Connection:
            return stock["recv_bytes"](self, maxlength)
        try:
            message = native_recv(handle, maxlength)
        except BadMessageLength:
            pass  # raised below, outside the handler: stock's error has no context
        else:
            if message is NotImplemented:
                return stock["recv_bytes"](self, maxlength)
            return message
        self._bad_message_length()

    def recv_bytes_into(self, buf, offset=0):
        """
        Receive bytes data into a writeable bytes-like object.
        Return the number of bytes read.
        """
        handle = checked_handle(self, self._readable, "connection is write-only")
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
        handle = checked_handle(self, self._readable, "connection is write-only")
        if type(self) is not Connection:
            return stock["recv"](self)
        message = native_recv_reusing(handle, thread_buffer)
        if type(message) is bytes:
            return loads(message)
        return loads_lent(message, loads)

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

    # A subclass may hook `_send`/`_recv`, which stock's versions of these two call: it gets
    # stock's, as it does from the public methods.
    def _send_bytes(self, buf):
        if type(self) is not Connection or native_send(self._handle, buf, 0, None) is NotImplemented:
            stock["_send_bytes"](self, buf)

    def _recv_bytes(self, maxsize=None):
        if type(self) is not Connection:
            return stock["_recv_bytes"](self, maxsize)
        try:
            message = native_recv(self._handle, maxsize)
        except BadMessageLength:
            return None  # stock's contract: its callers then call _bad_message_length()
        if message is NotImplemented:
            return stock["_recv_bytes"](self, maxsize)
        # Positioned at the end, as stock's buffer is after its writes (callers read tell()).
        buf = io.BytesIO(message)
        buf.seek(0, io.SEEK_END)
        return buf

    for function in (send_bytes, send, recv_bytes, recv_bytes_into, recv, _poll, _send_bytes, _recv_bytes):
        function.__qualname__ = f"{Connection.__qualname__}.{function.__name__}"
        function.__module__ = Connection.__module__
        setattr(Connection, function.__name__, function)
    global patched_recv_bytes
    patched_recv_bytes = recv_bytes


def _authkey_error(authkey):
    return ValueError(f"Authkey must be bytes, not {type(authkey)!s}")


def _patch_handshake(module):
    for function in _handshake(module):
        setattr(module, function.__name__, function)


def _handshake(module):
    """``deliver_challenge``, ``answer_challenge`` (and from 3.12 ``_create_response`` and
    ``_verify_challenge``) for ``module``, on the native state machines: one handshake for
    both dialects, of which only the signatures differ."""
    stock_deliver, stock_answer = module.deliver_challenge, module.answer_challenge
    limit = _native.MAX_HANDSHAKE_MESSAGE  # reject large messages
    too_short = None if _LEGACY else _challenge_too_short(stock_answer)

    def deliver(connection, authkey, digest_name):
        if not isinstance(authkey, bytes):
            raise _authkey_error(authkey)
        if not _LEGACY and digest_name not in _native.DIGESTS:
            # A digest the core does not speak: stock's own code, with stock's outcome.
            return stock_deliver(connection, authkey, digest_name)
        deliverer = _native.Deliverer(authkey, digest_name)
        connection.send_bytes(deliverer.challenge)
        reply, failure = deliverer.verify(connection.recv_bytes(limit))
        try:
            connection.send_bytes(reply)  # #WELCOME# or #FAILURE#: the peer hears either way
        except BaseException as exc:
            if failure is not None and not _LEGACY:
                exc.__context__ = failure  # 3.12+ tells the peer while handling the failure
            raise
        if failure is not None:
            try:
                raise failure
            finally:
                # Held here, the exception would hold its traceback, which holds this frame,
                # which holds the connection: open until the cycle collector runs, where stock
                # closes it as soon as the caller lets go.
                del failure

    def answer_challenge(connection, authkey):
        if not isinstance(authkey, bytes):
            raise _authkey_error(authkey)
        answerer = _native.Answerer(authkey, _LEGACY, too_short)
        connection.send_bytes(answerer.respond(connection.recv_bytes(limit)))
        answerer.finish(connection.recv_bytes(limit))

    def deliver_3_11(connection, authkey):
        return deliver(connection, authkey, None)

    def deliver_3_12(connection, authkey, digest_name="sha256"):
        return deliver(connection, authkey, digest_name)

    def create_response(authkey, message):
        return _native.create_response(authkey, message)

    def verify_challenge(authkey, message, response):
        _native.verify_response(authkey, message, response)

    if _LEGACY:
        functions = {"deliver_challenge": deliver_3_11, "answer_challenge": answer_challenge}
    else:
        functions = {
            "deliver_challenge": deliver_3_12,
            "answer_challenge": answer_challenge,
            "_create_response": create_response,
            "_verify_challenge": verify_challenge,
        }
    for name, function in functions.items():
        stock = getattr(module, name)
        function.__name__ = function.__qualname__ = name
        function.__doc__, function.__annotations__ = stock.__doc__, dict(stock.__annotations__)
        function.__module__ = module.__name__
    return list(functions.values())


def _challenge_too_short(stock_answer_challenge):
    """How the running interpreter words the error for a challenge under 20 bytes, as a
    function of its length, read from stock's own code: CPython 3.12 and 3.13.0 forgot the
    f-prefix (their message shows ``{len(message)}`` as written), later releases interpolate
    (the literal is then split around the length)."""
    words = [const for const in stock_answer_challenge.__code__.co_consts if isinstance(const, str)]
    for i, word in enumerate(words):
        if word.startswith("challenge too short"):
            if "{" in word:
                return lambda length: word
            after = words[i + 1] if i + 1 < len(words) else ""
            return lambda length: f"{word}{length}{after}"
    return None  # the native default: the length interpolated
