"""Bad input on every backend (local, memory, S3 on moto): each gets a clear error that names the
object, and a refused write leaves nothing behind."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.errors import CottonCandyError, InvalidArrayError, InvalidNameError, MetadataError
from cc_core.payload import Payload

GOOD_RAW = {"cc-codec": "raw", "cc-transforms": "", "dtype": "<f8", "shape": "3", "order": "C"}


@pytest.fixture(params=["local", "memory", "s3"])
def store(request, tmp_path, cc_settings):
    if request.param == "s3":
        from .conftest import ACCESS_KEY, SECRET_KEY

        return cc.get_interface(request.getfixturevalue("s3_bucket"), ACCESS_KEY, SECRET_KEY, backend="s3",
                                endpoint_url=request.getfixturevalue("moto_endpoint"), settings=cc_settings, verbose=False)
    bucket = str(tmp_path / "store") if request.param == "local" else f"bad-{uuid.uuid4().hex}"
    return cc.get_interface(bucket, backend=request.param, force_bucket_creation=True, settings=cc_settings,
                            verbose=False)


def nothing_stored(cci) -> bool:
    return cci.glob("**") == []


# -- refused writes ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["", "/", "///", "x" * 1025, "é" * 513, "a/../b", "..", "a/./b", "a\x00b", "a//b"],
                         ids=["empty", "slash", "slashes", "1025-bytes", "1026-utf8-bytes", "dotdot-segment",
                              "dotdot", "dot-segment", "nul", "empty-segment"])
def test_bad_names_are_refused_and_nothing_is_written(store, name):
    with pytest.raises(InvalidNameError):
        store.upload_raw_array(name, np.arange(3))
    with pytest.raises(InvalidNameError):
        store.upload_object(name, b"x")
    assert nothing_stored(store)


@pytest.mark.parametrize("value", [np.array([1, "a", None], dtype=object), np.array([{"a": 1}], dtype=object),
                                   np.zeros(2, dtype=[("a", "i4"), ("o", "O")])],
                         ids=["objects", "dicts", "struct-with-object-field"])
def test_object_dtype_arrays_are_refused_and_nothing_is_written(store, value):
    with pytest.raises(InvalidArrayError, match="object|Python objects"):
        store.upload_raw_array("objects", value)
    if "npy" in store.plugins.registry.names("codec"):
        with pytest.raises(CottonCandyError):
            store.upload_npy_array("objects", value)
    assert nothing_stored(store)


def test_metadata_over_the_backend_limit_is_refused_before_sending(store):
    if store.backend.capabilities.metadata_limit is None:
        pytest.skip(f"the {store.backend_name} backend has no metadata limit")
    with pytest.raises(MetadataError, match="2048"):
        store.upload_raw_array("annotated", np.arange(3), note="x" * 2100)
    with pytest.raises(MetadataError, match="allows"):  # just under S3's limit, but not with ours
        store.upload_raw_array("annotated", np.arange(3), note="x" * 1950)
    assert nothing_stored(store)


def test_reserved_metadata_keys_are_refused(store):
    for key in ("dtype", "cc-checksum", "cc-transforms"):
        with pytest.raises(MetadataError, match="reserved"):
            store.upload_raw_array("reserved", np.arange(3), **{key: "forged"})
    assert nothing_stored(store)


# -- stored objects that cannot be read as they claim ------------------------------------------
BAD_METADATA = {
    "unknown-codec": ({**GOOD_RAW, "cc-codec": "nosuchcodec"}, MetadataError, "nosuchcodec"),
    "unknown-transform": ({**GOOD_RAW, "cc-transforms": "rot13"}, CottonCandyError, "rot13"),
    "no-dtype": ({k: v for k, v in GOOD_RAW.items() if k != "dtype"}, MetadataError, "dtype"),
    "no-shape": ({k: v for k, v in GOOD_RAW.items() if k != "shape"}, MetadataError, "shape"),
    "bad-dtype": ({**GOOD_RAW, "dtype": "<q99"}, MetadataError, "dtype"),
    "object-dtype": ({**GOOD_RAW, "dtype": "|O"}, MetadataError, "object"),
    "negative-shape": ({**GOOD_RAW, "shape": "-3"}, MetadataError, "negative"),
    "non-integer-shape": ({**GOOD_RAW, "shape": "1.5,2"}, MetadataError, "shape"),
    "text-shape": ({**GOOD_RAW, "shape": "three"}, MetadataError, "shape"),
    "shape-disagrees-with-size": ({**GOOD_RAW, "shape": "4"}, MetadataError, "24 bytes"),
    "bad-order": ({**GOOD_RAW, "order": "K"}, MetadataError, "order"),
    "unknown-checksum": ({**GOOD_RAW, "cc-checksum": "md5:0123"}, MetadataError, "checksum"),
    "wrong-checksum": ({**GOOD_RAW, "cc-checksum": "xxh3-64:0123456789abcdef"}, CottonCandyError, "checksum"),
}


@pytest.mark.parametrize("case", list(BAD_METADATA))
def test_objects_with_bad_metadata_are_clear_errors(store, case):
    metadata, error, words = BAD_METADATA[case]
    store.backend.put("planted", Payload([np.arange(3.0).tobytes()]), metadata)
    with pytest.raises(error, match=words) as raised:
        store.download_raw_array("planted")
    assert "'planted'" in str(raised.value)


def test_bucket_that_does_not_exist(cc_settings, tmp_path, moto_endpoint):
    from cc_core.errors import BucketNotFoundError

    from .conftest import ACCESS_KEY, SECRET_KEY

    with pytest.raises(BucketNotFoundError, match="force_bucket_creation"):
        cc.get_interface(f"no-such-{uuid.uuid4().hex[:8]}", ACCESS_KEY, SECRET_KEY, endpoint_url=moto_endpoint,
                         backend="s3", settings=cc_settings)
    (tmp_path / "a-file").write_bytes(b"")  # a missing local folder is created (as 0.4 did), this one cannot be
    with pytest.raises(BucketNotFoundError, match="cannot be created"):
        cc.get_interface(str(tmp_path / "a-file" / "absent"), backend="local", settings=cc_settings)
