"""How many parts of a layout (dask chunks, sparse attributes, group leaves) move at once; they
move through :func:`cc_core.parallel.bounded_map`."""

from __future__ import annotations

from typing import Any


def thread_count(interface: Any, threads: int | None) -> int:
    """``threads`` if given, else ``[basic] threads`` from the interface's settings (at least 1)."""
    if threads is None:
        threads = interface.settings.getint("basic", "threads", fallback=4)
    return max(1, int(threads))
