"""The local backend's layout: names that collide with its own files, objects that would have to be
folders too, symbolic links, the root folder and empty folders (issues #13 and #17).

The layout is cottoncandy 0.4's: object ``NAME`` is the file ``<root>/NAME`` and its metadata the
file ``<root>/NAME.meta.json``; a write goes through temporary files named
``.NAME.cc-tmp-<32 hex digits>``. Every name ``put`` accepts must behave like any other name;
the names the layout cannot hold are refused before anything is written.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.errors import BucketNotFoundError, InvalidNameError, ObjectNotFoundError

TEMP_LIKE = ".run.cc-tmp-" + "0123456789abcdef" * 2


def files_under(root) -> list[str]:
    """Every file and folder below ``root``, as relative paths."""
    found = []
    for directory, folders, files in os.walk(root):
        for entry in folders + files:
            found.append(os.path.relpath(os.path.join(directory, entry), root))
    return sorted(found)


@pytest.mark.parametrize("name", ["run.meta.json", "a/x.meta.json", "a.meta.json/b", ".meta.json", TEMP_LIKE, f"d/{TEMP_LIKE}/e"])
def test_names_the_layout_keeps_for_itself_are_refused_and_nothing_is_written(local_interface, name):
    cci = local_interface
    cci.upload_raw_array("run", np.arange(5.0))
    cci.upload_raw_array("a/x", np.arange(3))
    before = files_under(cci.backend.root)
    with pytest.raises(InvalidNameError, match="local") as raised:
        cci.upload_json(name, {"a": 1})
    assert repr(name) in str(raised.value)
    with pytest.raises(InvalidNameError):
        cci.backend.copy("run", name)
    with pytest.raises(InvalidNameError):
        cci.download_object(name)
    with pytest.raises(InvalidNameError):
        cci.backend.delete(name)
    assert files_under(cci.backend.root) == before
    np.testing.assert_array_equal(cci.download_raw_array("run"), np.arange(5.0))
    np.testing.assert_array_equal(cci.download_raw_array("a/x"), np.arange(3))


@pytest.mark.parametrize("name", ["run.cc-tmp-final", "x/.cc-tmp-", "notes.cc-tmp-0123456789abcdef0123456789abcdef",
                                  "run.meta", "run.json", "meta.json", "d.meta.json.bak/v"])
def test_names_close_to_the_layout_files_round_trip_list_copy_and_delete(local_interface, name):
    cci = local_interface
    cci.upload_json(name, {"name": name})
    assert cci.download_json(name) == {"name": name}
    assert name in [o.name for o in cci.backend.list("")]
    assert cci.glob(name) == [name]
    cci.backend.copy(name, name + "-copy")
    assert cci.download_json(name + "-copy") == {"name": name}
    cci.rm(name)
    cci.rm(name + "-copy")
    assert cci.ls("") == [] and files_under(cci.backend.root) == []


def test_an_object_cannot_also_be_a_folder(local_interface):
    cci = local_interface
    cci.upload_raw_array("z", np.arange(4))
    with pytest.raises(InvalidNameError, match=r"'z/child'.*'z'|'z'.*'z/child'"):
        cci.upload_raw_array("z/child", np.arange(2))
    with pytest.raises(InvalidNameError, match=r"'z/child/deeper'.*'z'"):
        cci.upload_raw_array("z/child/deeper", np.arange(2))
    assert files_under(cci.backend.root) == ["z", "z.meta.json"]

    cci.upload_raw_array("y/child", np.arange(3))
    with pytest.raises(InvalidNameError, match=r"'y'.*'y/child'"):
        cci.upload_raw_array("y", np.arange(2))
    with pytest.raises(InvalidNameError, match=r"'y'.*'y/child'"):
        cci.backend.copy("z", "y")
    np.testing.assert_array_equal(cci.download_raw_array("y/child"), np.arange(3))
    np.testing.assert_array_equal(cci.download_raw_array("z"), np.arange(4))
    assert files_under(cci.backend.root) == ["y", "y/child", "y/child.meta.json", "z", "z.meta.json"]


@pytest.fixture
def secret(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "credentials").write_bytes(b"aws_secret_access_key = hunter2")
    return outside / "credentials"


def test_a_symlinked_file_is_never_read(local_interface, secret, tmp_path):
    cci = local_interface
    cci.upload_object("real", b"mine")
    os.symlink(secret, cci.backend.root / "leak")
    os.symlink(cci.backend.root / "real", cci.backend.root / "alias")  # even inside the root
    for name in ("leak", "alias"):
        with pytest.raises(ObjectNotFoundError, match="symbolic link"):
            cci.download_object(name)
        with pytest.raises(ObjectNotFoundError):
            cci.cp(name, "copied")
    assert cci.ls("") == ["real"] and cci.glob("*") == ["real"] and cci.lsdir("") == ["real"]
    cci.download_directory("", tmp_path / "out")
    assert sorted(os.listdir(tmp_path / "out")) == ["real"]
    assert not cci.exists_object("copied")


def test_a_symlinked_folder_is_never_read_or_written_through(local_interface, secret, tmp_path):
    cci = local_interface
    cci.upload_object("real/a", b"mine")
    os.symlink(secret.parent, cci.backend.root / "out")
    os.symlink(cci.backend.root / "real", cci.backend.root / "alias")
    for name in ("out/credentials", "alias/a"):
        with pytest.raises(ObjectNotFoundError, match="symbolic link"):
            cci.download_object(name)
        with pytest.raises(ObjectNotFoundError, match="symbolic link"):
            cci.upload_object(name, b"through the link")
        with pytest.raises(ObjectNotFoundError):
            cci.rm(name)
    assert [o.name for o in cci.backend.list("")] == ["real/a"] and cci.ls("alias/") == []
    assert cci.lsdir("") == ["real"]
    cci.download_directory("", tmp_path / "copy")
    assert files_under(tmp_path / "copy") == ["real", "real/a"]
    assert secret.read_bytes() == b"aws_secret_access_key = hunter2"
    assert cci.download_object("real/a") == b"mine"


def test_a_symlinked_metadata_file_is_not_read(local_interface, tmp_path):
    cci = local_interface
    cci.upload_object("obj", b"bytes")
    planted = tmp_path / "planted.json"
    planted.write_text('{"cc-codec": "pickle"}')
    meta = cci.backend.root / "obj.meta.json"
    meta.unlink()
    os.symlink(planted, meta)
    with pytest.raises(ObjectNotFoundError, match="symbolic link"):
        cci.download_object("obj")


@pytest.mark.parametrize("how", ["backend", "path"])
def test_a_root_folder_that_does_not_exist_is_created(tmp_path, cc_settings, how):
    root = tmp_path / "fresh" / "cottoncandy"
    if how == "backend":
        cci = cc.get_interface(str(root), backend="local", settings=cc_settings, verbose=False)
    else:
        cci = cc.get_interface(str(root), settings=cc_settings, verbose=False)
    assert root.is_dir()
    cci.upload_raw_array("a", np.arange(3))
    np.testing.assert_array_equal(cci.download_raw_array("a"), np.arange(3))


def test_a_root_folder_that_cannot_be_created_is_a_clear_error(tmp_path, cc_settings):
    (tmp_path / "a-file").write_bytes(b"")
    with pytest.raises(BucketNotFoundError, match="cannot be created") as raised:
        cc.get_interface(str(tmp_path / "a-file" / "store"), backend="local", settings=cc_settings)
    assert "a-file" in str(raised.value)


def test_removing_the_last_object_removes_the_empty_folders_up_to_the_root(local_interface):
    cci = local_interface
    root = cci.backend.root
    cci.upload_raw_array("a/b/c", np.arange(2))
    cci.upload_raw_array("a/b/d", np.arange(2))
    cci.upload_raw_array("a/e/f", np.arange(2))
    cci.rm("a/b/c")
    assert (root / "a" / "b").is_dir()
    cci.rm("a/b", recursive=True)
    assert files_under(root) == ["a", "a/e", "a/e/f", "a/e/f.meta.json"]
    cci.rm("a/e/f")
    assert files_under(root) == [] and root.is_dir()
    cci.upload_raw_array("a", np.arange(5))  # the name of a removed folder is free again
    np.testing.assert_array_equal(cci.download_raw_array("a"), np.arange(5))


def test_moving_between_two_local_roots_removes_the_emptied_folders(tmp_path, cc_settings):
    source, dest = tmp_path / "source", tmp_path / "dest"
    cci = cc.get_interface(str(source), backend="local", settings=cc_settings, verbose=False)
    cc.get_interface(str(dest), backend="local", settings=cc_settings, verbose=False)
    cci.upload_raw_array("x/y/z", np.arange(3))
    cci.upload_raw_array("x/y/w", np.arange(4))
    cci.mv("x/y", "moved", source_bucket=str(source), dest_bucket=str(dest))
    assert files_under(source) == []
    assert files_under(dest) == ["moved", "moved/w", "moved/w.meta.json", "moved/z", "moved/z.meta.json"]
    cci.upload_raw_array("x", np.arange(1))
    cci.mv("x", "x/inner", source_bucket=str(source), dest_bucket=str(dest))
    assert files_under(source) == []
    np.testing.assert_array_equal(
        cc.get_interface(str(dest), backend="local", settings=cc_settings, verbose=False).download_raw_array("x/inner"),
        np.arange(1),
    )
