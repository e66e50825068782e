"""``AuthenticationString``: the process authkey, as bytes that never show themselves.

CPython's class only refuses pickling; its ``repr()`` prints the secret, so a log line or a
traceback that formats ``current_process().authkey`` leaks the key every manager and
``resource_sharer`` connection is authenticated with. Ours is still ``bytes`` (equality, HMAC,
``bytes(key)`` all work), but ``repr``, ``str``, ``format`` and ``%``-formatting print a
placeholder.
"""

CENSORED = "<AuthenticationString: censored for security reasons>"


class AuthenticationString(bytes):
    """A ``bytes`` authkey whose ``repr``/``str`` never show it and that refuses pickling
    except to a child process being spawned (as CPython's does)."""

    __slots__ = ()

    def __repr__(self):
        return CENSORED

    __str__ = __repr__

    def __reduce__(self):
        from multiprocessing.context import get_spawning_popen

        if get_spawning_popen() is None:
            raise TypeError("Pickling an AuthenticationString object is disallowed for security reasons")
        return type(self), (bytes(self),)


#: What the override installs as ``multiprocessing.process.AuthenticationString``. It pickles by
#: that stdlib name, so a spawned child rebuilds the authkey with whichever class it has there:
#: ours when the override is on in the child too, the stock one otherwise.
StdlibAuthenticationString = type(
    "AuthenticationString",
    (AuthenticationString,),
    {"__slots__": (), "__module__": "multiprocessing.process", "__doc__": AuthenticationString.__doc__},
)
