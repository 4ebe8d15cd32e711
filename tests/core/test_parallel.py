"""bounded_map: results in order, never more than in_flight calls pending; prefetched: the same
items, produced on another thread at most a few ahead."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from cc_core import parallel
from cc_core.parallel import bounded_map, prefetched


def test_results_in_order_and_bounded():
    running = 0
    peak = 0
    lock = threading.Lock()

    def work(i):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.002 * (i % 3))
        with lock:
            running -= 1
        return i * i

    assert list(bounded_map(work, range(40), in_flight=3)) == [i * i for i in range(40)]
    assert 1 < peak <= 3
    with ThreadPoolExecutor(4) as pool:
        assert list(bounded_map(work, range(10), in_flight=2, executor=pool)) == [i * i for i in range(10)]


def test_failure_propagates_and_serial_mode():
    def work(i):
        if i == 5:
            raise ValueError("item 5")
        return i

    with pytest.raises(ValueError, match="item 5"):
        list(bounded_map(work, range(10), in_flight=4))
    assert list(bounded_map(str, range(3), in_flight=1)) == ["0", "1", "2"]


def test_prefetched_yields_every_item_in_order_from_another_thread():
    threads = set()

    def produce():
        for i in range(100):
            threads.add(threading.current_thread().name)
            yield i

    assert list(prefetched(produce(), depth=3)) == list(range(100))
    assert threads == {"cc-prefetch"}


def test_prefetched_runs_at_most_depth_ahead_and_stops_with_its_consumer():
    produced = []

    def produce():
        for i in range(1000):
            produced.append(i)
            yield i

    items = prefetched(produce(), depth=2)
    assert next(items) == 0
    time.sleep(0.2)
    assert len(produced) <= 1 + 2 + 1  # the one consumed, the queue, the one waiting to be queued
    items.close()
    time.sleep(0.3)
    stopped_at = len(produced)
    time.sleep(0.2)
    assert len(produced) == stopped_at < 10


def test_prefetched_raises_the_producers_error_after_the_items_before_it():
    def produce():
        yield 1
        yield 2
        raise OSError("disk gone")

    items = prefetched(produce())
    assert next(items) == 1 and next(items) == 2
    with pytest.raises(OSError, match="disk gone"):
        next(items)


def test_a_failure_sets_the_cancel_event_for_running_calls():
    cancel = threading.Event()

    def work(i):
        if i == 3:
            raise ValueError("part 3 failed")
        return i

    with pytest.raises(ValueError, match="part 3"):
        list(bounded_map(work, range(10), in_flight=2, cancel=cancel))
    assert cancel.is_set()
    done = threading.Event()
    assert list(bounded_map(work, range(3), in_flight=2, cancel=done)) == [0, 1, 2] and not done.is_set()


def test_one_parallel_map_in_the_tree():
    """The codecs' and the S3 transfer's parallel maps are bounded_map."""
    import cc_codec_npy.transfers as transfers

    assert not hasattr(transfers, "run_parallel")


@pytest.mark.parametrize(("size", "copies_only", "spare_core", "pays"), [
    (1 << 20, False, True, False),  # too small either way
    (64 << 20, False, False, True),  # network I/O waits: it overlaps even on two cores
    (None, False, False, True),
    (64 << 20, True, False, False),  # a copy through memory needs a core of its own
    (64 << 20, True, True, True),
])
def test_prefetch_pays_for_large_transfers_and_for_copies_only_with_a_spare_core(monkeypatch, size, copies_only,
                                                                                  spare_core, pays):
    monkeypatch.setattr(parallel, "spare_core", lambda: spare_core)
    assert parallel.prefetch_pays(size, copies_only=copies_only) is pays


@pytest.mark.parametrize(("load", "spare"), [(0.2, True), (1.4, True), (1.9, True), (2.0, False), (6.0, False)])
def test_a_core_is_spare_while_the_load_average_stays_below_the_cores(monkeypatch, load, spare):
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(parallel.os, "getloadavg", lambda: (load, load, load))
    assert parallel.spare_core() is spare
