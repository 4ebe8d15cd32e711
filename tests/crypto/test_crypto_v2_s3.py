"""Format version 2 on S3 (moto): metadata edits refused, folder cp/mv re-seal without moving the data."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.errors import IntegrityError

pytest.importorskip("cc_backend_s3", reason="the S3 backend plugin is not installed")
pytest.importorskip("moto", reason="moto is needed for S3 tests")
pytestmark = pytest.mark.filterwarnings("ignore::cc_crypto.keys.MasterKeyCreatedWarning")
from s3.conftest import ACCESS_KEY, SECRET_KEY, SMALL_PART, moto_endpoint  # noqa: E402,F401
from test_crypto_v2 import ARRAY, EDITS, check_edit_refused, forge  # noqa: E402


@pytest.fixture
def s3(moto_endpoint, cc_settings):
    bucket = f"cc-crypto-{uuid.uuid4().hex[:12]}"

    def make(encrypted: bool = True):
        factory = cc.get_encrypted_interface if encrypted else cc.get_interface
        return factory(bucket, ACCESS_KEY, SECRET_KEY, moto_endpoint, force_bucket_creation=True, backend="s3",
                       settings=cc_settings, verbose=False, min_part_size=SMALL_PART)

    return make


@pytest.mark.parametrize("edit", list(EDITS))
def test_each_metadata_edit_is_refused_on_s3(s3, edit):
    check_edit_refused(s3(), edit)


def test_a_swap_is_refused_on_s3(s3):
    encrypted = s3()
    encrypted.upload_raw_array("a", ARRAY)
    encrypted.upload_raw_array("b", ARRAY + 1)
    forge(encrypted, "a", take_from="b")
    with pytest.raises(IntegrityError, match=rf"'a'.*sealed for '{encrypted.bucket_name}/b'"):
        encrypted.download_raw_array("a")


class Requests:
    """Every request the backend's boto3 clients send (copies go through its patient client), with the
    body bytes it uploads."""

    def __init__(self, backend):
        self.operations: list[str] = []
        self.sent = 0
        for client in {backend.client, backend.patient_client}:
            client.meta.events.register("before-call.s3.*", self._record)

    def _record(self, model, params, **_):
        self.operations.append(model.name)
        body = params.get("body")
        self.sent += len(body) if isinstance(body, (bytes, bytearray)) else 0


def test_folder_cp_and_mv_rebind_without_moving_the_data(s3):
    encrypted = s3()
    arrays = {f"src/{i}": np.random.default_rng(i).random(100_000) for i in range(4)}  # 800 kB each
    for name, array in arrays.items():
        encrypted.upload_raw_array(name, array)
    requests = Requests(encrypted.backend)
    encrypted.cp("src", "copy")
    encrypted.mv("src", "moved")
    copies = [op for op in requests.operations if op == "CopyObject"]
    assert len(copies) == 8
    assert not {"PutObject", "UploadPart", "CreateMultipartUpload"} & set(requests.operations)
    # a HEAD and a 4 KiB ranged GET of the header per object; no data goes up
    assert requests.operations.count("GetObject") == 8 and requests.sent < 10_000
    for folder in ("copy", "moved"):
        for name, array in arrays.items():
            np.testing.assert_array_equal(encrypted.download_raw_array(name.replace("src", folder)), array)
    assert not encrypted.get_objects("src")


def test_plain_copies_are_refused_until_rebound_on_s3(s3):
    encrypted, plain = s3(), s3(encrypted=False)
    encrypted.upload_raw_array("a", ARRAY)
    plain.cp("a", "b")
    with pytest.raises(IntegrityError, match=r"'b'.*sealed for '[^']*/a'.*cottoncandy key rebind s3://"):
        encrypted.download_raw_array("b")
