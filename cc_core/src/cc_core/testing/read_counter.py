"""Counting what a read asks a backend for: the stored bytes of every ``get_into`` and
``iter_chunks`` range, to show that a slice moves about its own size and not the object's."""

from __future__ import annotations

import threading
from typing import Any

from cc_core.backend import Backend
from cc_core.byteranges import RangeByteRequest, byte_bounds


class ReadCounter:
    """Wraps ``backend.get_into``, ``backend.iter_chunks`` and ``backend.open_read`` and adds up
    the bytes of the ranges requested (a request without a range, and an ``open_read`` without
    ``byte_range``, count the whole object) and the requests. A backend that inherits
    :meth:`Backend.open_read <cc_core.backend.Backend.open_read>` heads the object there and reads
    the bytes with ``get_into`` (counted when they are read): its ``open_read`` counts one request
    of no bytes.

    Parameters
    ----------
    backend : Backend
        The backend object whose reads are counted (``interface.backend``).
    monkeypatch : pytest.MonkeyPatch, optional
        Undoes the wrapping after the test; without it, :meth:`restore` does.
    """

    def __init__(self, backend: Any, monkeypatch: Any = None) -> None:
        self._backend = backend
        self.requested = 0
        self.requests = 0
        self._lock = threading.Lock()
        get_into, iter_chunks, open_read = backend.get_into, backend.iter_chunks, backend.open_read
        reads_when_opened = type(backend).open_read is not Backend.open_read

        def add(name: str, byte_range: Any, size: int | None = None) -> None:
            start, stop = byte_bounds(byte_range, backend.head(name).size if size is None else size)
            with self._lock:
                self.requested += max(0, (stop or 0) - start)
                self.requests += 1

        def counted_open_read(name: str, **options: Any) -> Any:
            opened = open_read(name, **options)
            add(name, options.get("byte_range") if reads_when_opened else RangeByteRequest(0, 0), opened.info.size)
            return opened

        def counted_get_into(name: str, buffer: Any, **options: Any) -> int:
            add(name, options.get("byte_range"))
            return get_into(name, buffer, **options)

        def counted_iter_chunks(name: str, **options: Any) -> Any:
            add(name, options.get("byte_range"))
            return iter_chunks(name, **options)

        counted = {"get_into": counted_get_into, "iter_chunks": counted_iter_chunks, "open_read": counted_open_read}
        for method, wrapper in counted.items():
            if monkeypatch is None:
                setattr(backend, method, wrapper)
            else:
                monkeypatch.setattr(backend, method, wrapper)

    def reset(self) -> None:
        self.requested = self.requests = 0

    def restore(self) -> None:
        """Stop counting (when no ``monkeypatch`` does it)."""
        for method in ("get_into", "iter_chunks", "open_read"):
            self._backend.__dict__.pop(method, None)
