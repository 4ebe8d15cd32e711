"""The 0.4 interface on the local and memory backends: objects, files, listing, copy, move, remove."""

import os
import pickle
import threading
import uuid

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.errors import CottonCandyError, InvalidNameError, ObjectNotFoundError
from cc_core.interface import ObjectExistsError
from cc_core.payload import Payload
from cc_core.progress import ByteCounter


def populate(cci):
    for name in ["exp/sub01/run1.grp/data", "exp/sub01/run2.grp/data", "exp/sub02/run1.grp/data",
                 "exp/notes.json", "other/x"]:
        cci.upload_object(name, name.encode())


def test_objects_json_pickle(interface):
    interface.upload_object("plain", b"\x00\x01bytes")
    assert interface.download_object("plain") == b"\x00\x01bytes"
    interface.upload_json("doc.json", {"a": [1, 2, {"b": None}]})
    assert interface.download_json("doc.json") == {"a": [1, 2, {"b": None}]}
    interface.upload_pickle("p.pkl", {"set": {1, 2}})
    assert interface.download_pickle("p.pkl") == {"set": {1, 2}}
    stream = interface.download_stream("plain")
    assert stream.content.read() == b"\x00\x01bytes"


def test_pickle_can_be_switched_off(interface):
    interface.upload_pickle("p.pkl", [1])
    interface.settings.set("basic", "allow_pickle", "False")
    with pytest.raises(CottonCandyError, match="allow_pickle"):
        interface.download_pickle("p.pkl")
    assert pickle.loads(interface.download_object("p.pkl")) == [1]  # bytes are still readable


def test_exists_and_missing(interface):
    interface.upload_object("a/b", b"1")
    assert interface.exists_object("a/b") and interface.exists_object("/a/b")
    assert not interface.exists_object("a")
    with pytest.raises(ObjectNotFoundError, match="'a/c'"):
        interface.exists_object("a/c", raise_err=True)
    with pytest.raises(ObjectNotFoundError):
        interface.download_raw_array("a/c")


def test_listing(interface):
    populate(interface)
    assert interface.lsdir("exp") == ["exp/notes.json", "exp/sub01", "exp/sub02"]
    assert interface.lsdir("/") == ["exp", "other"]
    assert interface.lsdir("exp/sub01/") == ["exp/sub01/run1.grp", "exp/sub01/run2.grp"]
    assert interface.ls("exp/*/run1*") == ["exp/sub01/run1.grp", "exp/sub02/run1.grp"]
    assert interface.ls("exp/*") == interface.lsdir("exp")
    assert interface.glob("/exp/*/run1*.grp/data") == ["exp/sub01/run1.grp/data", "exp/sub02/run1.grp/data"]
    assert interface.glob("exp/*") == ["exp/notes.json"]
    assert interface.glob("exp/**") == ["exp/notes.json", "exp/sub01/run1.grp/data",
                                       "exp/sub01/run2.grp/data", "exp/sub02/run1.grp/data"]
    assert interface.glob("exp/sub0[2]/**/data") == ["exp/sub02/run1.grp/data"]
    assert interface.glob("exp/sub01") == ["exp/sub01/run1.grp/data", "exp/sub01/run2.grp/data"]
    assert interface.glob("nothing/*") == []
    assert [o.name for o in interface.get_objects("other")] == ["other/x"]
    assert interface.get_size() == sum(len(n) for n in ["exp/sub01/run1.grp/data", "exp/sub01/run2.grp/data",
                                                         "exp/sub02/run1.grp/data", "exp/notes.json", "other/x"])


def test_copy_move_remove(interface):
    populate(interface)
    interface.upload_raw_array("arr", np.arange(6.0), experiment="e1")
    interface.cp("arr", "copies/arr")
    assert interface.get_object("copies/arr").metadata["experiment"] == "e1"
    np.testing.assert_array_equal(interface.download_raw_array("copies/arr"), np.arange(6.0))
    with pytest.raises(ObjectExistsError, match="overwrite=True"):
        interface.cp("arr", "copies/arr")
    interface.cp("arr", "copies/arr", overwrite=True)
    assert interface.cp("exp/sub01", "backup/sub01") == ["backup/sub01/run1.grp/data", "backup/sub01/run2.grp/data"]
    interface.mv("backup", "moved")
    assert interface.glob("backup/**") == []
    assert interface.glob("moved/**") == ["moved/sub01/run1.grp/data", "moved/sub01/run2.grp/data"]
    with pytest.raises(CottonCandyError, match="recursive=True"):
        interface.rm("moved")
    assert interface.rm("moved", recursive=True) == ["moved/sub01/run1.grp/data", "moved/sub01/run2.grp/data"]
    assert interface.rm("arr") == ["arr"]
    with pytest.raises(ObjectNotFoundError):
        interface.rm("arr")


def test_files_and_directories(interface, tmp_path):
    source = tmp_path / "in"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_bytes(b"A" * 1000)
    (source / "sub" / "b.bin").write_bytes(os.urandom(3000))
    assert interface.upload_from_directory(source, "up", recursive=True) == ["up/a.txt", "up/sub/b.bin"]
    assert interface.upload_from_directory(source, "flat") == ["flat/a.txt"]
    written = interface.download_directory("up", tmp_path / "out")
    assert len(written) == 2
    assert (tmp_path / "out" / "sub" / "b.bin").read_bytes() == (source / "sub" / "b.bin").read_bytes()
    counter = ByteCounter()
    interface.upload_from_file(source / "a.txt", "single")
    interface.download_to_file("single", tmp_path / "single.txt", progress=counter)
    assert (tmp_path / "single.txt").read_bytes() == b"A" * 1000
    assert counter.transferred == 1000


def test_failed_download_leaves_no_file(interface, tmp_path):
    interface.upload_object("corrupt", b"not gzip at all", **{})
    interface.backend.put("corrupt", Payload([b"not a gzip stream"]), {"cc-transforms": "gzip"})
    target = tmp_path / "dl" / "file.bin"
    with pytest.raises(CottonCandyError):
        interface.download_to_file("corrupt", target)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_interface_pickles_without_secrets(tmp_path, cc_settings):
    cci = cc.get_interface(str(tmp_path), ACCESS_KEY="AKIAFAKE", SECRET_KEY="fake-secret-value", settings=cc_settings)
    data = pickle.dumps(cci)
    assert b"fake-secret-value" not in data and b"AKIAFAKE" not in data
    cci._backend_options["aws_session_token"] = "fake-session-token"
    assert b"fake-session-token" not in pickle.dumps(cci)
    del cci._backend_options["aws_session_token"]
    assert "fake-secret" not in repr(cci)
    clone = pickle.loads(data)
    cci.upload_raw_array("x", np.arange(3))
    np.testing.assert_array_equal(clone.download_raw_array("x"), np.arange(3))


def test_get_interface_by_url_and_path(tmp_path, cc_settings):
    by_url = cc.get_interface(f"file://{tmp_path}", settings=cc_settings)
    by_path = cc.get_interface(str(tmp_path), settings=cc_settings)
    assert by_url.backend_name == by_path.backend_name == "local"
    by_url.upload_object("u", b"1")
    assert by_path.download_object("u") == b"1"


# -- local backend specifics ----------------------------------------------------------------------

class FailingStream:
    """A stream that fails after some bytes, like a crash mid-upload."""

    def __init__(self, good: int) -> None:
        self.good = good

    def read(self, size=-1):
        if self.good <= 0:
            raise OSError("simulated failure mid-write")
        chunk = b"N" * min(self.good, 1000 if size < 0 else size)
        self.good -= len(chunk)
        return chunk


@pytest.mark.parametrize("fail_after", [0, 10, 5000])
def test_local_interrupted_write_keeps_old_version(local_interface, fail_after):
    local_interface.upload_raw_array("obj", np.arange(10.0))
    with pytest.raises(OSError, match="simulated"):
        local_interface.upload_object("obj", Payload(stream=FailingStream(fail_after)))
    np.testing.assert_array_equal(local_interface.download_raw_array("obj"), np.arange(10.0))
    leftovers = [p.name for p in local_interface.backend.root.iterdir()]
    assert sorted(leftovers) == ["obj", "obj.meta.json"]


def test_local_names_cannot_escape_root(local_interface, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, local_interface.backend.root / "link")
    with pytest.raises((InvalidNameError, ObjectNotFoundError)):
        local_interface.upload_object("link/evil", b"x")
    assert list(outside.iterdir()) == []
    for name in ["../escape", "/../../etc/passwd", "a/\x00"]:
        with pytest.raises(InvalidNameError):
            local_interface.upload_object(name, b"x")


def test_local_layout_and_empty_folder_cleanup(local_interface):
    root = local_interface.backend.root
    local_interface.upload_object("deep/er/obj", b"1")
    assert (root / "deep" / "er" / "obj").read_bytes() == b"1"
    assert (root / "deep" / "er" / "obj.meta.json").exists()
    local_interface.rm("deep/er/obj")
    assert list(root.iterdir()) == []


def test_local_concurrent_reader_never_sees_a_mix(local_interface):
    versions = [np.full(200_000, i, dtype=np.int64) for i in range(2)]
    shapes = [(200_000,), (400, 500)]
    local_interface.upload_raw_array("hot", versions[0])
    stop = threading.Event()
    errors = []

    def writer():
        i = 0
        while not stop.is_set():
            local_interface.upload_raw_array("hot", versions[i % 2].reshape(shapes[i % 2]))
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(150):
            array = local_interface.download_raw_array("hot")
            value = array.flat[0]
            if array.shape != shapes[int(value)] or not (array == value).all():
                errors.append((array.shape, value))
    finally:
        stop.set()
        thread.join()
    assert errors == []


def test_urls_work_wherever_a_name_does(memory_interface):
    other = f"other-{uuid.uuid4().hex}"
    memory_interface.backend.create_bucket(other)
    url = f"memory://{other}/exp/x"
    memory_interface.upload_raw_array(url, np.arange(4.0))
    assert memory_interface.exists_object(url) and not memory_interface.exists_object("exp/x")
    np.testing.assert_array_equal(memory_interface.download_raw_array(url), np.arange(4.0))
    assert memory_interface.glob(f"memory://{other}/**") == [url]
    assert memory_interface.lsdir(f"memory://{other}/exp") == [url]
    assert memory_interface.get_object(url).size == 32
    memory_interface.cp(url, "here/x")  # from the other bucket into this one
    np.testing.assert_array_equal(memory_interface.download_raw_array("here/x"), np.arange(4.0))
    assert memory_interface.rm(url) == ["exp/x"]
    with pytest.raises(InvalidNameError, match="s3"):
        memory_interface.download_raw_array("s3://bucket/key")


def test_file_urls_under_the_root(local_interface, tmp_path):
    root = local_interface.backend.root
    local_interface.upload_object(f"file://{root}/sub/x", b"1")
    assert (root / "sub" / "x").read_bytes() == b"1"
    assert local_interface.glob(f"file://{root}/sub/*") == [f"file://{root}/sub/x"]
    with pytest.raises(InvalidNameError, match="outside"):
        local_interface.upload_object(f"file://{tmp_path}/elsewhere", b"1")
    with pytest.raises(InvalidNameError, match="outside"):
        local_interface.upload_object(f"file://{root}/../escape", b"1")


def test_local_stream_shorter_than_announced_stores_what_it_had(local_interface):
    """Blocks are reserved for the announced size; a stream that ends early leaves no zero tail."""
    import io

    local_interface.upload_object("short", Payload(stream=io.BytesIO(b"abc"), size=1000))
    assert local_interface.download_object("short") == b"abc"
    assert (local_interface.backend.root / "short").stat().st_size == 3
