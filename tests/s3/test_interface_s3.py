"""cottoncandy 0.4's interface on the S3 backend, over HTTP to a moto server."""

import os
import pickle

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.errors import BucketNotFoundError, CottonCandyError, ObjectNotFoundError
from cc_core.interface import ObjectExistsError
from cc_core.progress import ByteCounter

from .conftest import ACCESS_KEY, SECRET_KEY, SMALL_PART

TREE = ["exp/sub01/run1.grp/data", "exp/sub01/run2.grp/data", "exp/sub02/run1.grp/data",
        "exp/notes.json", "other/x"]


def populate(cci):
    for name in TREE:
        cci.upload_object(name, name.encode())


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", ["<f8", ">i4", "complex64", "bool", "<U3"])
def test_raw_arrays_round_trip(s3_interface, dtype, order):
    data = np.arange(60).reshape(3, 4, 5)
    array = np.asarray(data.astype(dtype) if dtype != "<U3" else data.astype(str), order=order)
    s3_interface.upload_raw_array("arrays/a", array)
    back = s3_interface.download_raw_array("arrays/a")
    np.testing.assert_array_equal(back, array)
    assert back.dtype == array.dtype and back.flags.f_contiguous == (order == "F" and array.ndim > 1)
    assert back.flags.writeable


def test_large_raw_array_multipart_both_ways(s3_bucket, moto_endpoint, cc_settings, s3_client):
    cci = cc.get_interface(s3_bucket, ACCESS_KEY, SECRET_KEY, moto_endpoint, settings=cc_settings,
                           verbose=False, multipart_threshold=SMALL_PART, part_size=SMALL_PART,
                           min_part_size=SMALL_PART, download_threshold=SMALL_PART,
                           download_part_size=SMALL_PART // 2)
    array = np.asfortranarray(np.random.default_rng(1).random((300, 700)))  # 1.6 MiB, 7 parts
    counter = ByteCounter()
    cci.upload_raw_array("big", array, compression=False, experiment="multi", progress=counter)
    assert counter.transferred == array.nbytes
    assert s3_client.head_object(Bucket=s3_bucket, Key="big")["ETag"].strip('"').endswith("-7")
    down = ByteCounter()
    back = cci.download_raw_array("big", progress=down)
    np.testing.assert_array_equal(back, array)
    assert back.flags.f_contiguous and down.transferred == array.nbytes
    assert cci.get_object("big").metadata["experiment"] == "multi"


def test_compressed_array(s3_interface):
    array = np.tile(np.arange(1000.0), 50)
    s3_interface.upload_raw_array("z", array, compression="gzip")
    assert s3_interface.get_object("z").size < array.nbytes / 4
    np.testing.assert_array_equal(s3_interface.download_raw_array("z"), array)


def test_json_pickle_objects_and_streams(s3_interface):
    s3_interface.upload_object("plain", b"\x00\x01bytes")
    assert s3_interface.download_object("plain") == b"\x00\x01bytes"
    s3_interface.upload_json("doc.json", {"a": [1, 2, {"b": None}], "ü": "ß"})
    assert s3_interface.download_json("doc.json") == {"a": [1, 2, {"b": None}], "ü": "ß"}
    s3_interface.upload_pickle("p.pkl", {"set": {1, 2}})
    assert s3_interface.download_pickle("p.pkl") == {"set": {1, 2}}
    assert s3_interface.download_stream("plain").content.read() == b"\x00\x01bytes"


def test_user_metadata_round_trip(s3_interface):
    s3_interface.upload_raw_array("m", np.zeros(3), Subject="S01", note="café ☕", padded="  x  ")
    metadata = s3_interface.get_object("m").metadata
    assert metadata["subject"] == "S01"  # S3 lower-cases keys
    assert metadata["note"] == "café ☕" and metadata["padded"] == "  x  "
    assert metadata["dtype"] == "<f8" and metadata["shape"] == "3"


def test_files_and_directories(s3_interface, tmp_path):
    source = tmp_path / "in"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_bytes(b"A" * 1000)
    (source / "sub" / "b.bin").write_bytes(os.urandom(3000))
    assert s3_interface.upload_from_directory(source, "up", recursive=True) == ["up/a.txt", "up/sub/b.bin"]
    written = s3_interface.download_directory("up", tmp_path / "out")
    assert len(written) == 2
    assert (tmp_path / "out" / "sub" / "b.bin").read_bytes() == (source / "sub" / "b.bin").read_bytes()
    s3_interface.upload_from_file(source / "a.txt", "single")
    s3_interface.download_to_file("single", tmp_path / "single.txt")
    assert (tmp_path / "single.txt").read_bytes() == b"A" * 1000


def test_listing(s3_interface):
    populate(s3_interface)
    assert s3_interface.lsdir("exp") == ["exp/notes.json", "exp/sub01", "exp/sub02"]
    assert s3_interface.lsdir("/") == ["exp", "other"]
    assert s3_interface.ls("exp/*/run1*") == ["exp/sub01/run1.grp", "exp/sub02/run1.grp"]
    assert s3_interface.glob("/exp/*/run1*.grp/data") == ["exp/sub01/run1.grp/data", "exp/sub02/run1.grp/data"]
    assert s3_interface.glob("exp/**") == sorted(n for n in TREE if n.startswith("exp/"))
    assert s3_interface.glob("exp/sub01") == ["exp/sub01/run1.grp/data", "exp/sub01/run2.grp/data"]
    assert [o.name for o in s3_interface.get_objects("other")] == ["other/x"]
    assert s3_interface.get_size() == sum(len(n) for n in TREE)


def test_copy_move_remove_server_side(s3_interface, s3_client, s3_bucket):
    populate(s3_interface)
    s3_interface.upload_raw_array("arr", np.arange(6.0), experiment="e1")
    s3_interface.cp("arr", "copies/arr")
    assert s3_interface.get_object("copies/arr").metadata["experiment"] == "e1"
    np.testing.assert_array_equal(s3_interface.download_raw_array("copies/arr"), np.arange(6.0))
    with pytest.raises(ObjectExistsError, match="overwrite=True"):
        s3_interface.cp("arr", "copies/arr")
    assert s3_interface.cp("exp/sub01", "backup/sub01") == ["backup/sub01/run1.grp/data", "backup/sub01/run2.grp/data"]
    s3_interface.mv("backup", "moved")
    assert s3_interface.glob("backup/**") == []
    assert s3_interface.download_object("moved/sub01/run1.grp/data") == b"exp/sub01/run1.grp/data"
    with pytest.raises(CottonCandyError, match="recursive=True"):
        s3_interface.rm("moved")
    assert s3_interface.rm("moved", recursive=True) == ["moved/sub01/run1.grp/data", "moved/sub01/run2.grp/data"]
    assert s3_interface.rm("arr") == ["arr"]
    with pytest.raises(ObjectNotFoundError):
        s3_interface.rm("arr")


def test_copy_between_buckets(s3_interface, s3_client):
    other = s3_interface.bucket_name + "-b"
    s3_client.create_bucket(Bucket=other)
    try:
        s3_interface.upload_raw_array("x", np.arange(4), tag="t")
        s3_interface.cp("x", "y", dest_bucket=other)
        assert s3_client.head_object(Bucket=other, Key="y")["Metadata"]["tag"] == "t"
        s3_interface.set_bucket(other)
        np.testing.assert_array_equal(s3_interface.download_raw_array("y"), np.arange(4))
    finally:
        s3_client.delete_object(Bucket=other, Key="y")
        s3_client.delete_bucket(Bucket=other)


def test_buckets(s3_interface, s3_client, capsys):
    original = s3_interface.get_bucket()
    name = original + "-new"
    assert not s3_interface.exists_bucket(name)
    s3_interface.create_bucket(name)
    assert s3_interface.get_bucket() == name and s3_interface.exists_bucket(name)
    assert {original, name} <= set(s3_interface.show_buckets())
    assert name in capsys.readouterr().out
    s3_interface.upload_object("blocker", b"1")
    with pytest.raises(CottonCandyError, match="not empty.*'blocker'"):
        s3_interface.rm_bucket(name)
    s3_interface.rm("blocker")
    s3_interface.rm_bucket(name)
    assert not s3_interface.exists_bucket(name)
    with pytest.raises(BucketNotFoundError, match=name):
        s3_interface.set_bucket(name)


def test_get_interface_by_url_and_default_backend(s3_bucket, moto_endpoint, cc_settings):
    by_url = cc.get_interface(f"s3://{s3_bucket}", ACCESS_KEY, SECRET_KEY, moto_endpoint,
                              settings=cc_settings, verbose=False)
    plain = cc.get_interface(s3_bucket, ACCESS_KEY, SECRET_KEY, moto_endpoint, settings=cc_settings, verbose=False)
    assert by_url.backend_name == plain.backend_name == "s3"
    by_url.upload_json("j", [1])
    assert plain.download_json("j") == [1]


def test_missing_bucket_needs_force(moto_endpoint, cc_settings, s3_client):
    name = "cc-test-forced-bucket"
    with pytest.raises(BucketNotFoundError, match="force_bucket_creation=True"):
        cc.get_interface(name, ACCESS_KEY, SECRET_KEY, moto_endpoint, settings=cc_settings, verbose=False)
    cci = cc.get_interface(name, ACCESS_KEY, SECRET_KEY, moto_endpoint, force_bucket_creation=True,
                           settings=cc_settings, verbose=False)
    assert cci.exists_bucket(name)
    cci.rm_bucket(name)


def test_pickled_interface_has_no_secrets_and_works(s3_interface, monkeypatch):
    s3_interface.upload_raw_array("x", np.arange(3))
    data = pickle.dumps(s3_interface)
    assert SECRET_KEY.encode() not in data and ACCESS_KEY.encode() not in data
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)  # the worker finds keys in its environment
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    clone = pickle.loads(data)
    np.testing.assert_array_equal(clone.download_raw_array("x"), np.arange(3))
