"""Edits of an object's metadata behind cottoncandy's back (S3 ``copy_object`` with
``MetadataDirective=REPLACE``, a hand-edited local ``.meta.json``) are refused: the object's
``cc-digest`` covers everything that decides how its bytes become a value. Objects without one
(cottoncandy 0.4's, and this project's before the digest) still read."""

from __future__ import annotations

import json
import os
import uuid

import numpy as np
import pytest
from metadata_edit import setter

import cottoncandy as cc
from cc_core.errors import IntegrityError
from cc_core.payload import Payload


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, cc_settings):
    if request.param == "s3":
        from .conftest import ACCESS_KEY, SECRET_KEY

        return cc.get_interface(request.getfixturevalue("s3_bucket"), ACCESS_KEY, SECRET_KEY, backend="s3",
                                endpoint_url=request.getfixturevalue("moto_endpoint"), settings=cc_settings,
                                verbose=False)
    return cc.get_interface(str(tmp_path / "store"), backend="local", force_bucket_creation=True,
                            settings=cc_settings, verbose=False)


def edit_metadata(request, cci, name: str, change) -> None:
    """Rewrite the stored metadata of ``name`` as another tool would: ``change(dict)`` edits it."""
    if cci.backend_name == "s3":
        client = request.getfixturevalue("s3_client")
        bucket = cci.backend.bucket
        metadata = client.head_object(Bucket=bucket, Key=name)["Metadata"]
        change(metadata)
        client.copy_object(Bucket=bucket, Key=name, CopySource={"Bucket": bucket, "Key": name},
                           Metadata=metadata, MetadataDirective="REPLACE")
        return
    meta_path = cci.backend.root / (name + ".meta.json")
    record = json.loads(meta_path.read_text())
    change(record)  # the local layout's own version field stays as it was
    meta_path.write_text(json.dumps(record))


ARRAY = np.arange(12.0).reshape(3, 4)
STRUCTURED = np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8", (2,))])

EDITS = {  # upload kind, key, new value (None: delete the key)
    "dtype": ("raw", "dtype", "<i8"),
    "shape": ("raw", "shape", "4,3"),
    "order": ("raw", "order", "F"),
    "order-deleted-of-F": ("raw-F", "order", None),
    "transforms": ("raw-gzip", "cc-transforms", ""),
    "legacy-compression": ("raw", "compression", "gzip"),
    "codec": ("raw", "cc-codec", "npy"),
    "structured-dtype": ("raw-structured", "cc-dtype", json.dumps([["a", "<i4"], ["b", "<f4", [4]]])),
    "checksum-deleted": ("raw", "cc-checksum", None),
    "transforms-added-to-bytes": ("bytes", "compression", "gzip"),
}


def upload(cci, kind: str, name: str):
    if kind == "raw":
        cci.upload_raw_array(name, ARRAY, compression=False)
        return ARRAY
    if kind == "raw-F":
        value = np.asfortranarray(ARRAY)
        cci.upload_raw_array(name, value, compression=False)
        return value
    if kind == "raw-gzip":
        cci.upload_raw_array(name, ARRAY, compression="gzip")
        return ARRAY
    if kind == "raw-structured":
        cci.upload_raw_array(name, STRUCTURED, compression=False)
        return STRUCTURED
    cci.upload_object(name, b"some plain bytes")
    return b"some plain bytes"


def read(cci, kind: str, name: str):
    return cci.download_object(name) if kind == "bytes" else cci.download_raw_array(name)


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edited_field_is_an_integrity_error_naming_the_object(request, store, edit):
    kind, key, value = EDITS[edit]
    written = upload(store, kind, "edited")
    assert "cc-digest" in store.get_object("edited").metadata
    edit_metadata(request, store, "edited", setter(key, value))
    with pytest.raises(IntegrityError, match="'edited'.*metadata"):
        read(store, kind, "edited")
    edit_metadata(request, store, "edited", lambda m: None)  # an unchanged rewrite stays readable
    upload(store, kind, "fresh")
    store.cp("fresh", "copied")  # copies and moves keep the metadata, digest included
    store.mv("copied", "moved")
    result = read(store, kind, "moved")
    assert result == written if kind == "bytes" else np.array_equal(result, written)


def test_encrypted_objects_carry_the_digest_too(request, store):
    pytest.importorskip("cc_crypto")
    store.pipeline.always.append("aes-gcm")
    store.pipeline.configure_transform("aes-gcm", key=os.urandom(32))
    store.upload_raw_array("sealed", ARRAY, compression=False)
    assert "cc-checksum" not in store.get_object("sealed").metadata  # authentication stands in for it
    assert np.array_equal(store.download_raw_array("sealed"), ARRAY)
    for key, value in (("dtype", "<i8"), ("shape", "4,3"), ("order", "F")):
        store.cp("sealed", "edited", overwrite=True)
        edit_metadata(request, store, "edited", setter(key, value))
        with pytest.raises(IntegrityError, match="'edited'"):
            store.download_raw_array("edited")


def test_objects_without_a_digest_still_read(store):
    """0.4's objects (no cc-* keys) and this project's before cc-digest (a bytes-only cc-checksum)."""
    data = ARRAY.tobytes()
    store.backend.put("v04", Payload([data]), {"dtype": "<f8", "shape": "3,4", "compression": "False", "order": "C"})
    assert np.array_equal(store.download_raw_array("v04"), ARRAY)
    from cc_core.integrity import checksum_of

    earlier = {"cc-codec": "raw", "cc-transforms": "", "dtype": "<f8", "shape": "3,4", "order": "C",
               "compression": "False", "cc-checksum": checksum_of([data])}
    store.backend.put("earlier", Payload([data]), earlier)
    assert np.array_equal(store.download_raw_array("earlier"), ARRAY)
    store.backend.put("damaged", Payload([data[:-1] + b"\x01"]), earlier)
    with pytest.raises(IntegrityError, match="'damaged'.*checksum"):
        store.download_raw_array("damaged")


def test_a_digest_this_version_cannot_check_says_so(store):
    store.upload_raw_array("future", ARRAY, compression=False)
    metadata = dict(store.get_object("future").metadata)
    metadata["cc-digest"] = "sha3-512:" + "0" * 16
    store.backend.put(f"future-{uuid.uuid4().hex[:6]}", Payload([ARRAY.tobytes()]), metadata)
    name = next(n for n in store.glob("**") if n.startswith("future-"))
    from cc_core.errors import MetadataError

    with pytest.raises(MetadataError, match="upgrade"):
        store.download_raw_array(name)
