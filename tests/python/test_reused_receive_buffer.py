"""Under the override, ``Connection.recv``, ``Queue.get`` and ``SimpleQueue.get`` unpickle
messages of 64 KiB to 4 MiB out of a buffer each thread reuses (``_reused_buffer``,
``_queues``). The same program on stock and on ours must deliver every large item once, intact
and as its own object (consumers keep them all and check them at the end), including when
unpickling one message, or a signal handler during its receipt, receives another on the same
thread, and raise the same errors."""

import pytest

from conftest import run_json_both, script


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_large_items_arrive_once_intact_and_independent(version, method):
    stock, ours = run_json_both(version, [script("large_items.py"), method], timeout=300)
    for side in (stock, ours):
        for queue in ("Queue", "SimpleQueue"):
            report = side[queue]
            assert report["received"] == report["distinct"] == report["expected"], (queue, side)
            assert report["changed"] == 0, (queue, side)
            assert report["exitcodes"] == [0] * len(report["exitcodes"]), (queue, side)
        assert side["nested recv"] and side["nested Queue.get"] and side["nested SimpleQueue.get"], side
        assert side["recv in a signal handler"], side
    for key in ("get after close", "recv after close"):
        assert ours[key] == stock[key]
    # The reused path ran (the outer nested message was received into the buffer), and ours
    # is the Queue.get that ran.
    assert stock["reused buffer size"] is None and ours["reused buffer size"] >= 1 << 20
    assert stock["Queue.get from"] == "queues.py" and ours["Queue.get from"] == "_queues.py"
