"""bounded_map: results in order, never more than in_flight calls pending."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from cc_core.parallel import bounded_map


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
