"""``open_array`` on npy objects (the header from one small ranged read) and on compressed
objects (zstd: read whole once), and ``to_dask`` over one stored object."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from cc_core.pipeline import PREFIX_SIZE
from cc_core.testing.read_counter import ReadCounter


@pytest.mark.parametrize("order", ["C", "F"])
def test_npy_slices_read_only_the_header_and_the_selection(local_interface, monkeypatch, order):
    array = np.asarray(np.arange(20_000 * 32, dtype=">i4").reshape(20_000, 32), order=order)
    local_interface.upload_npy_array("a.npy", array)
    counter = ReadCounter(local_interface.backend, monkeypatch)
    lazy = local_interface.open_array("a.npy")
    assert (lazy.shape, lazy.dtype, lazy.order, lazy.seekable) == (array.shape, array.dtype, order, True)
    assert counter.requested <= 4096
    counter.reset()
    for selection in [slice(5000, 5010), (slice(None, None, -7000), slice(3, 9)), (7, -1), (Ellipsis, 31)]:
        np.testing.assert_array_equal(lazy[selection], array[selection])
    counter.reset()
    lazy[100:110]
    assert counter.requests == 1  # F order: 32 runs of 40 bytes, 80 kB apart, read as one range
    counter.reset()
    local_interface.open_array("a.npy", gap=0)[5000:5010]  # past the first 4 KiB, read with the header
    assert counter.requested - 4096 == 10 * 32 * 4 and counter.requests == 1 + (1 if order == "C" else 32)


@pytest.mark.parametrize("dtype", ["<f8", "S3", [("a", "<i4"), ("b", ">f8", (2,))]])
def test_npy_dtypes(interface, dtype):
    array = np.zeros((6, 5), dtype=dtype)
    array.view(np.uint8)[...] = np.arange(array.nbytes, dtype=np.uint8).reshape(array.view(np.uint8).shape)
    interface.upload_npy_array("a", array)
    lazy = interface.open_array("a")
    np.testing.assert_array_equal(lazy[1:4, ::-2], array[1:4, ::-2])
    np.testing.assert_array_equal(np.asarray(lazy), array)


def test_zstd_is_read_whole_once(local_interface, monkeypatch):
    array = np.arange(3000.0).reshape(100, 30)
    local_interface.upload_raw_array("z", array, compression="zstd")
    counter = ReadCounter(local_interface.backend, monkeypatch)
    lazy = local_interface.open_array("z")
    assert not lazy.seekable and counter.requests == 1 and counter.requested <= PREFIX_SIZE  # with the info
    counter.reset()
    np.testing.assert_array_equal(lazy[10:20], array[10:20])
    np.testing.assert_array_equal(lazy[:, 3], array[:, 3])
    assert counter.requests == 1


def test_to_dask_chunks_are_ranged_reads(local_interface, monkeypatch):
    array = np.arange(1000 * 40, dtype="f4").reshape(1000, 40)
    local_interface.upload_raw_array("a", array, compression=False)
    lazy = local_interface.open_array("a")
    dask_array = lazy.to_dask(chunks=(100, 40))
    assert dask_array.shape == array.shape and dask_array.dtype == array.dtype and dask_array.numblocks == (10, 1)
    counter = ReadCounter(local_interface.backend, monkeypatch)
    np.testing.assert_array_equal(dask_array[250:260].compute(scheduler="sync"), array[250:260])
    assert 10 * 40 * 4 <= counter.requested <= 100 * 40 * 4  # at most its chunk (dask fuses the slice into the read)
    np.testing.assert_array_equal(dask_array.sum(axis=0, dtype="f8").compute(), array.sum(axis=0, dtype="f8"))
    again = pickle.loads(pickle.dumps(dask_array))
    np.testing.assert_array_equal(again[990:].compute(scheduler="sync"), array[990:])
    assert lazy.to_dask(chunks=(100, 40)).name == dask_array.name
