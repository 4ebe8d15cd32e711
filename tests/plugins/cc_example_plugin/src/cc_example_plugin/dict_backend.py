"""A backend keeping objects in a dict of this process: the smallest complete backend.

No ``__init__``: :class:`cc_core.Backend` takes the bucket and the options every backend receives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from cc_core import Backend, ByteRequest, ObjectInfo, Payload, Prefix, Progress, byte_bounds
from cc_core.errors import ObjectChangedError, ObjectNotFoundError
from cc_core.progress import NO_PROGRESS

#: bucket -> name -> (data, metadata, version)
STORE: dict[str, dict[str, tuple[bytes, dict[str, str], str]]] = {}
_lock = threading.Lock()
_versions = iter(range(1, 1 << 62))


class DictBackend(Backend):
    def _objects(self) -> dict[str, tuple[bytes, dict[str, str], str]]:
        return STORE.setdefault(str(self.bucket), {})

    def _entry(self, name: str, version: str | None = None) -> tuple[bytes, dict[str, str], str]:
        try:
            entry = self._objects()[name]
        except KeyError:
            raise ObjectNotFoundError(name, self.describe()) from None
        if version is not None and entry[2] != version:
            raise ObjectChangedError(f"Object {name!r} in {self.describe()} was replaced while being read")
        return entry

    def put(self, name: str, payload: Payload, metadata: Mapping[str, str], *, progress: Progress = NO_PROGRESS,
            **options: Any) -> ObjectInfo:
        data = payload.tobytes()
        progress.relative_update(len(data))
        with _lock:
            version = str(next(_versions))
            self._objects()[name] = (data, dict(metadata), version)
        return ObjectInfo(name, len(data), dict(metadata), None, version)

    def get_into(self, name: str, buffer: memoryview, *, byte_range: ByteRequest | None = None,
                 version: str | None = None, progress: Progress = NO_PROGRESS,
                 on_read: Callable[[memoryview], None] | None = None) -> int:
        data = self._entry(name, version)[0]
        start, stop = byte_bounds(byte_range, len(data))
        part = memoryview(data)[start:stop][: len(buffer)]
        buffer[: len(part)] = part
        progress.relative_update(len(part))
        return len(part)

    def iter_chunks(self, name: str, *, byte_range: ByteRequest | None = None, chunk_size: int = 1 << 20,
                    version: str | None = None, progress: Progress = NO_PROGRESS) -> Iterator[memoryview]:
        data = self._entry(name, version)[0]
        start, stop = byte_bounds(byte_range, len(data))
        for offset in range(start, stop or start, chunk_size):
            chunk = memoryview(data)[offset : min(offset + chunk_size, stop or 0)]
            progress.relative_update(len(chunk))
            yield chunk

    def head(self, name: str) -> ObjectInfo:
        data, metadata, version = self._entry(name)
        return ObjectInfo(name, len(data), dict(metadata), None, version)

    def list(self, prefix: str = "", delimiter: str | None = None) -> Iterator[ObjectInfo | Prefix]:
        rolled: set[str] = set()
        for name in sorted(n for n in list(self._objects()) if n.startswith(prefix)):
            cut = name.find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                folder = name[: cut + 1]
                if folder not in rolled:
                    rolled.add(folder)
                    yield Prefix(folder)
            else:
                yield self.head(name)

    def copy(self, source: str, destination: str, *, source_bucket: str | None = None) -> None:
        objects = STORE.get(source_bucket or str(self.bucket), {})
        if source not in objects:
            raise ObjectNotFoundError(source, f"dict://{source_bucket or self.bucket}")
        data, metadata, _ = objects[source]
        with _lock:
            self._objects()[destination] = (data, dict(metadata), str(next(_versions)))

    def delete_many(self, names: Iterable[str]) -> None:
        for name in names:
            self._objects().pop(name, None)

    def describe(self) -> str:
        return f"dict://{self.bucket}"
