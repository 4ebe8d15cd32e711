"""The progress protocol every transfer accepts (fsspec's callback style).

A progress object has ``set_size(total_bytes)`` and ``relative_update(increment_bytes)``. Backends
call ``set_size`` once when the size is known and ``relative_update`` as bytes move; transfers from
several threads may call ``relative_update`` concurrently, so implementations must be thread-safe
or accept approximate counts.

A transfer may also name what it is doing once the bytes have moved (``phase("completing the
upload")``): the final request, a checksum. Progress objects may lack ``phase``; transfers call
:func:`announce`, which skips those.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol


class Progress(Protocol):
    def set_size(self, size: int) -> None: ...

    def relative_update(self, increment: int = 1) -> None: ...


def announce(progress: Any, phase: str) -> None:
    """Tell ``progress`` what the transfer is doing now, if it has a ``phase`` method."""
    report = getattr(progress, "phase", None)
    if report is not None:
        report(phase)


class NoProgress:
    """The progress object used when the caller passes none."""

    def set_size(self, size: int) -> None:
        pass

    def relative_update(self, increment: int = 1) -> None:
        pass


class ByteCounter:
    """Counts reported bytes; thread-safe. Useful in tests and as a base for displays."""

    def __init__(self) -> None:
        self.size: int | None = None
        self.transferred = 0
        self._lock = threading.Lock()

    def set_size(self, size: int) -> None:
        self.size = size

    def relative_update(self, increment: int = 1) -> None:
        with self._lock:
            self.transferred += increment


NO_PROGRESS = NoProgress()
