"""Bytes on their way to a backend, without copying them.

A :class:`Payload` is either a sequence of buffers (memoryviews of an array's memory, an npy header,
compressed chunks) whose total size is known, or a readable binary stream. Backends read it through
:meth:`Payload.chunks`, :meth:`Payload.slice` (buffers only: parallel part uploads) or
:meth:`Payload.as_file` (a file object for clients that want one); none of these copies the data.
"""

from __future__ import annotations

import bisect
import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

import numpy as np

Buffer = bytes | bytearray | memoryview

DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024


def byte_view(data: Buffer | np.ndarray) -> memoryview:
    """Return a flat, read-only ``uint8`` memoryview of ``data`` without copying.

    Arrays must be contiguous (C or F); callers choose the order and pass such an array.
    """
    if isinstance(data, np.ndarray):
        if not (data.flags.c_contiguous or data.flags.f_contiguous):
            raise ValueError("byte_view needs a contiguous array; pass np.ascontiguousarray(a)")
        # reshape(-1) in the array's own memory order never copies a contiguous array
        flat = data.reshape(-1, order="A") if data.ndim else data.reshape(1)
        view = flat.view(np.uint8).data
    else:
        view = memoryview(data)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view.toreadonly()


class Payload:
    """The bytes of one object, as buffers or as a stream.

    Parameters
    ----------
    buffers : iterable of bytes-like, optional
        The object's bytes, in order. Kept as memoryviews, never joined.
    stream : binary file object, optional
        Read sequentially when ``buffers`` is not given.
    size : int, optional
        The stream's length when known; computed for buffers.
    """

    def __init__(
        self,
        buffers: Iterable[Buffer] | None = None,
        *,
        stream: BinaryIO | None = None,
        size: int | None = None,
    ) -> None:
        if (buffers is None) == (stream is None):
            raise TypeError("Payload takes either buffers or a stream")
        self.stream = stream
        self.buffers = None if buffers is None else [byte_view(b) for b in buffers]
        self.size = sum(len(b) for b in self.buffers) if self.buffers is not None else size

    @classmethod
    def of(cls, data: Payload | Buffer | np.ndarray | BinaryIO) -> Payload:
        """Wrap bytes, an array, a file object or an existing payload."""
        if isinstance(data, Payload):
            return data
        if isinstance(data, (bytes, bytearray, memoryview, np.ndarray)):
            return cls([byte_view(data)])
        if hasattr(data, "read"):
            return cls(stream=data, size=_remaining_size(data))
        raise TypeError(f"cannot upload a {type(data).__name__}: pass bytes, an array or a file")

    @property
    def is_stream(self) -> bool:
        return self.buffers is None

    def chunks(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[memoryview]:
        """Yield the bytes in order, at most ``chunk_size`` at a time (views, not copies)."""
        if self.buffers is None:
            assert self.stream is not None
            direct = getattr(self.stream, "payload_buffers", None)  # a transform's output: its own buffers
            if direct is not None:
                yield from direct(chunk_size)
                return
            while True:
                block = self.stream.read(chunk_size)
                if not block:
                    return
                yield memoryview(block)
        else:
            for buffer in self.buffers:
                for start in range(0, len(buffer), chunk_size):
                    yield buffer[start : start + chunk_size]

    def slice(self, start: int, stop: int) -> Payload:
        """The bytes ``[start, stop)`` as a new payload of views (buffer payloads only)."""
        if self.buffers is None:
            raise TypeError("a streamed payload cannot be sliced; read it with chunks()")
        parts: list[memoryview] = []
        offset = 0
        for buffer in self.buffers:
            end = offset + len(buffer)
            if end > start and offset < stop:
                parts.append(buffer[max(start - offset, 0) : min(stop - offset, len(buffer))])
            offset = end
        return Payload(parts)

    def as_file(self, check: Callable[[], None] | None = None) -> BinaryIO:
        """A readable file object over the payload: the stream itself, or a
        :class:`BufferReader` that reads the buffers in place (``check``: see there)."""
        if self.buffers is None:
            assert self.stream is not None
            return self.stream
        return BufferReader(self.buffers, check)  # type: ignore[return-value]

    def tobytes(self) -> bytes:
        """Join the payload into one bytes object (a copy: for small objects only)."""
        return b"".join(self.chunks())


def _remaining_size(stream: BinaryIO) -> int | None:
    try:
        position = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(position)
        return end - position
    except (AttributeError, OSError, ValueError):
        return None


class SeekableReader(io.RawIOBase):
    """Position bookkeeping of a raw, seekable reader of ``_size`` bytes (HTTP clients seek
    request bodies back to 0 to hash and to resend them); subclasses implement ``readinto``."""

    _size = 0
    _position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = min(max(0, base + offset), self._size)
        return self._position


class BufferReader(SeekableReader):
    """A seekable raw file object over a list of buffers, read in place.

    ``read`` returns a memoryview within one buffer, never a copy, so an HTTP client hashes and
    sends the array's own pages. A read never crosses from one buffer into the next, so it may
    return fewer bytes than asked (as raw file objects may). ``check``, when given, is called
    before every read and may raise to stop a request that is still sending (a transfer that
    failed elsewhere).
    """

    def __init__(self, buffers: list[memoryview], check: Callable[[], None] | None = None) -> None:
        self._buffers = buffers
        self._starts: list[int] = []
        total = 0
        for buffer in buffers:
            self._starts.append(total)
            total += len(buffer)
        self._size = total
        self._position = 0
        self._check = check

    def _view_at(self, position: int, size: int) -> memoryview:
        """Up to ``size`` bytes from ``position``, within the one buffer that holds it."""
        if self._check is not None:
            self._check()
        index = bisect.bisect_right(self._starts, position) - 1
        while 0 <= index < len(self._buffers):
            offset = position - self._starts[index]
            if offset < len(self._buffers[index]):
                return self._buffers[index][offset : offset + size]
            index += 1  # empty buffers start where the next one does
        return memoryview(b"")

    def read(self, size: int | None = -1) -> memoryview | bytes:
        if size is None or size < 0:
            parts = []
            while chunk := self._view_at(self._position, self._size):
                parts.append(chunk)
                self._position += len(chunk)
            return b"".join(parts)
        view = self._view_at(self._position, size)
        self._position += len(view)
        return view

    def readinto(self, target: Any) -> int:
        target = memoryview(target).cast("B")
        view = self._view_at(self._position, len(target))
        target[: len(view)] = view
        self._position += len(view)
        return len(view)
