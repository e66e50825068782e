"""``Connection.send(obj)`` on ours (the Rust transport; stock's pickler, see ``_connection``):
what goes on the wire must stay byte for byte what stock's ``ForkingPickler.dumps(obj)`` gives,
whatever was sent before, whatever reducers were registered since, and when pickling sends in
turn. ``test_queue_pickling`` holds the reused pickler of the queues to the same rules."""

import copyreg
import gc
import os
import threading
import weakref
from multiprocessing import connection
from multiprocessing.reduction import ForkingPickler

import pytest
from multiprocessing_rs import _connection
from pickled_objects import OBJECTS, Point, Tagged, stock_bytes


class RustConnection(connection.Connection):
    """The stdlib ``Connection`` with the transport the override installs."""


_connection._patch_transport(RustConnection, connection._ForkingPickler)


@pytest.fixture
def wire():
    """``(ours, stock_reader)``: our writer, and a stock reader of its frames."""
    r, w = os.pipe()
    ours, reader = RustConnection(w, readable=False), connection.Connection(r, writable=False)
    yield ours, reader
    ours.close()
    reader.close()


def test_every_message_is_what_stock_pickles_however_often_sent(wire):
    ours, reader = wire
    for _ in range(3):
        for obj in OBJECTS:
            sender = threading.Thread(target=ours.send, args=(obj,))
            sender.start()
            assert reader.recv_bytes() == stock_bytes(obj)
            sender.join()


def test_a_reducer_registered_after_a_send_applies_to_the_next(wire):
    ours, reader = wire
    ours.send(Tagged("before"))
    assert reader.recv_bytes() == stock_bytes(Tagged("before"))
    try:
        ForkingPickler.register(Tagged, lambda t: (str, (f"first:{t.tag}",)))
        ours.send(Tagged("a"))
        assert ForkingPickler.loads(reader.recv_bytes()) == "first:a"
        # Replaced for the same type: the table keeps its size, the reducer changes.
        ForkingPickler.register(Tagged, lambda t: (str, (f"second:{t.tag}",)))
        ours.send(Tagged("b"))
        assert ForkingPickler.loads(reader.recv_bytes()) == "second:b"
    finally:
        ForkingPickler._extra_reducers.pop(Tagged, None)
    ours.send(Tagged("after"))
    assert reader.recv_bytes() == stock_bytes(Tagged("after"))


def test_a_copyreg_registration_after_a_send_applies_to_the_next(wire):
    ours, reader = wire
    ours.send(Tagged("x"))
    reader.recv_bytes()
    try:
        copyreg.pickle(Tagged, lambda t: (str, (f"copyreg:{t.tag}",)))
        ours.send(Tagged("y"))
        assert ForkingPickler.loads(reader.recv_bytes()) == "copyreg:y"
    finally:
        copyreg.dispatch_table.pop(Tagged, None)


class SendsWhilePickled:
    """Sends a message of its own on ``conn`` while it is being pickled."""

    def __init__(self, conn, inner):
        self.conn, self.inner = conn, inner

    def __reduce__(self):
        self.conn.send(self.inner)
        return (str, ("outer",))


def test_pickling_that_sends_gets_a_pickler_of_its_own(wire):
    ours, reader = wire
    inner = {"inner": [Point(5, 6)] * 2}
    ours.send([SendsWhilePickled(ours, inner), Point(7, 8), Point(7, 8)])
    assert reader.recv_bytes() == stock_bytes(inner)
    assert ForkingPickler.loads(reader.recv_bytes()) == ["outer", Point(7, 8), Point(7, 8)]


def test_an_unpicklable_object_fails_as_in_stock_and_leaves_nothing_behind(wire):
    ours, reader = wire
    # The large bytes go out to the pickler's file before the lambda fails.
    bad = [Point(1, 2), b"x" * 200_000, lambda: None]
    with pytest.raises(Exception) as stock_error:
        ForkingPickler.dumps(bad)
    with pytest.raises(type(stock_error.value)) as our_error:
        ours.send(bad)
    assert str(our_error.value) == str(stock_error.value)
    ours.send([Point(1, 2)])
    assert reader.recv_bytes() == stock_bytes([Point(1, 2)])
    assert not reader.poll(0)


def test_a_sent_object_is_not_kept_alive(wire):
    ours, reader = wire
    sent = Point(1, 2)
    ref = weakref.ref(sent)
    ours.send([sent, sent])
    reader.recv_bytes()
    del sent
    gc.collect()
    assert ref() is None


def test_threads_sending_at_once_each_get_their_own_messages_whole():
    pairs = []
    for _ in range(4):
        r, w = os.pipe()
        pairs.append((RustConnection(w, readable=False), connection.Connection(r, writable=False)))
    failures = []

    def sender(conn, seed):
        for i in range(300):
            conn.send({"seed": seed, "i": i, "points": [Point(seed, i)] * (i % 5)})

    def receiver(conn, seed):
        for i in range(300):
            expected = {"seed": seed, "i": i, "points": [Point(seed, i)] * (i % 5)}
            if conn.recv_bytes() != stock_bytes(expected):
                failures.append((seed, i))

    threads = [threading.Thread(target=sender, args=(w, n)) for n, (w, _) in enumerate(pairs)]
    threads += [threading.Thread(target=receiver, args=(r, n)) for n, (_, r) in enumerate(pairs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for w, r in pairs:
        w.close()
        r.close()
    assert failures == []
