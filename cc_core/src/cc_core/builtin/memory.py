"""The in-memory backend: a process-wide dict of buckets, for tests and scratch work.

Every interface on the same bucket name in one process sees the same objects, as clients of one
server would. :meth:`MemoryBackend.reset` forgets everything.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from ..backend import Backend, Capabilities, ObjectInfo, Prefix
from ..byteranges import ByteRequest, byte_bounds
from ..errors import BucketNotFoundError, ObjectNotFoundError
from ..payload import DEFAULT_CHUNK_SIZE, Payload
from ..progress import NO_PROGRESS, Progress

_buckets: dict[str, dict[str, tuple[bytes, dict[str, str], datetime]]] = {}
_lock = threading.RLock()


class MemoryBackend(Backend):
    """Objects kept as bytes in this process's memory."""

    capabilities = Capabilities(buckets=True, server_side_copy=True, metadata_after_data=True, copies_only=True)

    def __init__(self, bucket: str | None, **options: Any) -> None:
        super().__init__(bucket or "default", **options)
        with _lock:
            if self.bucket not in _buckets:
                if not self.force_bucket_creation and bucket is not None:
                    raise BucketNotFoundError(self.bucket, "pass force_bucket_creation=True to create it")
                _buckets[self.bucket] = {}

    @staticmethod
    def reset() -> None:
        with _lock:
            _buckets.clear()

    def describe(self) -> str:
        return f"memory://{self.bucket}"

    def _objects(self, bucket: str | None = None) -> dict[str, tuple[bytes, dict[str, str], datetime]]:
        name = bucket or self.bucket
        try:
            return _buckets[name]
        except KeyError:
            raise BucketNotFoundError(name) from None

    def _entry(self, name: str, bucket: str | None = None) -> tuple[bytes, dict[str, str], datetime]:
        try:
            return self._objects(bucket)[name]
        except KeyError:
            raise ObjectNotFoundError(name, f"memory://{bucket or self.bucket}") from None

    def put(self, name: str, payload: Payload, metadata: Mapping[str, str], *, progress: Progress = NO_PROGRESS,
            **options: Any) -> ObjectInfo:
        data = payload.tobytes()
        progress.set_size(len(data))
        progress.relative_update(len(data))
        modified = datetime.now(UTC)
        with _lock:
            self._objects()[name] = (data, dict(metadata), modified)
        return ObjectInfo(name, len(data), dict(metadata), modified)

    def get_into(self, name: str, buffer: memoryview, *, byte_range: ByteRequest | None = None,
                 version: str | None = None, progress: Progress = NO_PROGRESS, on_read: Any = None) -> int:
        """Versions: memory objects have none (``head`` gives None), so ``version`` is not checked."""
        data = self._entry(name)[0]
        start, stop = byte_bounds(byte_range, len(data))
        chunk = memoryview(data)[start : min(stop or 0, start + len(buffer))]
        buffer[: len(chunk)] = chunk
        progress.relative_update(len(chunk))
        return len(chunk)

    def iter_chunks(self, name: str, *, byte_range: ByteRequest | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE,
                    version: str | None = None, progress: Progress = NO_PROGRESS) -> Iterator[memoryview]:
        data = memoryview(self._entry(name)[0])
        start, stop = byte_bounds(byte_range, len(data))
        data = data[start:stop]
        for start in range(0, len(data), chunk_size):
            chunk = data[start : start + chunk_size]
            progress.relative_update(len(chunk))
            yield chunk

    def head(self, name: str) -> ObjectInfo:
        data, metadata, modified = self._entry(name)
        return ObjectInfo(name, len(data), dict(metadata), modified)

    def list(self, prefix: str = "", delimiter: str | None = None) -> Iterator[ObjectInfo | Prefix]:
        with _lock:
            items = sorted((n, e) for n, e in self._objects().items() if n.startswith(prefix))
        seen: set[str] = set()
        for name, (data, metadata, modified) in items:
            cut = name.find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                rolled = name[: cut + len(delimiter)]
                if rolled not in seen:
                    seen.add(rolled)
                    yield Prefix(rolled)
                continue
            yield ObjectInfo(name, len(data), dict(metadata), modified)

    def copy(self, source: str, destination: str, *, source_bucket: str | None = None) -> None:
        data, metadata, _ = self._entry(source, source_bucket)
        with _lock:
            self._objects()[destination] = (data, dict(metadata), datetime.now(UTC))

    def copy_with_metadata(self, source: ObjectInfo, destination: str, metadata: Mapping[str, str], *,
                           source_bucket: str | None = None) -> None:
        data = self._entry(source.name, source_bucket)[0]
        with _lock:
            self._objects()[destination] = (data, dict(metadata), datetime.now(UTC))

    def delete_many(self, names: Iterable[str]) -> None:
        with _lock:
            objects = self._objects()
            for name in names:
                objects.pop(name, None)

    def list_buckets(self) -> list[str]:
        with _lock:
            return sorted(_buckets)

    def bucket_exists(self, bucket: str) -> bool:
        return bucket in _buckets

    def create_bucket(self, bucket: str, **options: Any) -> None:
        with _lock:
            _buckets.setdefault(bucket, {})

    def delete_bucket(self, bucket: str) -> None:
        with _lock:
            if _buckets.get(bucket):
                raise OSError(f"Bucket {bucket!r} is not empty; remove its objects first")
            _buckets.pop(bucket, None)
