"""The dask layout: chunk planning, round trips, lazy reads, parallel and distributed use."""

from __future__ import annotations

import logging
import pickle
import threading
import uuid

import dask
import dask.array as da
import numpy as np
import pytest

from cc_codec_npy.dask_array import plan_chunks
from cc_core.errors import MetadataError
from cc_core.interface import CCInterface

RNG = np.random.default_rng(7)


@pytest.mark.parametrize(
    "shape, itemsize, axis, buffersize, expected",
    [
        ((10, 100), 8, -1, 800, ((10,), (10,) * 10)),
        ((10, 100), 8, 0, 1600, ((2,) * 5, (100,))),
        ((10, 95), 8, 1, 800, ((10,), (10,) * 9 + (5,))),
        ((4, 4), 8, -1, 1, ((4,), (1, 1, 1, 1))),  # at least one slab per chunk
        ((0, 5), 4, -1, 100, ((0,), (5,))),
        ((), 8, -1, 100, ()),
    ],
)
def test_plan_chunks_along_an_axis(shape, itemsize, axis, buffersize, expected):
    assert plan_chunks(shape, itemsize, axis, buffersize) == expected


def test_plan_chunks_without_axis_is_near_cubic_and_within_buffersize():
    chunks = plan_chunks((100, 100, 100), 8, None, 8 * 1000)
    assert chunks == ((10,) * 10,) * 3
    small_first = plan_chunks((2, 1000, 1000), 8, None, 8 * 20000)
    sides = [dim[0] for dim in small_first]
    assert sides[0] == 2 and sides[1] == sides[2] == 100
    assert np.prod(sides) * 8 <= 8 * 20000


@pytest.mark.parametrize("axis", [-1, 0, 1, None])
def test_numpy_round_trip(interface, axis):
    array = RNG.standard_normal((12, 9, 20))
    interface.upload_dask_array("d", array, axis=axis, buffersize=8 * 9 * 20 * 2)
    lazy = interface.download_dask_array("d")
    assert isinstance(lazy, da.Array) and lazy.shape == array.shape and lazy.dtype == array.dtype
    assert lazy.npartitions > 1
    np.testing.assert_array_equal(lazy.compute(), array)


def test_structured_and_zero_d_arrays(interface):
    structured = np.array([(1, 2.0), (3, 4.0), (5, 6.0)], dtype=[("i", "<i4"), ("f", "<f8")])
    interface.upload_dask_array("s", structured, buffersize=24)
    restored = interface.download_dask_array("s").compute()
    assert restored.dtype == structured.dtype
    np.testing.assert_array_equal(restored, structured)
    interface.upload_dask_array("z", np.array(4.5))
    assert interface.download_dask_array("z").compute() == 4.5


def test_default_chunk_size_comes_from_config(interface):
    interface.settings.set("upload_settings", "dask_chunksize", "1")
    array = np.zeros((4, 2 * 1024 * 1024 // 8 // 4 + 10))  # a little over 2 MB
    interface.upload_dask_array("big", array)
    assert interface.download_dask_array("big").npartitions == 3


def test_parts_take_the_requested_compression(interface):
    interface.upload_dask_array("c", np.arange(100.0), buffersize=400, compression="zstd", note="hello")
    part = interface.get_object("c/pt0000")
    assert part.metadata["compression"] == "Zstd"
    assert interface.get_object("c/metadata.json").metadata["note"] == "hello"
    np.testing.assert_array_equal(interface.download_dask_array("c").compute(), np.arange(100.0))


def test_dask_input_keeps_its_chunks_and_is_never_computed_whole(interface):
    computed_shapes = []
    lock = threading.Lock()

    def make_block(block, block_info=None):
        with lock:
            computed_shapes.append(block.shape)
        location = block_info[None]["array-location"]
        rows = np.arange(location[0][0], location[0][1])[:, None]
        return np.broadcast_to(rows * 1000.0 + np.arange(location[1][0], location[1][1]), block.shape).copy()

    lazy = da.zeros((40, 30), chunks=(10, 15)).map_blocks(make_block, dtype=float, meta=np.empty((0, 0)))
    interface.upload_dask_array("from-dask", lazy, threads=3)
    assert len(computed_shapes) == 8 and set(computed_shapes) == {(10, 15)}
    restored = interface.download_dask_array("from-dask")
    assert restored.chunks == ((10,) * 4, (15, 15))
    expected = np.arange(40)[:, None] * 1000.0 + np.arange(30)
    np.testing.assert_array_equal(restored.compute(), expected)


def test_dask_input_is_rechunked_when_buffersize_is_given(interface):
    lazy = da.arange(1000, chunks=100).astype(np.float64)
    interface.upload_dask_array("re", lazy, buffersize=8 * 250)
    restored = interface.download_dask_array("re")
    assert restored.chunks == ((250,) * 4,)
    np.testing.assert_array_equal(restored.compute(), np.arange(1000.0))


def test_download_reads_metadata_only_and_slices_fetch_their_chunks(counting_interface, reads):
    array = RNG.standard_normal((6, 100))
    counting_interface.upload_dask_array("lazy", array, axis=-1, buffersize=6 * 8 * 10)  # 10 parts
    reads.clear()
    lazy = counting_interface.download_dask_array("lazy")
    assert dict(reads) == {"lazy/metadata.json": 1}
    np.testing.assert_array_equal(lazy[:, 25:38].compute(), array[:, 25:38])
    assert sorted(name for name in reads if "/pt" in name) == ["lazy/pt0002", "lazy/pt0003"]
    assert all(count == 1 for count in reads.values())


def test_two_arrays_in_one_computation_do_not_collide(interface):
    interface.upload_dask_array("a", np.zeros(10), buffersize=40)
    interface.upload_dask_array("b", np.ones(10), buffersize=40)
    total = interface.download_dask_array("a") + interface.download_dask_array("b")
    np.testing.assert_array_equal(total.compute(), np.ones(10))


def test_damaged_layouts_are_reported(interface):
    interface.upload_dask_array("bad", np.arange(10.0), buffersize=40)
    interface.upload_raw_array("bad/pt0001", np.arange(3.0))  # replaced with the wrong shape
    with pytest.raises(MetadataError, match="bad/pt0001"):
        interface.download_dask_array("bad").compute(scheduler="sync")
    interface.upload_json("notdask/metadata.json", {"hello": 1})
    with pytest.raises(MetadataError, match="upload_dask_array"):
        interface.download_dask_array("notdask")


def test_graph_pickles_without_credentials(cc_settings):
    secret = "SECRET-" + uuid.uuid4().hex
    cci = CCInterface(f"p-{uuid.uuid4().hex}", "ACCESS-KEY", secret, backend="memory",
                      force_bucket_creation=True, settings=cc_settings)
    cci.upload_dask_array("p", np.arange(20.0), buffersize=80)
    lazy = cci.download_dask_array("p")
    dumped = pickle.dumps(dict(lazy.__dask_graph__()))
    assert secret.encode() not in dumped and b"ACCESS-KEY" not in dumped
    twice = pickle.loads(pickle.dumps(pickle.loads(pickle.dumps(lazy))))  # as a worker passes it on
    np.testing.assert_array_equal(dask.compute(twice)[0], np.arange(20.0))


@pytest.mark.slow
def test_computes_on_a_distributed_cluster_of_processes(local_interface):
    distributed = pytest.importorskip("distributed")
    array = RNG.standard_normal((8, 60))
    local_interface.upload_dask_array("dist", array, axis=-1, buffersize=8 * 8 * 10)
    lazy = local_interface.download_dask_array("dist")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1", silence_logs=logging.ERROR) as cluster, distributed.Client(cluster) as client:
        result = client.compute(lazy[:, 5:45].sum(axis=0)).result(timeout=60)
        workers = client.run(lambda: __import__("os").getpid())
    np.testing.assert_allclose(result, array[:, 5:45].sum(axis=0))
    assert len(set(workers.values())) == 2
