"""What the pickling tests send, shared by the scripts and the tests (queue_pickling.py,
test_send_pickling.py): objects whose pickles on our wire must be, byte for byte, what stock's
``ForkingPickler.dumps`` makes of them."""

import os
from multiprocessing.reduction import ForkingPickler


def stock_bytes(obj):
    return bytes(ForkingPickler.dumps(obj))


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return type(other) is Point and (self.x, self.y) == (other.x, other.y)


class Tagged:
    """Pickled by whatever reducer is registered for it."""

    def __init__(self, tag):
        self.tag = tag


def shared_and_recursive():
    shared = [1, 2]
    loop = [shared, shared]
    loop.append(loop)
    return loop


OBJECTS = [
    None,
    7,
    12345,
    "text",
    (0, 1, (True, [2])),
    {"p": [Point(1, 2)] * 3},
    {"a": Point(1, 2), "b": [Point(3, 4)] * 3},
    shared_and_recursive(),
    b"x" * (1 << 20),
    list(range(50_000)),  # pickled in several 64 KiB frames
    Point,
    os.path.join,
]
