"""``open_array``: a lazy, read-only array whose indexing reads only the byte ranges that hold the
selection (raw arrays on the local and memory backends; whole-object fallback for compressed ones)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from cc_core.errors import MetadataError, ObjectChangedError, ObjectNotFoundError
from cc_core.lazy_array import LazyArray, coalesce, plan_reads
from cc_core.pipeline import PREFIX_SIZE
from cc_core.testing.read_counter import ReadCounter

SELECTIONS = [
    (), 0, -1, 3, slice(None), slice(2, 5), slice(None, None, -1), slice(5, 1, -2), slice(None, None, 3),
    (slice(1, 4), 2), (Ellipsis, 1), (Ellipsis, slice(None, None, -2)), (None, 2), (slice(1, 3), None, Ellipsis),
    (2, slice(None), slice(1, 2)), (-1, -1, -1), (slice(0, 0),), (slice(10, 20),), (1, Ellipsis, None),
]


def cube(order: str) -> np.ndarray:
    return np.asarray(np.arange(7 * 5 * 4, dtype="<f8").reshape(7, 5, 4), order=order)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("selection", SELECTIONS, ids=repr)
def test_a_selection_equals_numpy(interface, order, selection):
    array = cube(order)
    interface.upload_raw_array("cube", array, compression=False)
    lazy = interface.open_array("cube")
    expected = array[selection]
    got = lazy[selection]
    assert type(got) is type(expected) and got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_the_array_describes_itself_from_one_read_of_its_first_bytes(local_interface, monkeypatch):
    array = cube("F")  # 1,120 bytes: all of it lies in the first bytes read when it is opened
    local_interface.upload_raw_array("cube", array, compression=False)
    counter = ReadCounter(local_interface.backend, monkeypatch)
    lazy = local_interface.open_array("cube")
    assert (lazy.shape, lazy.dtype, lazy.ndim, lazy.size, lazy.nbytes, len(lazy)) == (
        array.shape, array.dtype, 3, array.size, array.nbytes, 7)
    assert (counter.requests, counter.requested) == (1, array.nbytes)
    assert "cube" in repr(lazy) and "(7, 5, 4)" in repr(lazy) and "random access" in repr(lazy)
    assert lazy.seekable and lazy.order == "F"
    np.testing.assert_array_equal(np.asarray(lazy), array)
    np.testing.assert_array_equal(np.asarray(lazy, dtype="f4"), array.astype("f4"))
    assert counter.requests == 1, "selections inside the first bytes read are answered from memory"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(),
       shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6),
       dtype=st.sampled_from(["<f8", ">i2", "u1", "<c16", "S3", [("a", "<i4"), ("b", ">f8", (2,))]]),
       order=st.sampled_from("CF"), gap=st.sampled_from([0, 16, 1 << 20]))
def test_any_basic_selection_equals_numpy(local_interface, data, shape, dtype, order, gap):
    dtype = np.dtype(dtype)
    array = np.asarray(np.frombuffer(np.random.default_rng(0).bytes(int(np.prod(shape)) * dtype.itemsize),
                                     dtype=dtype).reshape(shape), order=order)
    local_interface.upload_raw_array("a", array, compression=False)
    lazy = local_interface.open_array("a", gap=gap)
    selection = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    expected = array[selection]
    got = lazy[selection]
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert got.tobytes() == np.ascontiguousarray(expected).tobytes()


def test_ten_rows_of_a_large_array_move_about_their_size(local_interface, monkeypatch):
    array = np.arange(40_000 * 64, dtype="f8").reshape(40_000, 64)  # 20 MiB
    local_interface.upload_raw_array("big", array, compression=False)
    counter = ReadCounter(local_interface.backend, monkeypatch)
    lazy = local_interface.open_array("big")
    np.testing.assert_array_equal(lazy[12_345:12_355], array[12_345:12_355])
    # the object's info with its first bytes, then the rows
    assert counter.requested == PREFIX_SIZE + 10 * 64 * 8 and counter.requests == 2
    counter.reset()
    np.testing.assert_array_equal(lazy[5_000::10_000, 5], array[5_000::10_000, 5])  # rows far apart: one range each
    assert counter.requested == 4 * 8 and counter.requests == 4


def test_near_ranges_are_read_as_one(local_interface, monkeypatch):
    array = np.arange(1000 * 100, dtype="f8").reshape(1000, 100)
    local_interface.upload_raw_array("a", array, compression=False)
    lazy, apart = local_interface.open_array("a"), local_interface.open_array("a", gap=0)
    counter = ReadCounter(local_interface.backend, monkeypatch)
    np.testing.assert_array_equal(lazy[:, 3], array[:, 3])
    assert counter.requests == 1
    counter.reset()
    np.testing.assert_array_equal(apart[100:110, 3], array[100:110, 3])
    assert counter.requests == 10 and counter.requested == 80


def test_large_ranges_are_read_in_parallel_parts(local_interface, monkeypatch):
    array = np.arange(3 << 20, dtype="u1")
    local_interface.upload_raw_array("a", array, compression=False)
    lazy = local_interface.open_array("a", threads=4, part_size=1 << 20)
    counter = ReadCounter(local_interface.backend, monkeypatch)
    np.testing.assert_array_equal(lazy[100:], array[100:])
    assert counter.requests == 3 and counter.requested == array.nbytes - 100


def test_plans_cover_exactly_the_selection():
    plan = plan_reads((10, 20), 8, (slice(2, 4, 1), slice(0, 20, 1)), gap=0)
    assert plan.ranges == [(2 * 160, 4 * 160)] and plan.buffer_shape == (2, 20)
    assert coalesce(np.array([0, 10, 100]), 5, gap=5) == [(0, 15), (100, 105)]


@pytest.mark.parametrize("compression", ["gzip", "bz2"])
def test_compressed_objects_are_read_whole_once(local_interface, monkeypatch, compression):
    array = cube("F")
    local_interface.upload_raw_array("z", array, compression=compression)
    counter = ReadCounter(local_interface.backend, monkeypatch)
    lazy = local_interface.open_array("z")
    assert not lazy.seekable and "not seekable" in repr(lazy)
    stored = local_interface.get_object("z").size
    assert lazy.shape == array.shape and (counter.requests, counter.requested) == (1, min(stored, PREFIX_SIZE))
    counter.reset()
    np.testing.assert_array_equal(lazy[2:4, ::-1], array[2:4, ::-1])
    np.testing.assert_array_equal(lazy[..., 1], array[..., 1])
    assert (counter.requests, counter.requested) == (1, stored)


def test_refusals(local_interface):
    local_interface.upload_object("bytes", b"abc")
    local_interface.upload_raw_array("a", np.zeros((3, 4)), compression=False)
    with pytest.raises(ObjectNotFoundError):
        local_interface.open_array("missing")
    with pytest.raises(MetadataError, match="not an array"):
        local_interface.open_array("bytes")
    lazy = local_interface.open_array("a")
    with pytest.raises(IndexError):
        lazy[3]
    with pytest.raises(IndexError):
        lazy[0, 0, 0]
    with pytest.raises(IndexError, match="basic indexing"):
        lazy[[0, 1]]
    with pytest.raises(TypeError):
        lazy[0] = 1  # read-only


def test_a_replaced_object_is_not_mixed_with_the_version_opened(local_interface):
    local_interface.upload_raw_array("a", np.zeros((1000, 4)), compression=False)
    lazy = local_interface.open_array("a")
    local_interface.upload_raw_array("a", np.ones((1000, 4)), compression=False)
    assert not lazy[0].any(), "the first bytes, read when the array was opened, are of the version opened"
    with pytest.raises(ObjectChangedError, match="replaced"):
        lazy[900]


def test_pickles(local_interface):
    array = cube("C")
    local_interface.upload_raw_array("cube", array, compression=False)
    lazy = pickle.loads(pickle.dumps(local_interface.open_array("cube")))
    assert isinstance(lazy, LazyArray)
    np.testing.assert_array_equal(lazy[1:3, 2], array[1:3, 2])
