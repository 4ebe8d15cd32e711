"""The conformance suite every storage backend passes.

A backend that passes it works through every public entry point: the suite tests the backend's
methods directly, reads bytes the backend did not write itself (through the subclass's
:meth:`BackendConformance.set_object`/:meth:`BackendConformance.get_object`, which go around it),
and opens the backend the way users do, by registering it in a temporary plugin and calling
``cottoncandy.get_interface(bucket, backend=NAME)``.
"""

from __future__ import annotations

import io
import pickle
import uuid
from typing import Any

import numpy as np
import pytest

from ..backend import Backend, ObjectInfo, Prefix
from ..byteranges import ByteRequest, OffsetByteRequest, RangeByteRequest, SuffixByteRequest, byte_bounds
from ..errors import MetadataError, ObjectChangedError, ObjectNotFoundError
from ..hookspecs import RegisterBackend, hookimpl
from ..integrity import CHECKSUM_METADATA_SIZE
from ..metadata import metadata_size
from ..payload import Payload
from ..progress import ByteCounter

_DATA = bytes(range(256)) * 4  # 1024 bytes that tell every offset apart

#: Every shape of byte range, with the slice of ``_DATA`` it selects.
BYTE_RANGES: list[tuple[ByteRequest | None, slice]] = [
    (None, slice(None)),
    (RangeByteRequest(10, 20), slice(10, 20)),
    (RangeByteRequest(0, 1024), slice(0, 1024)),
    (RangeByteRequest(1000, 2000), slice(1000, None)),  # past the end: clipped
    (RangeByteRequest(5, 5), slice(5, 5)),  # empty
    (RangeByteRequest(2000, 3000), slice(1024, 1024)),  # wholly past the end: nothing, no error
    (OffsetByteRequest(0), slice(None)),
    (OffsetByteRequest(1000), slice(1000, None)),
    (OffsetByteRequest(1024), slice(1024, 1024)),
    (SuffixByteRequest(24), slice(1000, None)),
    (SuffixByteRequest(5000), slice(None)),  # longer than the object: all of it
]


def _put(backend: Backend, name: str, data: bytes, metadata: dict[str, str] | None = None) -> None:
    backend.put(name, Payload([data]), metadata or {})


def _chunks(backend: Backend, name: str, **options: Any) -> bytes:
    return b"".join(bytes(chunk) for chunk in backend.iter_chunks(name, **options))


class _TemporaryBackendPlugin:
    """A plugin registering one backend class under one name, as a plugin author's would."""

    def __init__(self, name: str, cls: type[Backend]) -> None:
        self.name, self.cls = name, cls

    @hookimpl
    def cc_register_backends(self, register: RegisterBackend) -> None:
        register(self.name, self.cls, description="registered by the conformance kit")


class BackendConformance:
    """Subclass, provide a ``backend`` fixture yielding a backend on an empty bucket, and implement
    :meth:`set_object` and :meth:`get_object` (they write and read around the backend, with the
    store's own client or files).

    Class attributes tune the suite for slow stores: ``large_size`` (bytes of the object that
    crosses chunk and part boundaries) and ``many_objects`` (objects listed to prove pagination;
    set above the store's page size). Override :meth:`interface_options` when ``get_interface``
    needs more than the bucket to open your backend (an endpoint, credentials), and
    :meth:`other_bucket` when a sibling bucket needs another kind of name.

    Load the fixtures with ``pytest_plugins = ["cc_core.testing.fixtures"]`` in your conftest.py.
    """

    large_size = 3 * 1024 * 1024 + 17
    many_objects = 1005

    @pytest.fixture
    def backend(self) -> Backend:  # pragma: no cover - subclasses override
        raise NotImplementedError("provide a `backend` fixture that yields your backend on an empty bucket")

    # -- what a subclass provides ------------------------------------------------------------------
    def set_object(self, backend: Backend, name: str, data: bytes, metadata: dict[str, str]) -> None:
        """Store an object in ``backend``'s bucket *without* calling the backend (its client, files)."""
        raise NotImplementedError(
            f"{type(self).__name__}: implement set_object(backend, name, data, metadata) to write an object "
            "around the backend (with the store's own client), so that reads are tested on bytes the backend "
            "did not write itself"
        )

    def get_object(self, backend: Backend, name: str) -> tuple[bytes, dict[str, str]]:
        """An object's bytes and metadata read *without* calling the backend."""
        raise NotImplementedError(
            f"{type(self).__name__}: implement get_object(backend, name) -> (bytes, metadata) to read an object "
            "around the backend, so that writes are checked by something other than the backend's own reads"
        )

    def interface_options(self, backend: Backend) -> dict[str, Any]:
        """Keywords ``get_interface`` needs besides the bucket to open this backend (endpoint, keys)."""
        return {}

    def other_bucket(self, backend: Backend) -> str:
        """A bucket name next to ``backend.bucket`` that does not exist yet (bucket tests)."""
        return f"{backend.bucket}-{uuid.uuid4().hex[:8]}"

    # -- opened the way users open it -------------------------------------------------------------
    @pytest.fixture
    def user_interface(self, backend: Backend, temporary_plugin: Any, cc_settings: Any) -> Any:
        """``get_interface(bucket, backend=NAME)`` on the backend's bucket, NAME registered for the test."""
        from ..api import get_interface

        name = f"conformance-{type(backend).__name__.lower()}"
        temporary_plugin(_TemporaryBackendPlugin(name, type(backend)), f"{name}-plugin")
        try:
            return get_interface(backend.bucket, backend=name, verbose=False, settings=backend.settings or cc_settings,
                                 **self.interface_options(backend))
        except TypeError as exc:
            pytest.fail(
                f"get_interface could not open {type(backend).__name__}: {exc}. The interface calls "
                "cls(bucket, settings=..., **options) with only the options the user set; take your own options "
                "as keywords and pass the rest to Backend.__init__ (see cc_core.backend)"
            )

    def test_opens_through_get_interface(self, backend: Backend, user_interface: Any) -> None:
        assert isinstance(user_interface.backend, type(backend))
        assert user_interface.backend.name == user_interface.backend_name, (
            "the opened backend must carry its registered name (do not set `name` in __init__)")
        assert user_interface.backend.bucket == backend.bucket

    @pytest.mark.parametrize("compression", [False, "gzip"])
    def test_arrays_round_trip_through_the_interface(self, user_interface: Any, compression: Any) -> None:
        arrays = {"c": np.arange(1000, dtype="<f8").reshape(20, 50), "f": np.asfortranarray(np.ones((7, 3), "i2")),
                  "empty": np.zeros((0, 4)), "scalar": np.array(3.5)}
        for key, array in arrays.items():
            user_interface.upload_raw_array(f"arrays/{key}", array, compression=compression)
        for key, array in arrays.items():
            restored = user_interface.download_raw_array(f"arrays/{key}")
            assert restored.dtype == array.dtype and restored.shape == array.shape, (
                f"array {key!r} came back as {restored.dtype}{restored.shape}: the backend must return the "
                "metadata put() stored, unchanged")
            np.testing.assert_array_equal(restored, array)
        user_interface.upload_json("doc.json", {"a": [1, 2]})
        assert user_interface.download_json("doc.json") == {"a": [1, 2]}
        assert user_interface.ls("arrays") == sorted(f"arrays/{k}" for k in arrays)

    def test_the_interface_pickles(self, user_interface: Any) -> None:
        """Dask workers receive the interface pickled (without secrets: they resolve credentials again)."""
        user_interface.upload_raw_array("pickled", np.arange(6), compression=False)
        try:
            copy = pickle.loads(pickle.dumps(user_interface))
        except Exception as exc:
            pytest.fail(f"the interface did not survive pickling ({type(exc).__name__}: {exc}); put the "
                        "non-secret options your backend needs again into pickle_options()")
        np.testing.assert_array_equal(copy.download_raw_array("pickled"), np.arange(6))

    # -- objects -------------------------------------------------------------------------------
    def test_put_head_get_round_trip(self, backend: Backend) -> None:
        metadata = {"dtype": "<f8", "shape": "2,3", "note": "hello world"}
        _put(backend, "a/b/object", b"0123456789", metadata)
        info = backend.head("a/b/object")
        assert info.name == "a/b/object"
        assert info.size == 10, "head().size must be the stored object's size in bytes"
        assert {k: info.metadata[k] for k in metadata} == metadata
        assert backend.get("a/b/object") == b"0123456789"

    def test_reads_what_it_did_not_write(self, backend: Backend) -> None:
        self.set_object(backend, "outside/object", _DATA, {"written": "around"})
        info = backend.head("outside/object")
        assert (info.size, info.metadata.get("written")) == (len(_DATA), "around"), (
            "head() must describe an object written by another client")
        buffer = bytearray(len(_DATA))
        assert backend.get_into("outside/object", memoryview(buffer)) == len(_DATA)
        assert bytes(buffer) == _DATA
        assert _chunks(backend, "outside/object", chunk_size=100) == _DATA
        assert [e.name for e in backend.list("outside/")] == ["outside/object"]

    def test_open_read_gives_what_head_says_then_the_bytes(self, backend: Backend) -> None:
        """``open_read`` (overridden or not) describes the object as ``head`` does, then gives its
        bytes through ``readinto`` and ``chunks``, mixed, each byte once and counted by progress."""
        self.set_object(backend, "opened/object", _DATA, {"written": "around"})
        info = backend.head("opened/object")
        counter = ByteCounter()
        opened = backend.open_read("opened/object", progress=counter)
        try:
            assert (opened.info.name, opened.info.size, dict(opened.info.metadata), opened.info.version) == (
                info.name, info.size, dict(info.metadata), info.version), (
                "open_read().info must be what head() says: name, size, metadata and version")
            head = bytearray(100)
            seen: list[bytes] = []
            assert opened.readinto(memoryview(head), lambda part: seen.append(bytes(part))) == 100
            assert bytes(head) == _DATA[:100] and b"".join(seen) == _DATA[:100], (
                "readinto() must fill the buffer and hand every filled part to on_read")
            rest = b"".join(bytes(chunk) for chunk in opened.chunks(300))
        finally:
            opened.close()
        assert rest == _DATA[100:], "chunks() must give the bytes readinto() did not"
        assert counter.transferred == len(_DATA), "open_read's reads must report every byte to progress"
        empty = backend.open_read("opened/object")
        empty.close()  # a read left unfinished releases what it holds
        _put(backend, "opened/empty", b"")
        opened = backend.open_read("opened/empty")
        assert opened.info.size == 0 and opened.readinto(memoryview(bytearray(4))) == 0
        assert list(opened.chunks()) == []
        opened.close()
        with pytest.raises(ObjectNotFoundError):
            backend.open_read("opened/missing")

    @pytest.mark.parametrize("byte_range, expected", BYTE_RANGES, ids=repr)
    @pytest.mark.parametrize("how", ["readinto", "chunks"])
    def test_open_read_of_a_range_describes_the_whole_object(self, backend: Backend, byte_range: ByteRequest | None,
                                                             expected: slice, how: str) -> None:
        """``open_read(byte_range=)`` describes the whole object as ``head`` does, and gives the
        bytes of the range and no others, each counted by progress."""
        self.set_object(backend, "opened/ranged", _DATA, {"written": "around"})
        info = backend.head("opened/ranged")
        counter = ByteCounter()
        opened = backend.open_read("opened/ranged", progress=counter, byte_range=byte_range)
        try:
            assert (opened.info.name, opened.info.size, dict(opened.info.metadata), opened.info.version) == (
                info.name, info.size, dict(info.metadata), info.version), (
                f"open_read(byte_range={byte_range!r}).info must describe the whole object as head() does")
            if how == "readinto":
                buffer = memoryview(bytearray(len(_DATA) + 10))
                got = bytes(buffer[: opened.readinto(buffer)])
                assert opened.readinto(buffer) == 0, "readinto() must give nothing past the range's end"
            else:
                got = b"".join(bytes(chunk) for chunk in opened.chunks(100))
        finally:
            opened.close()
        assert got == _DATA[expected], (
            f"open_read(byte_range={byte_range!r}).{how}() gave {len(got)} bytes, not the "
            f"{len(_DATA[expected])} the range selects (OpenedObject(..., byte_range) bounds them)")
        assert counter.transferred == len(got), "open_read's reads must report every byte to progress"

    def test_writes_what_another_client_reads(self, backend: Backend) -> None:
        _put(backend, "written/object", _DATA, {"k": "v"})
        data, metadata = self.get_object(backend, "written/object")
        assert data == _DATA, "put() must store the payload's bytes exactly"
        assert metadata.get("k") == "v", "put() must store the metadata with the object"

    def test_put_returns_what_head_then_says(self, backend: Backend) -> None:
        """``put`` returns the stored object's info (None is allowed: the caller then heads it)."""
        for payload in (Payload([b"0123", b"456789"]), Payload(stream=io.BytesIO(b"streamed " * 100), size=None)):
            stored = backend.put("put/info", payload, {"note": "hello"})
            if stored is None:
                continue
            info = backend.head("put/info")
            assert (stored.name, stored.size, dict(stored.metadata)) == (info.name, info.size, dict(info.metadata)), (
                "the ObjectInfo put() returns must be what head() says right after")
            assert stored.version == info.version

    def test_overwrite_replaces_data_and_metadata(self, backend: Backend) -> None:
        _put(backend, "x", b"old data", {"version": "1"})
        _put(backend, "x", b"new", {"version": "2"})
        assert backend.get("x") == b"new"
        assert backend.head("x").metadata["version"] == "2", "put() must replace the metadata, not merge it"

    def test_empty_object(self, backend: Backend) -> None:
        _put(backend, "empty", b"")
        assert backend.head("empty").size == 0
        assert backend.get("empty") == b""
        assert backend.get_into("empty", memoryview(bytearray(4))) == 0

    @pytest.mark.parametrize("byte_range, expected", BYTE_RANGES, ids=repr)
    def test_byte_ranges(self, backend: Backend, byte_range: ByteRequest | None, expected: slice) -> None:
        self.set_object(backend, "ranged", _DATA, {})
        wanted = _DATA[expected]
        got = _chunks(backend, "ranged", byte_range=byte_range, chunk_size=100)
        assert got == wanted, (f"iter_chunks(byte_range={byte_range!r}) gave {len(got)} bytes, not the {len(wanted)} "
                               "it selects: use cc_core.byteranges.byte_bounds(byte_range, size)")
        buffer = bytearray(len(_DATA) + 10)
        count = backend.get_into("ranged", memoryview(buffer), byte_range=byte_range)
        assert bytes(buffer[:count]) == wanted, (
            f"get_into(byte_range={byte_range!r}) must write the bytes it selects to the start of the buffer "
            "and return their count")

    def test_get_into_stops_at_the_end_of_the_buffer(self, backend: Backend) -> None:
        self.set_object(backend, "ranged", _DATA, {})
        buffer = bytearray(100)
        assert backend.get_into("ranged", memoryview(buffer), byte_range=OffsetByteRequest(50)) == 100, (
            "get_into must read at most len(buffer) bytes")
        assert bytes(buffer) == _DATA[50:150]
        assert byte_bounds(RangeByteRequest(1000, 1100), len(_DATA)) == (1000, 1024)

    def test_version_detects_a_replaced_object(self, backend: Backend) -> None:
        _put(backend, "versioned", b"first version")
        first = backend.head("versioned")
        buffer = memoryview(bytearray(64))
        assert backend.get_into("versioned", buffer, version=first.version) == len(b"first version"), (
            "get_into must take version= (None or what head() gave)")
        assert _chunks(backend, "versioned", version=first.version) == b"first version"
        if first.version is None:
            pytest.skip("head() gives no versions: readers cannot tell a replaced object (allowed, but weaker)")
        _put(backend, "versioned", b"second, longer version")
        assert backend.head("versioned").version != first.version, "a new put() must give a new version"
        with pytest.raises(ObjectChangedError):
            backend.get_into("versioned", buffer, version=first.version)
        with pytest.raises(ObjectChangedError):
            _chunks(backend, "versioned", version=first.version)

    def test_large_object_in_chunks_reports_progress(self, backend: Backend) -> None:
        data = bytes(bytearray((i * 7) % 251 for i in range(self.large_size)))
        counter = ByteCounter()
        backend.put("large", Payload([data[:1000], data[1000:]]), {}, progress=counter)
        assert counter.transferred == len(data), "put() must call progress.relative_update(n) for every n bytes sent"
        target = bytearray(len(data))
        read_counter = ByteCounter()
        assert backend.get_into("large", memoryview(target), progress=read_counter) == len(data)
        assert target == data
        assert read_counter.transferred == len(data), (
            "get_into() must call progress.relative_update(n) for every n bytes read")
        chunk_counter = ByteCounter()
        assert _chunks(backend, "large", chunk_size=1 << 20, progress=chunk_counter) == data
        assert chunk_counter.transferred == len(data), (
            "iter_chunks() must call progress.relative_update(n) for every n bytes read")
        assert all(len(c) <= 1 << 20 for c in backend.iter_chunks("large", chunk_size=1 << 20)), (
            "iter_chunks() must yield chunks of at most chunk_size bytes")

    def test_put_from_stream(self, backend: Backend) -> None:
        data = b"streamed " * 1000
        backend.put("stream", Payload(stream=io.BytesIO(data), size=None), {"k": "v"})
        assert backend.get("stream") == data

    def test_missing_object(self, backend: Backend) -> None:
        fix = "raise cc_core.errors.ObjectNotFoundError(name, where) for a missing object"
        with pytest.raises(ObjectNotFoundError):
            backend.head("does/not/exist")
        with pytest.raises(ObjectNotFoundError):
            backend.get_into("does/not/exist", memoryview(bytearray(1)))
        with pytest.raises(ObjectNotFoundError):
            list(backend.iter_chunks("does/not/exist"))
        assert not backend.exists("does/not/exist"), fix

    # -- metadata --------------------------------------------------------------------------------
    def test_metadata_key_case(self, backend: Backend) -> None:
        _put(backend, "case", b"x", {"MixedCase": "Value"})
        keys = set(backend.head("case").metadata)
        expected = "mixedcase" if backend.capabilities.lowercase_metadata_keys else "MixedCase"
        assert expected in keys, (
            f"metadata key 'MixedCase' came back as {sorted(keys)}: return keys as given, or declare "
            "Capabilities(lowercase_metadata_keys=True)")
        assert backend.head("case").metadata.get(expected) == "Value", "metadata values must keep their case"

    def test_metadata_limit(self, backend: Backend, user_interface: Any) -> None:
        limit = backend.capabilities.metadata_limit
        if limit is None:
            big = {"note": "n" * 8000}
            _put(backend, "big-metadata", b"x", big)
            assert backend.head("big-metadata").metadata["note"] == big["note"], (
                "metadata of 8 kB was not kept: declare Capabilities(metadata_limit=...)")
            return
        fits = {"note": "n" * (limit // 2)}
        _put(backend, "limit/fits", b"x", fits)
        assert backend.head("limit/fits").metadata["note"] == fits["note"], (
            f"metadata of {metadata_size(fits)} bytes, within the declared limit of {limit}, was not kept")
        with pytest.raises(MetadataError):
            user_interface.upload_raw_array("limit/too-big", np.arange(2),
                                            note="n" * (limit + 1 - CHECKSUM_METADATA_SIZE))

    # -- listing -------------------------------------------------------------------------------
    def test_list_prefix_and_delimiter(self, backend: Backend) -> None:
        for name in ["d/a", "d/b/c", "d/b/d", "d/e", "dz", "other"]:
            _put(backend, name, name.encode())
        listed = list(backend.list("d/"))
        assert [e.name for e in listed] == ["d/a", "d/b/c", "d/b/d", "d/e"], "list(prefix) must be sorted by name"
        assert all(isinstance(e, ObjectInfo) for e in listed), "without a delimiter list() yields ObjectInfo only"
        assert [e.size for e in listed] == [3, 5, 5, 3]
        rolled = list(backend.list("d/", delimiter="/"))
        assert [(type(e).__name__, e.name) for e in rolled] == [
            ("ObjectInfo", "d/a"), ("Prefix", "d/b/"), ("ObjectInfo", "d/e")], (
            "with delimiter='/' deeper names roll up into one Prefix('d/b/') each, in name order")
        assert [e.name for e in backend.list("d")] == ["d/a", "d/b/c", "d/b/d", "d/e", "dz"]
        top = list(backend.list("", delimiter="/"))
        assert [e.name for e in top] == ["d/", "dz", "other"]
        assert isinstance(top[0], Prefix)

    def test_list_has_no_page_limit(self, backend: Backend) -> None:
        names = [f"many/{i:05d}" for i in range(self.many_objects)]
        for name in names:
            _put(backend, name, b"")
        assert [e.name for e in backend.list("many/")] == names, "list() must follow every page of the store"

    # -- copy, delete ----------------------------------------------------------------------------
    def test_copy_keeps_metadata(self, backend: Backend) -> None:
        _put(backend, "src/obj", b"payload", {"dtype": "<i4", "shape": "7"})
        backend.copy("src/obj", "dst/obj")
        assert backend.get("dst/obj") == b"payload"
        assert backend.head("dst/obj").metadata["shape"] == "7", "copy() must copy the metadata too"
        assert backend.get("src/obj") == b"payload"
        with pytest.raises(ObjectNotFoundError):
            backend.copy("src/missing", "dst/missing")

    def test_copy_through_the_interface(self, user_interface: Any) -> None:
        user_interface.upload_raw_array("folder/a", np.arange(3))
        user_interface.upload_raw_array("folder/b", np.arange(4))
        assert sorted(user_interface.cp("folder", "copied")) == ["copied/a", "copied/b"]
        np.testing.assert_array_equal(user_interface.download_raw_array("copied/b"), np.arange(4))

    def test_delete_many(self, backend: Backend) -> None:
        for name in ["z/1", "z/2", "z/3"]:
            _put(backend, name, b"x")
        backend.delete_many(["z/1", "z/2", "z/never-existed"])
        assert [e.name for e in backend.list("z/")] == ["z/3"], "delete_many() must ignore names that do not exist"
        backend.delete("z/3")
        assert not backend.exists("z/3")
        assert list(backend.list("z/")) == []

    def test_names_with_spaces_and_unicode(self, backend: Backend) -> None:
        name = "folder with space/ünïcödé name+plus=eq"
        _put(backend, name, b"ok")
        assert backend.get(name) == b"ok"
        assert [e.name for e in backend.list("folder with space/")] == [name]

    # -- buckets ----------------------------------------------------------------------------------
    def test_buckets(self, backend: Backend) -> None:
        if not backend.capabilities.buckets:
            pytest.skip("Capabilities(buckets=False): the backend works in one bucket")
        assert backend.bucket_exists(str(backend.bucket)), "bucket_exists() must find the backend's own bucket"
        other = self.other_bucket(backend)
        assert not backend.bucket_exists(other)
        backend.create_bucket(other)
        try:
            assert backend.bucket_exists(other), "create_bucket() must make a bucket that bucket_exists() finds"
        finally:
            backend.delete_bucket(other)
        assert not backend.bucket_exists(other), "delete_bucket() must remove an empty bucket"
