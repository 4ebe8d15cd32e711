"""cc.get_encrypted_interface on the local and memory backends: every codec, copies, clear errors."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.errors import ConfigError, IntegrityError, MissingDependencyError, UnknownComponentError
from cc_crypto import read_range
from cc_crypto.errors import KeyMismatchError, MasterKeyMissingError
from cc_crypto.keys import MasterKeyCreatedWarning, SymmetricKey

# Each test starts with an empty config folder, so most of them generate a key file on first use.
pytestmark = pytest.mark.filterwarnings("ignore::cc_crypto.keys.MasterKeyCreatedWarning")


def stored_bytes(interface, name: str) -> bytes:
    return interface.backend.get(name)


def all_encrypted(interface, prefix: str) -> bool:
    """Whether there are objects under ``prefix`` and each one's stored chain ends with aes-gcm."""
    names = [info.name for info in interface.get_objects(prefix)]
    return bool(names) and all(
        interface.get_object(name).metadata.get("cc-transforms", "").endswith("aes-gcm")
        and stored_bytes(interface, name).startswith(b"\x89CCENC") for name in names)


def needs_codec(interface, name: str) -> None:
    """Skip, saying why, while the codec plugin that provides ``name`` is not installed or importable."""
    try:
        interface.plugins.registry.resolve("codec", name)
    except (UnknownComponentError, MissingDependencyError) as exc:
        pytest.skip(f"codec {name!r} is not available yet: {exc}")


def test_objects_are_encrypted_at_rest_and_round_trip(encrypted):
    array = np.arange(50_000, dtype="float64").reshape(250, 200)
    encrypted.upload_raw_array("arrays/a", array)
    info = encrypted.get_object("arrays/a")
    assert info.metadata["cc-transforms"] == "aes-gcm"
    stored = stored_bytes(encrypted, "arrays/a")
    assert array.tobytes()[:64] not in stored and stored.startswith(b"\x89CCENC")
    result = encrypted.download_raw_array("arrays/a")
    np.testing.assert_array_equal(result, array)
    assert result.flags.writeable


@pytest.mark.parametrize("array", [
    np.asfortranarray(np.random.default_rng(0).random((40, 30))),
    np.zeros((0, 3), dtype="int16"),
    np.array(7.5),
    np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]),
    np.random.default_rng(1).integers(0, 255, 3 * 1024 * 1024 + 17, dtype="uint8"),
], ids=["fortran", "empty", "0-d", "structured", "multi-segment"])
def test_raw_arrays(encrypted, array):
    encrypted.upload_raw_array("x", array)
    result = encrypted.download_raw_array("x")
    np.testing.assert_array_equal(result, array)
    assert result.dtype == array.dtype and result.shape == array.shape


def test_bytes_json_pickle_and_streams(encrypted):
    encrypted.upload_object("bytes", b"\x00payload\xff" * 1000)
    assert encrypted.download_object("bytes") == b"\x00payload\xff" * 1000
    encrypted.upload_json("doc.json", {"subject": "S01", "runs": [1, 2, 3]})
    assert encrypted.download_json("doc.json") == {"subject": "S01", "runs": [1, 2, 3]}
    encrypted.upload_pickle("obj.pkl", {"a": (1, 2), "b": {3}})
    assert encrypted.download_pickle("obj.pkl") == {"a": (1, 2), "b": {3}}
    assert b"S01" not in stored_bytes(encrypted, "doc.json")
    assert encrypted.download_stream("bytes").content.read() == b"\x00payload\xff" * 1000


def test_files_and_folders(encrypted, tmp_path):
    source = tmp_path / "in"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_bytes(b"alpha" * 10_000)
    (source / "sub" / "b.bin").write_bytes(os.urandom(300_000))
    uploaded = encrypted.upload_from_directory(source, "folder", recursive=True)
    assert sorted(uploaded) == ["folder/a.txt", "folder/sub/b.bin"]
    assert b"alpha" not in stored_bytes(encrypted, "folder/a.txt")
    encrypted.download_directory("folder", tmp_path / "out")
    assert (tmp_path / "out" / "a.txt").read_bytes() == (source / "a.txt").read_bytes()
    assert (tmp_path / "out" / "sub" / "b.bin").read_bytes() == (source / "sub" / "b.bin").read_bytes()
    encrypted.upload_from_file(source / "a.txt", "single")
    encrypted.download_to_file("single", tmp_path / "single.txt")
    assert (tmp_path / "single.txt").read_bytes() == b"alpha" * 10_000


def test_npy(encrypted):
    needs_codec(encrypted, "npy")
    array = np.random.default_rng(2).random((64, 33)).astype("float32")
    encrypted.upload_npy_array("a.npy", array)
    assert b"NUMPY" not in stored_bytes(encrypted, "a.npy")
    np.testing.assert_array_equal(encrypted.download_npy_array("a.npy"), array)


def test_dask_parts(encrypted):
    needs_codec(encrypted, "dask")
    da = pytest.importorskip("dask.array")
    array = np.random.default_rng(3).random((120, 50))
    encrypted.upload_dask_array("dask/arr", da.from_array(array, chunks=(40, 25)))
    assert len(encrypted.get_objects("dask/arr")) > 1 and all_encrypted(encrypted, "dask/arr")
    np.testing.assert_array_equal(np.asarray(encrypted.download_dask_array("dask/arr")), array)


def test_sparse(encrypted):
    needs_codec(encrypted, "sparse")
    sparse = pytest.importorskip("scipy.sparse")
    matrix = sparse.random(200, 100, density=0.05, format="csr", random_state=4)
    encrypted.upload_sparse_array("sparse/m", matrix)
    assert all_encrypted(encrypted, "sparse/m")
    assert (encrypted.download_sparse_array("sparse/m") != matrix).nnz == 0


def test_groups(encrypted):
    needs_codec(encrypted, "group")
    arrays = {"x": np.arange(10), "y": np.ones((3, 4))}
    encrypted.dict2cloud("group/g", arrays)
    assert all_encrypted(encrypted, "group/g")
    loaded = encrypted.cloud2dict("group/g")
    for name, array in arrays.items():
        np.testing.assert_array_equal(loaded[name], array)


def test_compression_runs_before_encryption(encrypted):
    array = np.zeros(200_000)
    encrypted.upload_raw_array("z", array, compression="gzip")
    info = encrypted.get_object("z")
    assert info.metadata["cc-transforms"] == "gzip,aes-gcm"
    assert info.size < array.nbytes // 20  # compressed, so compression came first
    np.testing.assert_array_equal(encrypted.download_raw_array("z"), array)
    with pytest.raises(ConfigError, match="compresses after encrypting"):
        encrypted.upload_object("wrong", b"data", transforms="aes-gcm,gzip")


def test_copy_and_move_keep_objects_decryptable(encrypted):
    array = np.arange(1000)
    encrypted.upload_raw_array("dir/a", array)
    encrypted.upload_json("dir/meta.json", {"k": 1})
    encrypted.cp("dir/a", "copy/a")
    encrypted.mv("dir", "moved")
    np.testing.assert_array_equal(encrypted.download_raw_array("copy/a"), array)
    np.testing.assert_array_equal(encrypted.download_raw_array("moved/a"), array)
    assert encrypted.download_json("moved/meta.json") == {"k": 1}


def test_plain_object_is_refused_by_the_encrypted_interface(make_interface):
    plain, encrypted = make_interface(encrypted=False), make_interface()
    plain.upload_raw_array("plain", np.arange(5))
    with pytest.raises(IntegrityError, match="'plain' was stored without aes-gcm .*not encrypted"):
        encrypted.download_raw_array("plain")
    with pytest.raises(IntegrityError, match="not encrypted"):
        encrypted.download_object("plain")


def test_partial_reads_of_a_plain_object_are_refused_by_the_encrypted_interface(make_interface):
    """Group rows and ranged reads go through the pipeline's checks, as whole reads do."""
    needs_codec(make_interface(), "group")
    plain, encrypted = make_interface(encrypted=False), make_interface()
    plain.dict2cloud("planted", {"rows": np.arange(40).reshape(10, 4)})
    dataset = encrypted.cloud2dataset("planted")["rows"]
    with pytest.raises(IntegrityError, match="not encrypted"):
        dataset[2:5]
    with pytest.raises(IntegrityError, match="not encrypted"):
        read_range(encrypted, "planted/rows", 0, 8)
    np.testing.assert_array_equal(plain.cloud2dataset("planted")["rows"][2:5], np.arange(8, 20).reshape(3, 4))


def test_plain_interface_reads_encrypted_objects_with_the_key(make_interface):
    make_interface().upload_raw_array("secret", np.arange(5))
    np.testing.assert_array_equal(make_interface(encrypted=False).download_raw_array("secret"), np.arange(5))


def test_encrypted_object_without_any_key_names_object_and_key(make_interface, cc_config_dir):
    key = SymmetricKey.generate()
    make_interface(key=key).upload_raw_array("secret", np.arange(5))
    assert not (cc_config_dir / "master.key").exists()  # a passed key never creates a key file
    with pytest.raises(MasterKeyMissingError) as caught:
        make_interface(encrypted=False).download_raw_array("secret")
    message = str(caught.value)
    assert "Object 'secret'" in message and key.key_id.hex() in message and "cottoncandy key import" in message


def test_wrong_key_names_the_key_the_object_needs(make_interface):
    key, other = SymmetricKey.generate(), SymmetricKey.generate()
    make_interface(key=key).upload_object("secret", b"data")
    with pytest.raises(KeyMismatchError) as caught:
        make_interface(key=other).download_object("secret")
    assert "Object 'secret'" in str(caught.value) and key.key_id.hex() in str(caught.value)
    assert make_interface(key=[other, key]).download_object("secret") == b"data"


def test_key_from_environment(make_interface, monkeypatch):
    key = SymmetricKey.generate()
    monkeypatch.setenv("CC_ENCRYPTION_MASTER_KEY", key.export().splitlines()[-1].split(":", 1)[1])
    make_interface().upload_object("env", b"from the environment")
    assert make_interface(key=key).download_object("env") == b"from the environment"


def test_passphrase_from_environment(make_interface, monkeypatch):
    monkeypatch.setenv("CC_ENCRYPTION_PASSPHRASE", "a long passphrase")
    monkeypatch.setenv("CC_ENCRYPTION_SCRYPT_LOG_N", "10")
    make_interface().upload_object("pw", b"passphrase-protected")
    assert make_interface().download_object("pw") == b"passphrase-protected"
    monkeypatch.setenv("CC_ENCRYPTION_PASSPHRASE", "another passphrase")
    with pytest.raises(KeyMismatchError, match="passphrase"):
        make_interface().download_object("pw")


def test_tampered_stored_object_names_the_object(make_interface, backend_name, tmp_path):
    encrypted = make_interface()
    encrypted.upload_object("victim", os.urandom(100_000))
    stored = bytearray(stored_bytes(encrypted, "victim"))
    stored[len(stored) // 2] ^= 4
    info = encrypted.get_object("victim")
    from cc_core.payload import Payload

    encrypted.backend.put("victim", Payload([bytes(stored)]), info.metadata)
    with pytest.raises(IntegrityError, match="Object 'victim' fails authentication"):
        encrypted.download_object("victim")


def test_first_use_generates_a_private_key_file_loudly_once(make_interface, cc_config_dir):
    with pytest.warns(MasterKeyCreatedWarning, match="BACK IT UP"):
        make_interface().upload_object("first", b"1")
    path = cc_config_dir / "master.key"
    assert path.stat().st_mode & 0o777 == 0o600
    content = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("error", MasterKeyCreatedWarning)
        make_interface().upload_object("second", b"2")
    assert path.read_bytes() == content
    assert make_interface().download_object("first") == b"1"


def test_ranged_plaintext_reads(encrypted):
    data = os.urandom(3 * 1024 * 1024 + 999)
    encrypted.upload_object("big", data)
    for start, stop in [(0, 10), (1024 * 1024 - 5, 1024 * 1024 + 5), (len(data) - 100, None), (-7, None)]:
        assert read_range(encrypted, "big", start, stop) == data[start:stop]
    encrypted.upload_object("zipped", data[:1000], transforms="gzip")
    with pytest.raises(Exception, match="aes-gcm and nothing else"):
        read_range(encrypted, "zipped", 0, 10)


def test_encrypted_interface_needs_the_plugin_name_to_exist(cc_settings, tmp_path):
    with pytest.raises(UnknownComponentError, match="Unknown transform 'no-such-cipher'"):
        cc.get_encrypted_interface(str(tmp_path), backend="local", settings=cc_settings,
                                   encryption="no-such-cipher").upload_object("x", b"1")
