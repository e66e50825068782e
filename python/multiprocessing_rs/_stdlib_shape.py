"""What the ``multiprocessing.connection`` patches expect of the stdlib, checked before patching.

The patches replace private functions and read private names, as they are in CPython 3.10 to
3.13 (and, read from its sources, 3.14). A later CPython may rename one or change its
parameters; the patch of that piece is then skipped (its stock code keeps working) rather than
failing the import of ``multiprocessing.connection``. Each check returns what does not match,
in words for the warning, or an empty list.
"""

import sys

#: Connection methods the transport patch replaces, with their parameters.
TRANSPORT_METHODS = {
    "send_bytes": ("self", "buf", "offset", "size"),
    "send": ("self", "obj"),
    "recv_bytes": ("self", "maxlength"),
    "recv_bytes_into": ("self", "buf", "offset"),
    "recv": ("self",),
    "_poll": ("self", "timeout"),
    "_send_bytes": ("self", "buf"),
    "_recv_bytes": ("self", "maxsize"),
    "_bad_message_length": ("self",),
}

#: The reducer tables of ``ForkingPickler`` that a reused pickler checks for changes.
PICKLER_TABLES = ("_copyreg_dispatch_table", "_extra_reducers")

#: The queue methods ``_queues`` replaces: their parameters, and names their stock code reads
#: (ours reads the same attributes and module globals, for the same things).
QUEUE_METHODS = {
    "Queue": (("self", "block", "timeout"), ("_closed", "_rlock", "_recv_bytes", "_sem", "_ForkingPickler")),
    "SimpleQueue": (("self",), ("_rlock", "_reader", "_ForkingPickler")),
}

#: What every Connection sets in ``__init__`` and the replacements read.
CONNECTION_ATTRIBUTES = ("_handle", "_readable", "_writable")


def handshake_functions():
    """The module functions the handshake patch replaces, with their parameters: the 3.12+
    dialect adds a digest name and two helpers."""
    if sys.version_info >= (3, 12):
        return {
            "deliver_challenge": ("connection", "authkey", "digest_name"),
            "answer_challenge": ("connection", "authkey"),
            "_create_response": ("authkey", "message"),
            "_verify_challenge": ("authkey", "message", "response"),
        }
    return {"deliver_challenge": ("connection", "authkey"), "answer_challenge": ("connection", "authkey")}


def pickler_mismatches(module):
    """What the reused pickler (``_pickling``) would not find as it expects in ``module``'s
    ``_ForkingPickler`` (``multiprocessing.connection``'s, or ``queues``'): ``dumps`` and
    ``loads``, and the two reducer tables it compares on every message."""
    pickler = getattr(module, "_ForkingPickler", None)
    if not (callable(getattr(pickler, "dumps", None)) and callable(getattr(pickler, "loads", None))):
        return [f"{module.__name__}._ForkingPickler (with dumps and loads) is missing"]
    missing = [name for name in PICKLER_TABLES if not isinstance(getattr(pickler, name, None), dict)]
    return [f"ForkingPickler.{name} is missing" for name in missing]


def queue_mismatches(module):
    """What the ``get`` patch (``_queues``) would not find as it expects in ``module``
    (``multiprocessing.queues``)."""
    found = []
    if not isinstance(getattr(getattr(module, "connection", None), "Connection", None), type):
        found.append("multiprocessing.queues.connection.Connection is missing")
    for name, (params, names) in QUEUE_METHODS.items():
        get = getattr(getattr(module, name, None), "get", None)
        mismatch = _parameter_mismatch(f"{name}.get", get, params)
        if not mismatch:
            missing = [n for n in names if n not in get.__code__.co_names]
            if missing:
                mismatch = [f"{name}.get does not read {', '.join(missing)}"]
        found += mismatch
    return found


def transport_mismatches(module):
    """What the transport patch would not find as it expects in ``module``."""
    found = pickler_mismatches(module)
    connection = getattr(module, "Connection", None)
    if not isinstance(connection, type):
        return found + ["Connection is missing"]
    for name, params in TRANSPORT_METHODS.items():
        found += _parameter_mismatch(f"Connection.{name}", getattr(connection, name, None), params)
    init_names = getattr(getattr(connection.__init__, "__code__", None), "co_names", ())
    missing = [name for name in CONNECTION_ATTRIBUTES if name not in init_names]
    if missing:
        found.append(f"Connection.__init__ does not set {', '.join(missing)}")
    return found


def handshake_mismatches(module):
    """What the handshake patch would not find as it expects in ``module``."""
    found = []
    for name, params in handshake_functions().items():
        found += _parameter_mismatch(name, getattr(module, name, None), params)
    return found


def _parameter_mismatch(name, function, expected):
    """``[]`` if ``function`` is a Python function whose parameters are named ``expected``."""
    code = getattr(function, "__code__", None)
    if code is None:
        return [f"{name} is missing"]
    params = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    if params != expected:
        return [f"{name} takes ({', '.join(params)}), not ({', '.join(expected)})"]
    return []
