"""Under the override, ``Queue`` and ``SimpleQueue`` pickle items with a reused pickler
(``_pickling.QueuePickling``): the same scenario on stock and on ours must put the same bytes
on the wire, deliver the same items, and report the same failures; a ``Queue`` shared by
several producers and consumers loses and duplicates nothing."""

import pytest

from conftest import run_json_both, script


def test_queues_put_what_stock_puts_on_the_wire(version):
    stock, ours = run_json_both(version, [script("queue_pickling.py")])
    assert stock["pickling"] == "type" and ours["pickling"] == "QueuePickling"
    for side in (stock, ours):
        assert side["wire_as_stock"] and all(side["wire_as_stock"]), side
        assert all(side["round_trip"]), side
        assert side["after_error"] == "after"
    assert ours["feeder_error"] == stock["feeder_error"]


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_a_queue_shared_by_several_consumers_loses_and_duplicates_nothing(method):
    stock, ours = run_json_both("3.11", [script("shared_queue.py"), method], timeout=180)
    for side in (stock, ours):
        assert side["received"] == side["distinct"] == side["expected"], side
        assert side["exitcodes"] == [0] * 5, side
