"""Producing results in parallel and consuming them in order, with bounded memory.

:func:`bounded_map` runs calls on a pool (parts of an S3 transfer, arrays of a group, dask blocks,
objects of a folder copy): the one parallel map of cottoncandy;
:func:`prefetched` runs an iterator one step ahead of its consumer on a helper thread (stored
chunks read while the previous one is decrypted, segments sealed while the previous one is
written). Either way only a few results are held at once, whatever the number of items.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, TypeVar

from .caller import with_caller

Item = TypeVar("Item")
Result = TypeVar("Result")


def bounded_map(
    function: Callable[[Item], Result],
    items: Iterable[Item],
    *,
    in_flight: int,
    executor: Executor | None = None,
    cancel: threading.Event | None = None,
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
    cancel : threading.Event, optional
        Set when a call fails (or the consumer stops early), so that running calls that watch it
        (an S3 part's retries) stop too.

    Items are taken from ``items`` only as calls are submitted, so a lazy iterable (parts read
    from a stream) keeps a bounded number of items in memory. If the consumer stops early or a
    call fails, calls not yet started are cancelled, and the failure is raised once the calls
    running on this call's own pool have stopped. ``list(bounded_map(...))`` runs them all.
    """
    items = iter(items)
    if in_flight <= 1:
        for item in items:
            yield function(item)
        return
    function = with_caller(function)  # a warning on a pool thread points at the caller's line
    own_pool = executor is None
    pool = executor or ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="cc-parts")
    pending: deque[Future[Result]] = deque()
    finished = False
    try:
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) >= in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
        finished = True
    finally:
        if not finished and cancel is not None:
            cancel.set()
        for future in pending:
            future.cancel()
        if own_pool:
            pool.shutdown(wait=True)


_END = object()
_POLL_SECONDS = 0.1
#: Below this many bytes a transfer has too few chunks for a helper thread to pay for itself.
PREFETCH_FROM = 4 << 20


def spare_core() -> bool:
    """Whether a core is free now for a helper thread beside the caller's: the 1-minute load
    average, which counts the caller itself (about 1 while it works), stays below the cores this
    process may use; without a load average, whether it may use more than two cores.

    Measured on a 2-core VM (issue #19, 128 MiB encrypted local round trip against the plain one):
    load about 1, helper 1.30x, none 1.54x; load 3-10 from other jobs, helper 1.72-2.01x, none
    1.50-1.71x.
    """
    affinity = getattr(os, "sched_getaffinity", None)
    cpus = len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)
    try:
        return os.getloadavg()[0] < cpus
    except (AttributeError, OSError):  # no load average on this platform
        return cpus > 2


def prefetch_pays(size: int | None, *, copies_only: bool = False) -> bool:
    """Whether a transfer of ``size`` bytes (None: unknown) should run its I/O one step ahead on a
    helper thread (:func:`prefetched`).

    ``copies_only``: the I/O is a copy through memory (local disk, the page cache), CPU work
    with nothing to wait for. Overlapping it with a cipher then needs a core of its own
    (:func:`spare_core`): on two cores busy with other work the helper thread only adds CPU time
    and waits (issue #19, an encrypted local round trip against the plain one: 128 MiB 1.72-1.80x
    with the helper, 1.50-1.53x without, on a loaded 2-core machine; 1 GiB 1.84x against 1.36x;
    on the same machine when quiet the helper brought 1.36-1.45x down to 1.21-1.32x). Network
    I/O waits, and always overlaps.
    """
    if size is not None and size < PREFETCH_FROM:
        return False
    return not copies_only or spare_core()


def prefetched(items: Iterable[Item], depth: int = 2) -> Iterator[Item]:
    """Yield ``items`` in order while a helper thread produces up to ``depth`` of them ahead.

    Worth it when producing an item and consuming it wait on different things (a read or write
    that releases the GIL on one side, a cipher or a hash on the other): the two overlap. An
    exception raised while producing is raised here, at the item where it happened. When the
    consumer stops early the helper stops after the item it is producing.
    """
    handoff: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(entry: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer((item, None)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            offer((_END, exc))
            return
        offer((_END, None))

    threading.Thread(target=with_caller(produce), name="cc-prefetch", daemon=True).start()
    try:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
