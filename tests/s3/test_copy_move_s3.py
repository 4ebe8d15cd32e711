"""Copy, move and remove on S3 (moto): nothing lost, one request per object, in parallel.

The same faults as ``tests/core/test_copy_move.py``, on a real S3 protocol; see
docs/RELIABILITY.md, "Copy, move and remove".
"""

import threading

import numpy as np
import pytest
from core.test_copy_move import contents, fill  # the same helpers, on S3

from cc_core.errors import CottonCandyError, ObjectNotFoundError
from cc_core.interface import ObjectExistsError


def test_mv_of_a_folder_into_its_own_subfolder_is_refused_on_s3(s3_interface):
    fill(s3_interface)
    before = contents(s3_interface)
    with pytest.raises(CottonCandyError, match="into itself.*results/archive"):
        s3_interface.mv("results", "results/archive")
    with pytest.raises(CottonCandyError, match="into itself"):
        s3_interface.cp("results", "results/archive")
    assert contents(s3_interface) == before


def test_mv_of_a_folder_onto_names_it_is_moving_is_refused_on_s3(s3_interface):
    fill(s3_interface, ["a/b/x", "a/b/b/x"])
    before = contents(s3_interface)
    with pytest.raises(CottonCandyError, match="a/b/x"):
        s3_interface.mv("a/b", "a", overwrite=True)
    assert contents(s3_interface) == before


def test_mv_on_s3_deletes_only_the_objects_it_listed(s3_interface, s3_faults, s3_client, s3_bucket):
    """An object another client writes under the source during the move stays where it is."""
    fill(s3_interface)
    written = threading.Event()

    def write_late_object(request, log):
        if not written.is_set():
            written.set()
            s3_client.put_object(Bucket=s3_bucket, Key="results/late", Body=b"late")

    s3_faults(s3_interface.backend, "CopyObject", write_late_object)
    assert s3_interface.mv("results", "moved") == ["moved/r0", "moved/r1", "moved/sub/r2"]
    assert s3_interface.glob("results") == ["results/late"]
    assert contents(s3_interface, "moved") == {
        "moved/r0": b"results/r0", "moved/r1": b"results/r1", "moved/sub/r2": b"results/sub/r2"}


def test_folder_copy_sends_one_request_per_object_in_parallel(s3_interface, s3_faults):
    """#18: no HEAD per object (the overwrite check uses one listing of the destination), the
    copies on several threads."""
    names = [f"many/{i:03d}" for i in range(40)]
    fill(s3_interface, names)
    s3_interface.upload_object("copied/other", b"kept")
    backend = s3_interface.backend
    logs = {operation: s3_faults(backend, operation)
            for operation in ("HeadObject", "CopyObject", "ListObjectsV2", "DeleteObjects")}
    written = s3_interface.mv("many", "copied")
    assert written == [name.replace("many/", "copied/") for name in names]
    assert logs["CopyObject"].count("CopyObject") == len(names)
    assert logs["HeadObject"].count("HeadObject") <= 1  # is "many" an object? (once, not per object)
    assert logs["ListObjectsV2"].count("ListObjectsV2") == 2  # the source and the destination, once each
    assert logs["DeleteObjects"].count("DeleteObjects") == 1
    threads = {thread for _, _, thread in logs["CopyObject"].calls["CopyObject"]}
    assert len(threads) > 1
    assert s3_interface.glob("many") == []
    assert s3_interface.download_object("copied/017") == b"many/017"
    assert s3_interface.download_object("copied/other") == b"kept"


def test_folder_copy_refuses_existing_names_before_writing_on_s3(s3_interface):
    fill(s3_interface)
    s3_interface.upload_object("copy/sub/r2", b"old")
    with pytest.raises(ObjectExistsError, match="copy/sub/r2.*overwrite=True"):
        s3_interface.cp("results", "copy")
    assert s3_interface.glob("copy") == ["copy/sub/r2"]


def test_copy_or_move_onto_itself_keeps_the_object_on_s3(s3_interface, s3_bucket):
    s3_interface.upload_raw_array("arr", np.arange(5.0), note="kept")
    assert s3_interface.cp("arr", "arr") == ["arr"]
    assert s3_interface.mv(f"s3://{s3_bucket}/arr", "arr", overwrite=True) == ["arr"]
    assert s3_interface.mv("arr", "arr", source_bucket=s3_bucket, overwrite=True) == ["arr"]
    np.testing.assert_array_equal(s3_interface.download_raw_array("arr"), np.arange(5.0))
    assert s3_interface.get_object("arr").metadata["note"] == "kept"


def test_mv_between_two_buckets_and_back(s3_interface, s3_client, s3_bucket):
    other = s3_bucket + "-b"
    s3_client.create_bucket(Bucket=other)
    try:
        fill(s3_interface)
        assert s3_interface.mv("results", "arrived", dest_bucket=other) == ["arrived/r0", "arrived/r1", "arrived/sub/r2"]
        assert s3_interface.glob("results") == []
        assert s3_interface.mv(f"s3://{other}/arrived", "back") == ["back/r0", "back/r1", "back/sub/r2"]
        assert contents(s3_interface, "back") == {
            "back/r0": b"results/r0", "back/r1": b"results/r1", "back/sub/r2": b"results/sub/r2"}
        assert s3_client.list_objects_v2(Bucket=other).get("KeyCount") == 0
    finally:
        s3_client.delete_bucket(Bucket=other)


def test_rm_recursive_of_an_empty_prefix_warns_on_s3(s3_interface):
    with pytest.warns(UserWarning, match="nothing found under 'gone'"):
        assert s3_interface.rm("gone", recursive=True) == []
    with pytest.raises(ObjectNotFoundError, match="gone"):
        s3_interface.rm("gone")
