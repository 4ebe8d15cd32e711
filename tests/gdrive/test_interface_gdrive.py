"""cottoncandy 0.4's interface on the Google Drive backend, over HTTP to the loopback fake Drive."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.errors import (
    BucketNotFoundError,
    CottonCandyError,
    IntegrityError,
    MetadataError,
    MissingDependencyError,
    ObjectNotFoundError,
    UnknownComponentError,
)
from cc_core.interface import ObjectExistsError
from cc_core.progress import ByteCounter

TREE = ["exp/sub01/run1.grp/data", "exp/sub01/run2.grp/data", "exp/sub02/run1.grp/data",
        "exp/notes.json", "other/x"]


@pytest.fixture
def cci(drive_options, drive_root, cc_settings):
    return cc.get_interface(drive_root, backend="gdrive", force_bucket_creation=True, settings=cc_settings,
                            verbose=False, **drive_options)


def populate(interface) -> None:
    for name in TREE:
        interface.upload_object(name, name.encode())


def media_requests(fake) -> list[str]:
    return [path for method, path in fake.log if "alt=media" in path]


def needs(interface, kind: str, name: str) -> None:
    """Skip, saying why, while the plugin that provides ``name`` is not installed or importable."""
    try:
        interface.plugins.registry.resolve(kind, name)
    except (UnknownComponentError, MissingDependencyError) as exc:
        pytest.skip(f"{kind} {name!r} is not available: {exc}")


# -- arrays ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", ["<f8", ">i4", "complex64", "bool", "<U3"])
def test_raw_arrays_round_trip(cci, dtype, order):
    data = np.arange(60).reshape(3, 4, 5)
    array = np.asarray(data.astype(dtype) if dtype != "<U3" else data.astype(str), order=order)
    cci.upload_raw_array("arrays/a", array)
    back = cci.download_raw_array("arrays/a")
    np.testing.assert_array_equal(back, array)
    assert back.dtype == array.dtype and back.flags.f_contiguous == (order == "F")
    assert back.flags.writeable


def test_array_metadata_lives_in_properties_and_is_read_without_content(cci, fake_drive, drive_root):
    array = np.zeros((4, 5), dtype="<i2", order="F")
    cci.upload_raw_array("meta/a", array, compression="gzip", experiment="e1")
    (stored,) = fake_drive.find(f"{drive_root}/meta/a")
    public = {k: v for (k, visibility), v in stored.properties.items() if visibility == "PUBLIC"}
    assert public["dtype"] == "<i2" and public["shape"] == "4,5" and public["order"] == "F"
    assert public["compression"] == "gzip" and public["cc-transforms"] == "gzip"
    assert public["cc-codec"] == "raw" and public["experiment"] == "e1"
    fake_drive.log.clear()
    info = cci.get_object("meta/a")
    assert info.metadata["shape"] == "4,5" and info.size == stored.content.__len__()
    assert [o.metadata["dtype"] for o in cci.get_objects("meta/")] == ["<i2"]
    assert media_requests(fake_drive) == []


def test_long_structured_dtype_is_split_across_properties(cci, fake_drive, drive_root):
    dtype = np.dtype([(f"a_rather_long_field_name_{i}", "<f8", (2,)) for i in range(6)])
    array = np.zeros(3, dtype=dtype)
    array["a_rather_long_field_name_3"] = 7.5
    cci.upload_raw_array("structured", array)
    (stored,) = fake_drive.find(f"{drive_root}/structured")
    parts = sorted(k for (k, _) in stored.properties if k.endswith("-cc-dtype"))
    assert len(parts) > 2 and parts[0] == "cc-0-cc-dtype"
    assert all(len(k.encode()) + len(v.encode()) <= 124 for (k, _), v in stored.properties.items())
    back = cci.download_raw_array("structured")
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, array)


def test_large_array_uploads_resumably_and_downloads_in_ranges(cci, fake_drive):
    array = np.asfortranarray(np.random.default_rng(1).random((200, 700)))  # 1.07 MiB: 5 chunks
    counter, down = ByteCounter(), ByteCounter()
    cci.upload_raw_array("big", array, compression=False, progress=counter)
    assert counter.transferred == array.nbytes
    chunks = [p for m, p in fake_drive.log if m == "PUT" and "upload_id=" in p]
    assert len(chunks) == 5
    fake_drive.log.clear()
    back = cci.download_raw_array("big", progress=down)
    np.testing.assert_array_equal(back, array)
    assert back.flags.f_contiguous and down.transferred == array.nbytes
    assert len(media_requests(fake_drive)) == 6  # 200 KiB ranges


def test_compressed_array(cci):
    array = np.tile(np.arange(1000.0), 50)
    cci.upload_raw_array("z", array, compression="gzip")
    assert cci.get_object("z").size < array.nbytes / 4
    np.testing.assert_array_equal(cci.download_raw_array("z"), array)


# -- plain objects -----------------------------------------------------------------------------------
def test_json_pickle_objects_and_streams(cci):
    cci.upload_json("j/config.json", {"a": [1, 2], "b": "ü"})
    assert cci.download_json("j/config.json") == {"a": [1, 2], "b": "ü"}
    cci.upload_pickle("j/obj.pkl", {"set": {1, 2}})
    assert cci.download_pickle("j/obj.pkl") == {"set": {1, 2}}
    cci.upload_object("j/raw", b"bytes", author="me")
    assert cci.download_object("j/raw") == b"bytes"
    stream = cci.download_stream("j/raw")
    assert stream.content.read() == b"bytes" and stream.metadata["author"] == "me"
    assert cci.exists_object("j/raw") and not cci.exists_object("j/nothing")
    with pytest.raises(ObjectNotFoundError):
        cci.download_object("j/nothing")


def test_overwrite_keeps_one_file_and_a_new_version(cci, fake_drive, drive_root):
    cci.upload_object("same", b"first", v="1")
    first = cci.get_object("same").version
    cci.upload_object("same", b"second", v="2")
    info = cci.get_object("same")
    assert cci.download_object("same") == b"second" and info.metadata["v"] == "2"
    assert info.version != first
    assert [f.content for f in fake_drive.find(f"{drive_root}/same")] == [b"second"]


def test_too_much_metadata_fails_before_anything_is_sent(cci, fake_drive):
    fake_drive.log.clear()
    with pytest.raises(MetadataError, match="30"):
        cci.upload_object("many", b"x", **{f"k{i}": "v" for i in range(40)})
    assert not any(m in ("POST", "PUT") for m, _ in fake_drive.log)


# -- files and folders -------------------------------------------------------------------------------
def test_files_and_directories(cci, tmp_path):
    source = tmp_path / "src"
    (source / "deep").mkdir(parents=True)
    (source / "a.txt").write_bytes(b"A" * 1000)
    (source / "deep" / "b.bin").write_bytes(bytes(range(256)) * 2000)  # 500 KiB: resumable
    uploaded = cci.upload_from_directory(source, "up", recursive=True)
    assert uploaded == ["up/a.txt", "up/deep/b.bin"]
    written = cci.download_directory("up", tmp_path / "back")
    assert sorted(written) == sorted(str(tmp_path / "back" / p) for p in ["a.txt", "deep/b.bin"])
    assert (tmp_path / "back" / "deep" / "b.bin").read_bytes() == (source / "deep" / "b.bin").read_bytes()
    cci.upload_from_file(source / "a.txt", "single/a.txt")
    cci.download_to_file("single/a.txt", tmp_path / "single.txt")
    assert (tmp_path / "single.txt").read_bytes() == b"A" * 1000


def test_ls_lsdir_glob(cci):
    populate(cci)
    assert cci.lsdir("exp") == ["exp/notes.json", "exp/sub01", "exp/sub02"]
    assert cci.lsdir("/") == ["exp", "other"]
    assert cci.ls("exp/sub01/") == ["exp/sub01/run1.grp", "exp/sub01/run2.grp"]
    assert cci.ls("exp/sub0*") == ["exp/sub01", "exp/sub02"]
    assert cci.glob("exp/*/run1.grp/*") == ["exp/sub01/run1.grp/data", "exp/sub02/run1.grp/data"]
    assert cci.glob("exp/**/data") == [n for n in TREE if n.endswith("data")]
    assert cci.glob("exp") == sorted(n for n in TREE if n.startswith("exp/"))
    assert [o.name for o in cci.get_objects("exp/sub0")] == [n for n in TREE if n.startswith("exp/sub0")]


def test_cp_mv_rm_recursive(cci, fake_drive, drive_root):
    populate(cci)
    cci.upload_raw_array("exp/arr", np.arange(5), compression=False)
    assert cci.cp("exp/sub01", "copy/sub01") == ["copy/sub01/run1.grp/data", "copy/sub01/run2.grp/data"]
    assert cci.download_object("copy/sub01/run2.grp/data") == b"exp/sub01/run2.grp/data"
    cci.cp("exp/arr", "copy/arr")
    np.testing.assert_array_equal(cci.download_raw_array("copy/arr"), np.arange(5))
    with pytest.raises(ObjectExistsError):
        cci.cp("exp/arr", "copy/arr")
    cci.cp("exp/notes.json", "copy/arr", overwrite=True)
    assert cci.download_object("copy/arr") == b"exp/notes.json"
    assert cci.mv("exp/sub02", "moved") == ["moved/run1.grp/data"]
    assert not cci.exists_object("exp/sub02/run1.grp/data")
    assert fake_drive.find(f"{drive_root}/exp/sub02") == []  # emptied folders are removed
    with pytest.raises(CottonCandyError, match="recursive"):
        cci.rm("exp")
    removed = cci.rm("exp", recursive=True)
    assert "exp/notes.json" in removed and cci.glob("exp") == []
    assert fake_drive.find(f"{drive_root}/exp") == []
    assert cci.lsdir("/") == ["copy", "moved", "other"]


# -- Drive specifics ----------------------------------------------------------------------------------
def test_duplicate_names_resolve_newest_file_and_oldest_folder(cci, fake_drive, drive_root):
    fake_drive.add(f"{drive_root}/dup/f", b"older")
    fake_drive.add(f"{drive_root}/dup/f", b"newer")
    assert cci.download_object("dup/f") == b"newer"
    assert cci.glob("dup") == ["dup/f"]
    fake_drive.add(f"{drive_root}/dup", None)  # a younger folder of the same name
    fake_drive.add(f"{drive_root}/dup/g", b"in the oldest folder")
    assert cci.download_object("dup/g") == b"in the oldest folder"


def test_trashed_google_docs_and_slashed_titles_are_ignored(cci, fake_drive, drive_root):
    cci.upload_object("keep", b"k")
    fake_drive.add(f"{drive_root}/gone", b"trashed", trashed=True)
    fake_drive.add(f"{drive_root}/doc", b"", mime_type="application/vnd.google-apps.document")
    fake_drive.add(f"{drive_root}/trashed-folder/x", b"x")
    fake_drive.find(drive_root + "/trashed-folder")[0].trashed = True
    record = fake_drive.add(f"{drive_root}/placeholder", b"s")
    record.title = "a/b"
    assert cci.glob("") == ["keep"]
    assert not cci.exists_object("gone") and not cci.exists_object("trashed-folder/x")


def test_reads_files_that_cottoncandy_04_wrote(cci, fake_drive, drive_root):
    array = np.arange(12, dtype="<f4").reshape(3, 4)
    props = {("dtype", "PRIVATE"): "<f4", ("shape", "PRIVATE"): "3,4", ("order", "PRIVATE"): "C",
             ("compression", "PRIVATE"): "False"}
    fake_drive.add(f"{drive_root}/old/array", array.tobytes(), properties=props)
    np.testing.assert_array_equal(cci.download_raw_array("old/array"), array)


def test_missing_bucket_and_bucket_operations(drive_options, drive_root, cc_settings):
    with pytest.raises(BucketNotFoundError, match="force_bucket_creation"):
        cc.get_interface(drive_root + "/missing", backend="gdrive", settings=cc_settings, verbose=False,
                         **drive_options)
    cci = cc.get_interface(drive_root, backend="gdrive", settings=cc_settings, verbose=False,
                           force_bucket_creation=True, **drive_options)
    assert cci.bucket_name == drive_root and cci.exists_bucket(drive_root)
    cci.create_bucket(drive_root + "/second")
    assert cci.bucket_name == drive_root + "/second"
    cci.upload_object("in-second", b"2")
    cci.set_bucket(drive_root)
    assert cci.lsdir("/") == ["second"]
    with pytest.raises(OSError, match="not empty"):
        cci.rm_bucket(drive_root + "/second")
    cci.cp("in-second", "copied", source_bucket=drive_root + "/second")
    assert cci.download_object("copied") == b"2"


def test_interface_pickles_without_secrets(cci):
    cci.upload_object("p", b"pickled")
    clone = pickle.loads(pickle.dumps(cci))
    assert clone.download_object("p") == b"pickled"


def test_gdrive_url_and_my_drive_root(drive_options, cc_settings, drive_root):
    cci = cc.get_interface("gdrive://" + drive_root.strip("/").split("/")[0], settings=cc_settings,
                           verbose=False, **drive_options)
    assert cci.backend_name == "gdrive" and cci.bucket_name == "/cc-tests"
    top = cc.get_interface(None, backend="gdrive", settings=cc_settings, verbose=False, **drive_options)
    assert top.bucket_name == "/" and "cc-tests" in top.lsdir("/")


# -- formats from codec plugins, and encryption --------------------------------------------------------
def test_npy_arrays(cci):
    needs(cci, "codec", "npy")
    array = np.arange(24, dtype=">i8").reshape(2, 3, 4)
    cci.upload_npy_array("npy/a", array)
    np.testing.assert_array_equal(cci.download_npy_array("npy/a"), array)


def test_dask_arrays(cci):
    needs(cci, "codec", "dask")
    da = pytest.importorskip("dask.array")
    array = np.random.default_rng(2).random((40, 30))
    cci.upload_dask_array("dask/a", da.from_array(array, chunks=(10, 15)))
    back = cci.download_dask_array("dask/a")
    np.testing.assert_array_equal(np.asarray(back), array)


def test_sparse_arrays(cci):
    needs(cci, "codec", "sparse")
    sparse = pytest.importorskip("scipy.sparse")
    matrix = sparse.random(50, 40, density=0.05, format="csr", random_state=3)
    cci.upload_sparse_array("sparse/m", matrix)
    back = cci.download_sparse_array("sparse/m")
    assert (back != matrix).nnz == 0


def test_groups(cci):
    needs(cci, "codec", "group")
    group = {"a": np.arange(10), "b": np.ones((3, 3), dtype="float32")}
    cci.dict2cloud("groups/g", group, verbose=False)
    back = cci.cloud2dict("groups/g", verbose=False)
    assert sorted(back) == ["a", "b"]
    for key, value in group.items():
        np.testing.assert_array_equal(back[key], value)


@pytest.fixture
def plain_and_secret(drive_options, drive_root, cc_settings):
    """A plain and an encrypted interface on the same Drive folder (the master key made quietly)."""
    plain = cc.get_interface(drive_root, backend="gdrive", force_bucket_creation=True, settings=cc_settings,
                             verbose=False, **drive_options)
    needs(plain, "transform", "aes-gcm")
    secret = cc.get_encrypted_interface(drive_root, backend="gdrive", force_bucket_creation=True,
                                        settings=cc_settings, verbose=False, **drive_options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the master key is created on first use
        secret.upload_object("secret/first", b"makes the key")
    return plain, secret


def test_encrypted_interface(plain_and_secret, drive_root, fake_drive):
    plain, secret = plain_and_secret
    array = np.random.default_rng(4).random((100, 100))
    secret.upload_raw_array("secret/a", array)
    secret.upload_json("secret/j", {"k": 1})
    np.testing.assert_array_equal(secret.download_raw_array("secret/a"), array)
    assert secret.download_json("secret/j") == {"k": 1}
    (stored,) = fake_drive.find(f"{drive_root}/secret/a")
    assert array.tobytes()[:64] not in stored.content
    assert plain.get_object("secret/a").metadata["cc-transforms"].endswith("aes-gcm")


def test_encrypted_copies_and_moves_read_back_at_their_new_names(plain_and_secret):
    """An encrypted object is bound to its name (format v2): a cp or mv on Drive re-seals the copy,
    which reads back at its new name, and a file moved by hand (a name change the seal did not see)
    is refused rather than read."""
    plain, secret = plain_and_secret
    array = np.random.default_rng(5).random((64, 32))
    secret.upload_raw_array("secret/a", array)
    secret.cp("secret/a", "copies/a")
    secret.mv("copies/a", "moved/a")
    np.testing.assert_array_equal(secret.download_raw_array("secret/a"), array)
    np.testing.assert_array_equal(secret.download_raw_array("moved/a"), array)
    assert not secret.exists_object("copies/a")
    plain.backend.copy("secret/a", "renamed/a")  # bytes and metadata copied without re-sealing
    with pytest.raises(IntegrityError):
        secret.download_raw_array("renamed/a")
