"""The npy codec: standard .npy bytes, streamed both ways."""

from __future__ import annotations

import io

import numpy as np
import pytest

from cc_codec_npy.npy import NpyCodec
from cc_core.errors import IntegrityError, InvalidArrayError, MetadataError
from cc_core.payload import Payload
from cc_core.testing import CodecConformance


class TestNpyConformance(CodecConformance):
    codec_name = "npy"
    values = [
        np.arange(12.0).reshape(3, 4),
        np.asfortranarray(np.arange(24, dtype=np.int16).reshape(2, 3, 4)),
        np.array(7, dtype=np.uint64),
        np.zeros((0, 5), dtype=np.float32),
        np.array([(1, 2.5), (3, 4.5)], dtype=[("a", "<i4"), ("b", "<f8")]),
        np.array(["ab", "cde"], dtype="U3"),
        np.random.default_rng(0).standard_normal((300, 500)),  # larger than the first read block
    ]


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("array", TestNpyConformance.values[:-1], ids=lambda a: f"{a.dtype}{a.shape}")
def test_bytes_are_exactly_np_save(interface, array):
    interface.upload_npy_array("x.npy", array)
    stored = interface.backend.get("x.npy")
    assert stored == npy_bytes(array)
    loaded = np.load(io.BytesIO(stored))
    np.testing.assert_array_equal(loaded, array)


def test_fortran_order_comes_back_fortran(interface):
    array = np.asfortranarray(np.arange(20.0).reshape(4, 5))
    interface.upload_npy_array("f.npy", array)
    restored = interface.download_npy_array("f.npy")
    assert restored.flags.f_contiguous and restored.flags.writeable
    np.testing.assert_array_equal(restored, array)


def test_strided_views_are_stored_contiguously(interface):
    array = np.arange(100.0).reshape(10, 10)[::2, 1::3]
    interface.upload_npy_array("v.npy", array)
    np.testing.assert_array_equal(np.load(io.BytesIO(interface.backend.get("v.npy"))), array)


def test_encode_does_not_copy_the_array():
    array = np.arange(1000.0)
    encoded = NpyCodec().encode(array)
    body = encoded.payload.buffers[-1]
    assert np.shares_memory(np.frombuffer(body, dtype=np.float64), array)


def test_object_arrays_are_refused_both_ways(interface):
    with pytest.raises(InvalidArrayError, match="pickle"):
        interface.upload_npy_array("o.npy", np.array([{"a": 1}], dtype=object))
    interface.upload_object("o.npy", npy_bytes_of_objects())
    with pytest.raises(MetadataError, match="unpickle"):
        interface.download_npy_array("o.npy")


def npy_bytes_of_objects() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return buffer.getvalue()


def test_not_npy_and_truncated_objects_are_errors(interface):
    interface.upload_object("junk", b"certainly not an npy file")
    with pytest.raises(MetadataError, match="not an npy file"):
        interface.download_npy_array("junk")
    data = npy_bytes(np.arange(1000.0))
    interface.upload_object("short.npy", data[:-8])
    with pytest.raises((IntegrityError, MetadataError)):
        interface.download_npy_array("short.npy")
    interface.upload_object("long.npy", data + b"extra")
    with pytest.raises((IntegrityError, MetadataError)):
        interface.download_npy_array("long.npy")


def test_compressed_npy_objects_stream_back(interface):
    array = np.random.default_rng(1).integers(0, 5, (200, 300))
    interface.put_value("z.npy", array, "npy", transforms="zstd")
    np.testing.assert_array_equal(interface.download_npy_array("z.npy"), array)


def test_payload_is_header_plus_array_buffer():
    array = np.arange(6, dtype=np.int8)
    payload: Payload = NpyCodec().encode(array).payload
    assert payload.tobytes() == npy_bytes(array)


@pytest.mark.parametrize("shape", [(10,), (100, 100), (3, 40, 50)])
def test_header_and_body_take_one_read(counting_interface, reads, shape):
    array = np.asfortranarray(np.arange(np.prod(shape), dtype=np.float64).reshape(shape))
    counting_interface.upload_npy_array("c.npy", array)
    reads.clear()
    loaded = counting_interface.download_npy_array("c.npy")
    np.testing.assert_array_equal(loaded, array)
    assert reads["c.npy"] == 1
    assert loaded.flags.writeable and loaded.flags.aligned and loaded.ctypes.data % 64 == 0
    assert loaded.flags.f_contiguous
