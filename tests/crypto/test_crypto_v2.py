"""Format version 2: what decides the array is authenticated, objects are bound to their names, v1
objects still read (issue #22). The attacker here can write to the store: they recompute the
unkeyed ``cc-digest`` after each edit, as anyone can."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from metadata_edit import setter

from cc_core.errors import IntegrityError
from cc_core.integrity import seal
from cc_core.payload import Payload
from cc_crypto import read_range
from cc_crypto.format import PREFIX_SIZE
from cc_crypto.transform import UnauthenticatedMetadataWarning, pin, seal_of

pytestmark = pytest.mark.filterwarnings("ignore::cc_crypto.keys.MasterKeyCreatedWarning")

ARRAY = np.arange(1000.0).reshape(100, 10)


def forge(interface, name: str, change=None, *, take_from: str | None = None) -> None:
    """Store at ``name`` the bytes and metadata of ``take_from`` (default ``name``), metadata edited by
    ``change(dict)``, with a recomputed ``cc-digest``: what someone with write access can do."""
    backend = interface.backend
    source = take_from or name
    metadata = {k: v for k, v in backend.head(source).metadata.items() if k != "cc-digest"}
    data = backend.get(source)
    if change is not None:
        change(metadata)
    seal(metadata)
    backend.put(name, Payload([data]), metadata)


EDITS = {
    "dtype f8->i8": setter("dtype", "<i8"),
    "shape transposed": setter("shape", "[10, 100]"),
    "shape flattened": setter("shape", "[1000]"),
    "order C->F": setter("order", "F"),
    "codec": setter("cc-codec", "npy"),
    "transforms": setter("cc-transforms", "zstd,aes-gcm"),
    "legacy compression": setter("compression", "gzip"),
    "user metadata changed": setter("note", "edited"),
    "user metadata added": setter("extra", "1"),
    "user metadata removed": setter("note", None),
}


def check_edit_refused(interface, edit: str) -> None:
    """Upload an array with user metadata, ``edit`` its metadata: reading it is refused."""
    interface.upload_raw_array("a", ARRAY, note="original")
    forge(interface, "a", EDITS[edit])
    # read as the edit says it should be (another method refuses it by its codec alone)
    download = interface.download_npy_array if edit == "codec" else interface.download_raw_array
    with pytest.raises(IntegrityError, match=r"'a'.*(metadata|authentication)"):
        download("a")


@pytest.mark.parametrize("edit", list(EDITS))
def test_each_metadata_edit_is_refused(encrypted, edit):
    check_edit_refused(encrypted, edit)


def test_float32_as_uint32_is_refused(encrypted):
    encrypted.upload_raw_array("f", np.ones(10, dtype="<f4"))
    forge(encrypted, "f", setter("dtype", "<u4"))
    with pytest.raises(IntegrityError, match="'f'"):
        encrypted.download_raw_array("f")


def test_edits_are_refused_by_ranged_reads_too(encrypted):
    encrypted.upload_object("log", b"0123456789" * 100, note="x")
    forge(encrypted, "log", setter("note", "y"))
    with pytest.raises(IntegrityError, match="'log'"):
        read_range(encrypted, "log", 5, 12)


def test_a_swap_of_two_objects_is_refused(encrypted):
    encrypted.upload_raw_array("a", ARRAY)
    encrypted.upload_raw_array("b", ARRAY * 2)
    backend = encrypted.backend
    saved = (backend.get("a"), dict(backend.head("a").metadata))
    forge(encrypted, "a", take_from="b")
    backend.put("b", Payload([saved[0]]), saved[1])
    for name, other in (("a", "b"), ("b", "a")):
        with pytest.raises(IntegrityError, match=rf"'{name}'.*sealed for '([^']*/)?{other}'"):
            encrypted.download_raw_array(name)


def test_renamed_objects_name_their_name_and_the_command_that_rebinds(make_interface):
    encrypted, plain = make_interface(), make_interface(encrypted=False)
    encrypted.upload_raw_array("folder/a", ARRAY)
    plain.cp("folder/a", "elsewhere/a")  # copied without the key: metadata as it was
    with pytest.raises(IntegrityError, match=r"'elsewhere/a'.*sealed for '([^']*/)?folder/a'.*cottoncandy key rebind"):
        encrypted.download_raw_array("elsewhere/a")
    with pytest.raises(IntegrityError, match="sealed for '([^']*/)?folder/a'"):
        read_range(encrypted, "elsewhere/a", 0, 8)
    np.testing.assert_array_equal(encrypted.download_raw_array("folder/a"), ARRAY)


def test_encrypted_cp_and_mv_rebind_folders(encrypted):
    for i in range(3):
        encrypted.upload_raw_array(f"src/{i}", ARRAY + i)
    encrypted.upload_object("src/deep/bytes", b"payload", note="kept")
    encrypted.cp("src", "copy")
    encrypted.mv("src", "moved")
    for folder in ("copy", "moved"):
        for i in range(3):
            np.testing.assert_array_equal(encrypted.download_raw_array(f"{folder}/{i}"), ARRAY + i)
        assert encrypted.download_object(f"{folder}/deep/bytes") == b"payload"
        assert encrypted.get_object(f"{folder}/deep/bytes").metadata["note"] == "kept"
    assert not encrypted.get_objects("src")


def test_names_are_not_bound_when_turned_off(make_interface, cc_settings):
    cc_settings.set("encryption", "bind_names", "false")
    encrypted, plain = make_interface(), make_interface(encrypted=False)
    encrypted.upload_raw_array("a", ARRAY)
    assert not any(k.startswith("cc-name") or k == "cc-sealed-for" for k in encrypted.get_object("a").metadata)
    plain.cp("a", "b")
    np.testing.assert_array_equal(encrypted.download_raw_array("b"), ARRAY)
    forge(encrypted, "a", setter("shape", "[1000]"))  # the metadata stays authenticated
    with pytest.raises(IntegrityError, match="'a'"):
        encrypted.download_raw_array("a")


def test_stripping_the_name_tag_is_refused(encrypted):
    encrypted.upload_raw_array("a", ARRAY)
    forge(encrypted, "a", lambda m: [m.pop(k) for k in list(m) if k.startswith("cc-name") or k == "cc-sealed-for"])
    with pytest.raises(IntegrityError, match="'a'.*name"):
        encrypted.download_raw_array("a")


def test_a_pinned_seal_catches_a_rollback(encrypted):
    encrypted.upload_raw_array("a", ARRAY)
    backend = encrypted.backend
    old = (backend.get("a"), dict(backend.head("a").metadata))
    encrypted.upload_raw_array("a", ARRAY * 3)
    recorded = seal_of(encrypted, "a")
    backend.put("a", Payload([old[0]]), old[1])  # the older version, bytes and metadata, put back
    np.testing.assert_array_equal(encrypted.download_raw_array("a"), ARRAY)  # nothing can tell, unpinned
    pin(encrypted, "a", recorded)
    with pytest.raises(IntegrityError, match="'a'.*rolled back"):
        encrypted.download_raw_array("a")
    encrypted.upload_raw_array("a", ARRAY * 4)  # a write through this interface moves the pin
    np.testing.assert_array_equal(encrypted.download_raw_array("a"), ARRAY * 4)


# -- version 1 objects -----------------------------------------------------------------------------
V1 = json.loads(Path(__file__).with_name("vectors.json").read_text(encoding="utf-8"))["vectors"][0]


def store_v1(interface, name: str) -> None:
    metadata = {"cc-transforms": "aes-gcm"}
    seal(metadata)
    interface.backend.put(name, Payload([bytes.fromhex(V1["stored"])]), metadata)


def test_version_1_objects_read_with_a_warning(make_interface):
    encrypted = make_interface(key=bytes.fromhex(V1["master_key"]))
    store_v1(encrypted, "old")
    with pytest.warns(UnauthenticatedMetadataWarning, match="'old'.*cottoncandy key migrate"):
        assert encrypted.download_object("old") == bytes(i % 251 for i in range(V1["plaintext_size"]))
    assert read_range(encrypted, "old", 3, 9) == bytes(range(3, 9))


def test_migrate_rewrites_version_1_objects(make_interface, backend_name, monkeypatch, capsys):
    if backend_name != "local":
        pytest.skip("the command line opens stores by their path")
    from cc_core.cli import main

    encrypted = make_interface(key=bytes.fromhex(V1["master_key"]))
    store_v1(encrypted, "old")
    encrypted.upload_object("new", b"v2 already")
    monkeypatch.setenv("CC_ENCRYPTION_MASTER_KEY", base64.b64encode(bytes.fromhex(V1["master_key"])).decode())
    assert main(["key", "migrate", encrypted.backend.path, "--json"]) == 0
    report = {r["name"].rsplit("/", 1)[-1]: r for r in json.loads(capsys.readouterr().out)["objects"]}
    assert report["old"]["status"] == "migrated" and report["new"]["status"] == "skipped"
    assert encrypted.backend.get("old")[8] == 2
    assert encrypted.download_object("old") == bytes(i % 251 for i in range(V1["plaintext_size"]))
    forge(encrypted, "new2", take_from="old")
    with pytest.raises(IntegrityError, match="sealed for '[^']*/old'"):
        encrypted.download_object("new2")


def test_new_objects_are_version_2(encrypted):
    encrypted.upload_object("x", b"abc")
    assert encrypted.backend.get("x")[:PREFIX_SIZE][8] == 2


def test_rebind_binds_copies_made_without_the_key(make_interface, backend_name, monkeypatch, capsys):
    if backend_name != "local":
        pytest.skip("the command line opens stores by their path")
    from cc_core.cli import main

    key = bytes(range(32))
    monkeypatch.setenv("CC_ENCRYPTION_MASTER_KEY", base64.b64encode(key).decode())
    encrypted, plain = make_interface(key=key), make_interface(encrypted=False)
    encrypted.upload_raw_array("a", ARRAY)
    plain.cp("a", "copies/a")
    forge(encrypted, "copies/b", setter("shape", "[1000]"), take_from="a")  # edited: never rebound
    with pytest.raises(IntegrityError, match="sealed for"):
        encrypted.download_raw_array("copies/a")
    assert main(["key", "rebind", encrypted.backend.path + "/copies"]) == 1
    output = capsys.readouterr()
    assert "rebound" in output.out and "store/a')" in output.out and "copies/b" in output.err
    np.testing.assert_array_equal(encrypted.download_raw_array("copies/a"), ARRAY)
    with pytest.raises(IntegrityError):
        encrypted.download_raw_array("copies/b")
