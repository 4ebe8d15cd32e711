"""The conformance suite every storage backend passes."""

from __future__ import annotations

import io

import pytest

from ..backend import Backend, ObjectInfo, Prefix
from ..errors import ObjectNotFoundError
from ..payload import Payload
from ..progress import ByteCounter


def _put(backend: Backend, name: str, data: bytes, metadata: dict[str, str] | None = None) -> None:
    backend.put(name, Payload([data]), metadata or {})


class BackendConformance:
    """Subclass and provide a ``backend`` fixture yielding a backend on an empty bucket.

    Class attributes tune the suite for slow stores: ``large_size`` (bytes of the object that
    crosses chunk and part boundaries) and ``many_objects`` (objects listed to prove pagination;
    set above the store's page size).
    """

    large_size = 3 * 1024 * 1024 + 17
    many_objects = 1005

    @pytest.fixture
    def backend(self) -> Backend:  # pragma: no cover - subclasses override
        raise NotImplementedError("provide a `backend` fixture")

    def test_put_head_get_round_trip(self, backend: Backend) -> None:
        metadata = {"dtype": "<f8", "shape": "2,3", "note": "hello world"}
        _put(backend, "a/b/object", b"0123456789", metadata)
        info = backend.head("a/b/object")
        assert info.name == "a/b/object"
        assert info.size == 10
        assert {k: info.metadata[k] for k in metadata} == metadata
        assert backend.get("a/b/object") == b"0123456789"

    def test_put_returns_what_head_then_says(self, backend: Backend) -> None:
        """``put`` returns the stored object's info (None is allowed: the caller then heads it)."""
        for payload in (Payload([b"0123", b"456789"]), Payload(stream=io.BytesIO(b"streamed " * 100), size=None)):
            stored = backend.put("put/info", payload, {"note": "hello"})
            if stored is None:
                continue
            info = backend.head("put/info")
            assert (stored.name, stored.size, dict(stored.metadata)) == (info.name, info.size, dict(info.metadata))
            assert stored.version == info.version

    def test_overwrite_replaces_data_and_metadata(self, backend: Backend) -> None:
        _put(backend, "x", b"old data", {"version": "1"})
        _put(backend, "x", b"new", {"version": "2"})
        assert backend.get("x") == b"new"
        assert backend.head("x").metadata["version"] == "2"

    def test_empty_object(self, backend: Backend) -> None:
        _put(backend, "empty", b"")
        assert backend.head("empty").size == 0
        assert backend.get("empty") == b""
        assert backend.get_into("empty", memoryview(bytearray(4))) == 0

    def test_byte_ranges(self, backend: Backend) -> None:
        data = bytes(range(256)) * 4
        _put(backend, "ranged", data)
        assert backend.get("ranged", byte_range=(10, 20)) == data[10:20]
        assert b"".join(bytes(c) for c in backend.iter_chunks("ranged", byte_range=(1000, 1024))) == data[1000:]
        buffer = bytearray(100)
        assert backend.get_into("ranged", memoryview(buffer), offset=50) == 100
        assert bytes(buffer) == data[50:150]
        tail = bytearray(100)
        assert backend.get_into("ranged", memoryview(tail), offset=1000) == 24
        assert bytes(tail[:24]) == data[1000:]

    def test_large_object_in_chunks(self, backend: Backend) -> None:
        data = bytes(bytearray((i * 7) % 251 for i in range(self.large_size)))
        counter = ByteCounter()
        backend.put("large", Payload([data[:1000], data[1000:]]), {}, progress=counter)
        assert counter.transferred == len(data)
        target = bytearray(len(data))
        read_counter = ByteCounter()
        assert backend.get_into("large", memoryview(target), progress=read_counter) == len(data)
        assert target == data
        assert read_counter.transferred == len(data)
        assert b"".join(bytes(c) for c in backend.iter_chunks("large", chunk_size=1 << 20)) == data

    def test_put_from_stream(self, backend: Backend) -> None:
        data = b"streamed " * 1000
        backend.put("stream", Payload(stream=io.BytesIO(data), size=None), {"k": "v"})
        assert backend.get("stream") == data

    def test_missing_object(self, backend: Backend) -> None:
        with pytest.raises(ObjectNotFoundError):
            backend.head("does/not/exist")
        with pytest.raises(ObjectNotFoundError):
            backend.get_into("does/not/exist", memoryview(bytearray(1)))
        with pytest.raises(ObjectNotFoundError):
            list(backend.iter_chunks("does/not/exist"))
        assert not backend.exists("does/not/exist")

    def test_list_prefix_and_delimiter(self, backend: Backend) -> None:
        for name in ["d/a", "d/b/c", "d/b/d", "d/e", "dz", "other"]:
            _put(backend, name, name.encode())
        listed = list(backend.list("d/"))
        assert [e.name for e in listed] == ["d/a", "d/b/c", "d/b/d", "d/e"]
        assert all(isinstance(e, ObjectInfo) for e in listed)
        assert [e.size for e in listed] == [3, 5, 5, 3]
        rolled = list(backend.list("d/", delimiter="/"))
        assert [(type(e).__name__, e.name) for e in rolled] == [
            ("ObjectInfo", "d/a"), ("Prefix", "d/b/"), ("ObjectInfo", "d/e")]
        assert [e.name for e in backend.list("d")] == ["d/a", "d/b/c", "d/b/d", "d/e", "dz"]
        top = list(backend.list("", delimiter="/"))
        assert [e.name for e in top] == ["d/", "dz", "other"]
        assert isinstance(top[0], Prefix)

    def test_list_has_no_page_limit(self, backend: Backend) -> None:
        names = [f"many/{i:05d}" for i in range(self.many_objects)]
        for name in names:
            _put(backend, name, b"")
        assert [e.name for e in backend.list("many/")] == names

    def test_copy_keeps_metadata(self, backend: Backend) -> None:
        _put(backend, "src/obj", b"payload", {"dtype": "<i4", "shape": "7"})
        backend.copy("src/obj", "dst/obj")
        assert backend.get("dst/obj") == b"payload"
        assert backend.head("dst/obj").metadata["shape"] == "7"
        assert backend.get("src/obj") == b"payload"
        with pytest.raises(ObjectNotFoundError):
            backend.copy("src/missing", "dst/missing")

    def test_delete_many(self, backend: Backend) -> None:
        for name in ["z/1", "z/2", "z/3"]:
            _put(backend, name, b"x")
        backend.delete_many(["z/1", "z/2", "z/never-existed"])
        assert [e.name for e in backend.list("z/")] == ["z/3"]
        backend.delete("z/3")
        assert not backend.exists("z/3")
        assert list(backend.list("z/")) == []

    def test_names_with_spaces_and_unicode(self, backend: Backend) -> None:
        name = "folder with space/ünïcödé name+plus=eq"
        _put(backend, name, b"ok")
        assert backend.get(name) == b"ok"
        assert [e.name for e in backend.list("folder with space/")] == [name]
