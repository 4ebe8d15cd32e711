"""Raw arrays round-trip exactly for every dtype numpy has a buffer for, in every layout."""

import numpy as np
import pytest

from cc_core.errors import InvalidArrayError, MetadataError

STRUCTURED = np.dtype([("id", "<i4"), ("pos", "<f8", (3,)), ("name", "U10"), ("flag", "?")])

DTYPES = [
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
    "datetime64[ns]", "datetime64[D]", "timedelta64[s]", "U7", "S5", ">i4", ">f8", "<c16",
    STRUCTURED,
]


def sample(dtype, shape=(6, 5)):
    dtype = np.dtype(dtype)
    count = int(np.prod(shape))
    if dtype.fields:
        array = np.zeros(count, dtype)
        array["id"] = np.arange(count)
        array["pos"] = np.arange(count * 3).reshape(count, 3) / 7
        array["name"] = [f"n{i}é" for i in range(count)]
        array["flag"] = np.arange(count) % 2 == 0
        return array.reshape(shape)
    if dtype.kind in "US":
        return np.array([f"s{i}" for i in range(count)], dtype=dtype).reshape(shape)
    if dtype.kind in "mM":
        return np.arange(count).astype(dtype).reshape(shape)
    if dtype.kind == "b":
        return (np.arange(count) % 3 == 0).reshape(shape)
    return (np.arange(count) * 3 - 7).astype(dtype).reshape(shape)


def assert_identical(restored, original):
    assert restored.dtype == original.dtype
    assert restored.shape == original.shape
    assert restored.flags.writeable
    if original.dtype.kind == "f":  # bit for bit, NaN payloads and signed zeros included
        assert restored.tobytes(order="A") == original.tobytes(order="A")
    else:
        np.testing.assert_array_equal(restored, original)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_every_dtype_round_trips(interface, dtype):
    array = sample(dtype)
    interface.upload_raw_array("dtypes/array", array)
    assert_identical(interface.download_raw_array("dtypes/array"), array)


@pytest.mark.parametrize("dtype", ["float64", "int16", STRUCTURED], ids=str)
def test_fortran_order_is_kept(interface, dtype):
    array = np.asfortranarray(sample(dtype, (7, 4, 3)))
    interface.upload_raw_array("f/array", array)
    restored = interface.download_raw_array("f/array")
    assert restored.flags.f_contiguous and not restored.flags.c_contiguous
    assert_identical(restored, array)
    assert interface.get_object("f/array").metadata["order"] == "F"


def test_non_contiguous_views(interface):
    base = np.arange(400.0).reshape(20, 20)
    for view in (base[::2, ::3], base.T[1:, :7], base[:, 3], base[::-1]):
        interface.upload_raw_array("views/v", view)
        assert_identical(interface.download_raw_array("views/v"), view)


@pytest.mark.parametrize("shape", [(), (0,), (0, 5), (3, 0, 2), (1,)], ids=str)
def test_zero_d_and_empty_arrays(interface, shape):
    array = np.full(shape, 2.5)
    interface.upload_raw_array("shapes/a", array)
    assert_identical(interface.download_raw_array("shapes/a"), array)


@pytest.mark.parametrize("compression", ["gzip", "zlib", "bz2", "lzma", False, True])
def test_compressions(interface, compression):
    array = np.tile(np.arange(1000, dtype=np.int32), 50).reshape(100, 500)
    interface.upload_raw_array("c/a", array, compression=compression)
    assert_identical(interface.download_raw_array("c/a"), array)


def test_object_dtype_is_refused_and_nothing_is_written(interface):
    with pytest.raises(InvalidArrayError, match="object"):
        interface.upload_raw_array("obj", np.array([{"a": 1}, None], dtype=object))
    assert not interface.exists_object("obj")


def test_metadata_that_disagrees_with_size_is_an_error(interface):
    interface.upload_object("bad", b"\x00" * 10, dtype="<f8", shape="3")
    with pytest.raises(MetadataError, match="10 bytes"):
        interface.download_raw_array("bad")


@pytest.mark.parametrize("shape", ["-1,3", "a,b", "2.5"])
def test_malformed_shape_metadata(interface, shape):
    interface.upload_object("bad", b"\x00" * 24, dtype="<f8", shape=shape)
    with pytest.raises(MetadataError, match="shape"):
        interface.download_raw_array("bad")


def test_user_metadata_is_kept_and_reserved_keys_refused(interface):
    array = np.arange(4)
    interface.upload_raw_array("m", array, experiment="run 1", subject=7)
    metadata = interface.get_object("m").metadata
    assert metadata["experiment"] == "run 1" and metadata["subject"] == "7"
    with pytest.raises(MetadataError, match="reserved"):
        interface.upload_raw_array("m2", array, dtype="<i8")
    assert not interface.exists_object("m2")
