"""Producing results in parallel and consuming them in order, with bounded memory.

Plugins use this for work that streams: encrypting segments, downloading parts that are written
to one file. At most ``in_flight`` calls are pending at once, so the results held in memory stay
bounded whatever the number of items.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def bounded_map(
    function: Callable[[Item], Result],
    items: Iterable[Item],
    *,
    in_flight: int,
    executor: Executor | None = None,
) -> Iterator[Result]:
    """Yield ``function(item)`` for each item, in order, with at most ``in_flight`` calls pending.

    Parameters
    ----------
    function, items
        What to compute.
    in_flight : int
        Calls submitted ahead of the one being consumed; 1 or less runs everything in this thread.
    executor : concurrent.futures.Executor, optional
        A long-lived pool to submit to (its threads are reused across calls); default: a thread
        pool of ``in_flight`` threads for this call only.

    If the consumer stops early or a call fails, calls not yet started are cancelled.
    """
    items = iter(items)
    if in_flight <= 1:
        for item in items:
            yield function(item)
        return
    own_pool = executor is None
    pool = executor or ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="cc-parallel")
    pending: deque[Future[Result]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) >= in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        if own_pool:
            pool.shutdown(wait=True)
