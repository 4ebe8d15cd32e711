"""Moving the parts of a layout (dask chunks, sparse attributes, group leaves) in parallel."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from cc_core.caller import with_caller

Item = TypeVar("Item")
Result = TypeVar("Result")


def thread_count(interface: Any, threads: int | None) -> int:
    """``threads`` if given, else ``[basic] threads`` from the interface's settings (at least 1)."""
    if threads is None:
        threads = interface.settings.getint("basic", "threads", fallback=4)
    return max(1, int(threads))


def run_parallel(function: Callable[[Item], Result], items: Iterable[Item], threads: int) -> list[Result]:
    """``[function(item) for item in items]`` on ``threads`` threads, results in order.

    The first failure is raised once every started call has finished; calls not yet started are
    cancelled.
    """
    items = list(items)
    if threads <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(threads, len(items)), thread_name_prefix="cc-parts") as pool:
        function = with_caller(function)  # a warning on a pool thread points at the caller's line
        futures = [pool.submit(function, item) for item in items]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise
