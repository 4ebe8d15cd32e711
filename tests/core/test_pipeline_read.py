"""Pipeline.read and Pipeline.read_range: every download and every partial read goes through them."""

from __future__ import annotations

import types

import numpy as np
import pytest

from cc_core import hookimpl
from cc_core.errors import MetadataError, ObjectChangedError
from cc_core.pipeline import PREFIX_SIZE, READ_ATTEMPTS
from cc_core.testing.read_counter import ReadCounter
from cc_core.transform import RangeDecoder, Transform


def test_read_starts_again_when_the_object_was_replaced(interface):
    interface.upload_object("thing", b"payload")
    calls = []

    def consume(info, source):
        calls.append(info.name)
        if len(calls) < 3:
            raise ObjectChangedError("replaced meanwhile")
        return source.read()

    store = interface.backend
    assert interface.pipeline.read(store, "thing", consume) == b"payload"
    assert calls == ["thing"] * 3

    def never(info, source):
        raise ObjectChangedError("replaced again")

    with pytest.raises(ObjectChangedError):
        interface.pipeline.read(store, "thing", never)


def test_streams_read_through_the_pipeline(interface, monkeypatch):
    """download_stream is Pipeline.read(streamed=True): its first chunk is read while it can retry."""
    interface.upload_object("streamed", b"0123456789" * 100, transforms="zstd")
    seen = []
    original = interface.pipeline.read

    def spy(*args, **kwargs):
        seen.append(kwargs.get("streamed"))
        return original(*args, **kwargs)

    monkeypatch.setattr(interface.pipeline, "read", spy)
    assert interface.download_stream("streamed").content.read() == b"0123456789" * 100
    assert seen == [True] and READ_ATTEMPTS > 1


@pytest.mark.parametrize("start, stop", [(0, 10), (5, 17), (-7, None), (90, 200), (3, 3)])
def test_read_range_of_an_untransformed_object(interface, start, stop):
    data = bytes(range(100))
    interface.upload_object("plain", data)
    assert bytes(interface.pipeline.read_range(interface.backend, "plain", start, stop)) == data[start:stop]


def test_read_range_into_a_buffer(interface):
    array = np.arange(20, dtype=np.int64)
    interface.upload_raw_array("rows", array)
    target = np.empty(5, dtype=np.int64)
    read = interface.pipeline.read_range(interface.backend, "rows", 8 * 10, into=memoryview(target).cast("B"))
    assert len(read) == target.nbytes
    np.testing.assert_array_equal(target, array[10:15])


def test_read_range_refuses_compressed_objects_and_other_chains(interface):
    interface.upload_object("packed", b"x" * 1000, transforms="zstd")
    with pytest.raises(MetadataError, match="zstd cannot decode a range"):
        interface.pipeline.read_range(interface.backend, "packed", 0, 10)
    interface.upload_object("plain", b"x" * 1000)
    with pytest.raises(MetadataError, match="needs zstd and nothing else"):
        interface.pipeline.read_range(interface.backend, "plain", 0, 10, chain=["zstd"])


def test_a_local_download_opens_the_object_once(tmp_path, cc_settings, monkeypatch):
    """The metadata and the data file are opened together: no head() before the read, and no
    second open of the data file (get_into/iter_chunks) after it."""
    import numpy as np

    from cc_core.builtin.local import LocalBackend
    from cc_core.interface import CCInterface

    cci = CCInterface(str(tmp_path / "bucket"), backend="local", settings=cc_settings, verbose=False)
    cci.upload_raw_array("raw", np.arange(10))
    cci.upload_raw_array("gz", np.arange(10), transforms="gzip")
    calls: list[str] = []
    for method in ("head", "get_into", "iter_chunks"):
        original = getattr(LocalBackend, method)
        monkeypatch.setattr(LocalBackend, method, lambda self, *a, _m=method, _o=original, **k: (calls.append(_m), _o(self, *a, **k))[1])
    np.testing.assert_array_equal(cci.download_raw_array("raw"), np.arange(10))
    np.testing.assert_array_equal(cci.download_raw_array("gz"), np.arange(10))
    assert calls == []


# -- a third party's transform that decodes ranges ---------------------------------------------
class Masked(Transform):
    """A plugin's transform written from the contract alone: every byte XOR a mask, ranges too."""

    name = "masked"
    decodes_ranges = True
    mask = 0x5A

    def encode(self, chunks):
        for chunk in chunks:
            yield (np.frombuffer(chunk, dtype=np.uint8) ^ self.mask).tobytes()

    def decode(self, chunks):
        return self.encode(chunks)

    def open_ranges(self, read, size):
        transform = self

        class Unmasked(RangeDecoder):
            def read(self, start, stop):
                return (np.frombuffer(read(start, stop), dtype=np.uint8) ^ transform.mask).tobytes()

        decoder = Unmasked()
        decoder.size = size
        return decoder


class MaskedWithoutRanges(Masked):
    """The same bytes, but it does not declare the capability: its open_ranges is never called."""

    name = "masked-whole"
    decodes_ranges = False

    def open_ranges(self, read, size):
        raise AssertionError("called without the capability")


@pytest.fixture
def masked(temporary_plugin, interface):
    def register(register):
        register("masked", Masked)
        register("masked-whole", MaskedWithoutRanges)

    temporary_plugin(types.SimpleNamespace(cc_register_transforms=hookimpl(register)), "masking")
    return interface


def test_a_plugin_transform_that_decodes_ranges_gives_random_access(masked, monkeypatch):
    array = np.arange(50_000.0).reshape(1000, 50)
    masked.upload_raw_array("a", array, transforms="masked")
    assert masked.pipeline.read_range(masked.backend, "a", 8, 24).tobytes() == array.tobytes()[8:24]
    counter = ReadCounter(masked.backend, monkeypatch)
    lazy = masked.open_array("a")
    assert lazy.seekable
    np.testing.assert_array_equal(lazy[500:502], array[500:502])
    assert counter.requested == PREFIX_SIZE + 2 * 50 * 8  # the first bytes, with the info; then the rows
    assert masked.backend.get("a")[:8] != array.tobytes()[:8]  # stored masked


def test_a_chain_with_a_transform_without_the_capability_is_read_whole(masked):
    array = np.arange(600.0).reshape(20, 30)
    for chain in ("masked-whole", "masked,masked-whole", "gzip,masked"):
        masked.upload_raw_array("a", array, transforms=chain)
        lazy = masked.open_array("a")
        assert not lazy.seekable, chain
        np.testing.assert_array_equal(lazy[3:5, ::-2], array[3:5, ::-2])
        with pytest.raises(MetadataError, match="cannot decode a range"):
            masked.pipeline.read_range(masked.backend, "a", 0, 8)
