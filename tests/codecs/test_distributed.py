"""cottoncandy's dask layout on a dask.distributed cluster of worker processes (local backend):
interfaces that unpickle anywhere, keys never made in workers, writes that run on the cluster."""

from __future__ import annotations

import json
import pickle

import dask.array as da
import numpy as np
import pytest
from dask.delayed import Delayed

import cottoncandy as cc
from cc_core.errors import UnknownComponentError
from cc_crypto.errors import MasterKeyMissingError
from cc_crypto.keys import MasterKeyCreatedWarning

RNG = np.random.default_rng(18)


def test_an_unpickled_interface_never_generates_a_master_key(tmp_path, cc_config_dir, monkeypatch):
    cci = cc.get_encrypted_interface(str(tmp_path / "store"), backend="local", force_bucket_creation=True)
    elsewhere = tmp_path / "elsewhere-config"
    monkeypatch.setenv("CC_CONFIG_DIR", str(elsewhere))  # as a process on another machine
    clone = pickle.loads(pickle.dumps(cci))
    with pytest.raises(MasterKeyMissingError, match=r"cc\.distributed\.setup\(client, cci\)"):
        clone.upload_object("x", b"data")
    assert not (cc_config_dir / "master.key").exists() and not (elsewhere / "master.key").exists()
    with pytest.warns(MasterKeyCreatedWarning):  # the user's own interface still makes the key on first use
        cci.upload_object("x", b"data")


def _encrypt_in_a_task(root: str) -> None:
    cc.get_encrypted_interface(root, backend="local").upload_object("made-in-a-worker", b"data")


@pytest.mark.slow
def test_an_interface_built_in_a_worker_never_generates_a_master_key(cluster_client, bare_cluster, tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    with pytest.raises(MasterKeyMissingError, match="no master key"):
        cluster_client.submit(_encrypt_in_a_task, str(root), pure=False).result(timeout=60)
    assert not (bare_cluster.worker_config_dir / "master.key").exists()
    assert not list(root.iterdir())


@pytest.mark.slow
def test_unpickling_never_fails_the_task_graph(cluster_client, counting_interface):
    cci = counting_interface  # its backend plugin is registered in the client process only
    cci.upload_dask_array("a", np.arange(100.0), buffersize=400)
    with pytest.raises(UnknownComponentError, match="counting-memory"):
        cluster_client.compute(cci.download_dask_array("a").sum()).result(timeout=60)


@pytest.mark.slow
def test_compute_false_returns_a_delayed_that_writes_the_array(cluster_client, local_interface):
    array = da.from_array(RNG.standard_normal((40, 30)), chunks=(10, 30))
    later = local_interface.upload_dask_array("later", array, compute=False)
    assert isinstance(later, Delayed)
    assert not local_interface.exists_object("later/metadata.json")
    later.compute()
    np.testing.assert_array_equal(local_interface.download_dask_array("later").compute(), array.compute())


@pytest.mark.slow
def test_da_store_into_a_dask_target_gives_the_upload_layout(cluster_client, local_interface):
    array = da.from_array(RNG.standard_normal((40, 30)), chunks=(10, 15))
    local_interface.upload_dask_array("uploaded", array)
    target = local_interface.dask_target("stored", like=array)
    da.store(array, target, lock=False)
    read = local_interface.download_json
    assert read("stored/metadata.json") == json.loads(json.dumps(read("uploaded/metadata.json")).replace("uploaded", "stored"))
    np.testing.assert_array_equal(local_interface.download_dask_array("stored").compute(), array.compute())
    with pytest.raises(ValueError, match="rechunk"):
        da.store(array.rechunk((20, 30)), local_interface.dask_target("other", like=array), lock=False)


def test_dask_target_without_a_cluster(local_interface):
    array = np.arange(24.0).reshape(4, 6)
    target = local_interface.dask_target("t", like=da.from_array(array, chunks=(2, 3)))
    da.store(da.from_array(array, chunks=(2, 3)), target, scheduler="threads", lock=False)
    np.testing.assert_array_equal(local_interface.download_dask_array("t").compute(), array)


@pytest.mark.parametrize("call", [
    lambda cci: cci.upload_raw_array("x", np.zeros(3), compute=False),
    lambda cci: cci.upload_json("x", {}, scheduler="threads"),
    lambda cci: cci.upload_dask_array("x", np.zeros(3), buffersize=8, keys=["a"]),
])
def test_parameters_of_other_methods_are_not_taken_as_metadata(local_interface, call):
    with pytest.raises(TypeError, match="not metadata"):
        call(local_interface)
    assert not local_interface.glob("x")


def test_other_keyword_arguments_are_still_metadata_as_in_04(local_interface):
    local_interface.upload_raw_array("x", np.zeros(3), subject="S1")
    local_interface.upload_dask_array("d", np.zeros(3), subject="S2")
    assert local_interface.get_object("x").metadata["subject"] == "S1"
    assert local_interface.get_object("d/metadata.json").metadata["subject"] == "S2"
