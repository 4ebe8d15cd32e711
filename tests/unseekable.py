"""A file object that can only be read forward, as a pipe or a socket: what streamed uploads meet."""

from __future__ import annotations

import io


class Unseekable(io.RawIOBase):
    """The bytes ``data``, readable once, front to back; ``seekable()`` is False."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        return self._data.readinto(buffer)
