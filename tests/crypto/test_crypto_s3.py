"""The encrypted interface on S3 (a moto server on 127.0.0.1): multipart streaming, copies, ranges."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.errors import IntegrityError
from cc_crypto import read_range

pytest.importorskip("cc_backend_s3", reason="the S3 backend plugin is not installed")
pytest.importorskip("moto", reason="moto is needed for S3 tests")
pytestmark = pytest.mark.filterwarnings("ignore::cc_crypto.keys.MasterKeyCreatedWarning")
from s3.conftest import ACCESS_KEY, SECRET_KEY, SMALL_PART, moto_endpoint  # noqa: E402,F401  (the S3 suite's moto server)


@pytest.fixture
def s3(moto_endpoint, cc_settings):
    def make(encrypted: bool = True, bucket: str = f"cc-crypto-{uuid.uuid4().hex[:12]}"):
        factory = cc.get_encrypted_interface if encrypted else cc.get_interface
        return factory(bucket, ACCESS_KEY, SECRET_KEY, moto_endpoint, force_bucket_creation=True, backend="s3",
                       settings=cc_settings, verbose=False, min_part_size=SMALL_PART)

    return make


def test_round_trips_and_copies_on_s3(s3):
    encrypted = s3()
    array = np.random.default_rng(5).random(400_000)  # 3.2 MB: a multipart upload of a streamed payload
    encrypted.upload_raw_array("arrays/big", array)
    assert encrypted.backend.get("arrays/big")[:8] == b"\x89CCENC\r\n"
    np.testing.assert_array_equal(encrypted.download_raw_array("arrays/big"), array)
    encrypted.upload_json("doc.json", {"a": 1})
    encrypted.cp("arrays/big", "copy/big")
    encrypted.mv("doc.json", "moved.json")
    np.testing.assert_array_equal(encrypted.download_raw_array("copy/big"), array)
    assert encrypted.download_json("moved.json") == {"a": 1}
    data = array.tobytes()
    assert read_range(encrypted, "arrays/big", 1_500_000, 1_500_100) == data[1_500_000:1_500_100]


def test_plain_objects_are_refused_on_s3(s3):
    encrypted = s3()
    plain = s3(encrypted=False, bucket=encrypted.bucket_name)
    plain.upload_object("plain", b"clear text")
    with pytest.raises(IntegrityError, match="not encrypted"):
        encrypted.download_object("plain")
