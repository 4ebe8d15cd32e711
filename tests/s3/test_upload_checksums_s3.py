"""What upload requests carry for S3 to verify (issue #19): our XXH3 as S3's XXHASH3 on single PUTs (the
bytes hashed once), CRC32 on parts, and SHA-256 payload signing only where ``[s3] payload_signing`` says.

The requests are the real ones the moto server receives, recorded at botocore's ``before-send`` event.
"""

from __future__ import annotations

import base64
import hashlib
import zlib

import numpy as np
import pytest
import xxhash
from botocore.client import Config as BotoConfig
from unseekable import Unseekable

import cottoncandy as cc
from cc_backend_s3.client import payload_signing_enabled
from cc_core.config import load_config
from cc_core.errors import ConfigError
from cc_core.plugins import get_plugin_manager

from .conftest import ACCESS_KEY, SECRET_KEY, SMALL_PART, error_response

ARRAY = np.random.default_rng(19).random(40_000)  # 320 kB: one PUT


def interface(cc_settings, moto_endpoint, bucket, **options):
    return cc.get_interface(bucket, ACCESS_KEY, SECRET_KEY, endpoint_url=moto_endpoint, backend="s3", verbose=False,
                            settings=cc_settings, min_part_size=SMALL_PART, **options)


def stored_checksum(s3_client, bucket, name):
    return s3_client.head_object(Bucket=bucket, Key=name)["Metadata"]["cc-checksum"]


def sent(log, operation):
    """The headers of each ``operation`` request, names lower-cased, values as text."""
    return [{k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in headers.items()}
            for _, headers, _ in log.calls[operation]]


def signed_headers(headers):
    return headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")


def test_a_single_put_carries_our_checksum_as_s3s_and_no_payload_hash_on_loopback(
        cc_settings, moto_endpoint, s3_bucket, s3_client, s3_faults):
    cci = interface(cc_settings, moto_endpoint, s3_bucket)
    log = s3_faults(cci.backend, "PutObject")
    cci.upload_raw_array("one", ARRAY, compression=False)
    headers, = sent(log, "PutObject")
    digest = base64.b64decode(headers["x-amz-checksum-xxhash3"]).hex()
    assert stored_checksum(s3_client, s3_bucket, "one") == f"xxh3-64:{digest}"
    assert digest == xxhash.xxh3_64_hexdigest(ARRAY.tobytes()), "S3 checks the bytes against it"
    assert not [k for k in headers if k.startswith("x-amz-checksum-") and k != "x-amz-checksum-xxhash3"]
    assert "x-amz-sdk-checksum-algorithm" not in headers, "botocore computed no checksum of its own"
    assert headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD", "no SHA-256 pass on a loopback endpoint"
    assert "x-amz-checksum-xxhash3" in signed_headers(headers), "the checksum is part of the signature"
    np.testing.assert_array_equal(cci.download_raw_array("one"), ARRAY)


def test_payload_signing_true_hashes_the_body_with_sha256(cc_settings, moto_endpoint, s3_bucket, s3_faults):
    cc_settings.set("s3", "payload_signing", "true")
    cci = interface(cc_settings, moto_endpoint, s3_bucket)
    log = s3_faults(cci.backend, "PutObject")
    cci.upload_raw_array("signed", ARRAY, compression=False)
    headers, = sent(log, "PutObject")
    assert headers["x-amz-content-sha256"] == hashlib.sha256(ARRAY.tobytes()).hexdigest()
    np.testing.assert_array_equal(cci.download_raw_array("signed"), ARRAY)


def test_upload_checksum_crc32_lets_botocore_send_its_crc32(cc_settings, moto_endpoint, s3_bucket, s3_faults):
    cc_settings.set("s3", "upload_checksum", "crc32")
    cci = interface(cc_settings, moto_endpoint, s3_bucket)
    log = s3_faults(cci.backend, "PutObject")
    cci.upload_raw_array("crc", ARRAY, compression=False)
    headers, = sent(log, "PutObject")
    crc = base64.b64encode(zlib.crc32(ARRAY.tobytes()).to_bytes(4, "big")).decode()
    assert headers["x-amz-checksum-crc32"] == crc and "x-amz-checksum-xxhash3" not in headers
    assert headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"


def test_parts_carry_their_crc32_in_a_header_without_a_payload_hash(cc_settings, moto_endpoint, s3_bucket, s3_faults):
    cci = interface(cc_settings, moto_endpoint, s3_bucket, multipart_threshold=SMALL_PART, part_size=SMALL_PART)
    log = s3_faults(cci.backend, "UploadPart")
    big = np.random.default_rng(5).random(100_000)  # 800 kB: 4 parts
    cci.upload_raw_array("parts", big, compression=False)
    parts = sent(log, "UploadPart")
    data = big.tobytes()
    expected = [base64.b64encode(zlib.crc32(data[i : i + SMALL_PART]).to_bytes(4, "big")).decode()
                for i in range(0, len(data), SMALL_PART)]
    assert sorted(h["x-amz-checksum-crc32"] for h in parts) == sorted(expected)
    assert all(h["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD" for h in parts)
    np.testing.assert_array_equal(cci.download_raw_array("parts"), big)


def test_a_file_digested_ahead_sends_its_checksum_too(cc_settings, moto_endpoint, s3_bucket, s3_client, s3_faults,
                                                      tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(ARRAY.tobytes())
    cci = interface(cc_settings, moto_endpoint, s3_bucket)
    log = s3_faults(cci.backend, "PutObject")
    cci.upload_from_file(str(path), "file.bin")
    headers, = sent(log, "PutObject")
    digest = base64.b64decode(headers["x-amz-checksum-xxhash3"]).hex()
    assert stored_checksum(s3_client, s3_bucket, "file.bin") == f"xxh3-64:{digest}"


def test_an_unseekable_stream_of_one_part_sends_its_checksum_too(cc_settings, moto_endpoint, s3_bucket, s3_client,
                                                                 s3_faults):
    cci = interface(cc_settings, moto_endpoint, s3_bucket)
    log = s3_faults(cci.backend, "PutObject")
    cci.upload_object("stream.bin", Unseekable(ARRAY.tobytes()))
    headers, = sent(log, "PutObject")
    digest = base64.b64decode(headers["x-amz-checksum-xxhash3"]).hex()
    assert stored_checksum(s3_client, s3_bucket, "stream.bin") == f"xxh3-64:{digest}"


def test_without_flexible_checksums_the_body_is_signed_and_carries_none(cc_settings, moto_endpoint, s3_bucket,
                                                                         s3_faults):
    config = BotoConfig(request_checksum_calculation="when_required")
    cci = interface(cc_settings, moto_endpoint, s3_bucket, config=config)
    log = s3_faults(cci.backend, "PutObject")
    cci.upload_raw_array("plain", ARRAY, compression=False)
    headers, = sent(log, "PutObject")
    assert not [k for k in headers if k.lower().startswith("x-amz-checksum-")]
    assert headers["x-amz-content-sha256"] == hashlib.sha256(ARRAY.tobytes()).hexdigest()


@pytest.mark.parametrize("choice, endpoint, checksums, expected", [
    ("auto", None, True, False),  # AWS: https
    ("auto", "https://minio.example.org", True, False),
    ("auto", "http://127.0.0.1:9000", True, False),
    ("auto", "http://localhost:9000", True, False),
    ("auto", "http://minio.example.org", True, None),  # plain http to another host: botocore signs
    ("auto", "https://minio.example.org", False, None),  # no checksum header: the signature protects the body
    ("true", "https://minio.example.org", True, True),
    ("false", "http://minio.example.org", True, False),
])
def test_auto_payload_signing_skips_sha256_only_where_nothing_can_change_the_body(choice, endpoint, checksums,
                                                                                 expected):
    assert payload_signing_enabled(choice, endpoint, checksums=checksums) is expected


def test_bad_values_are_refused_with_the_choices(cc_settings, cc_config_dir, moto_endpoint, s3_bucket):
    from cc_backend_s3.settings import TransferSettings

    cc_settings.set("s3", "payload_signing", "maybe")
    with pytest.raises(ConfigError, match=r"payload_signing = 'maybe' is not one of auto, true, false"):
        interface(cc_settings, moto_endpoint, s3_bucket)
    with pytest.raises(ConfigError, match=r"upload_checksum = 'md5' must be one of xxhash3, crc32"):
        TransferSettings(upload_checksum="md5").check()
    (cc_config_dir / "options.cfg").write_text("[s3]\npayload_signing = sometimes\nupload_checksum = crc32\n")
    (cc_config_dir / "options.cfg").chmod(0o600)
    problems = [str(p) for p in get_plugin_manager().config_problems(load_config())]
    assert len(problems) == 1 and "payload_signing" in problems[0] and "auto, true, false" in problems[0]


def test_a_store_that_refuses_xxhash3_gets_crc32_from_then_on(cc_settings, moto_endpoint, s3_bucket, s3_faults):
    cci = interface(cc_settings, moto_endpoint, s3_bucket, threads=7)  # a client of its own (clients are cached)

    def refuse_xxhash3(request, log):
        return error_response(request, 400, "InvalidArgument") if "x-amz-checksum-xxhash3" in request.headers else None

    log = s3_faults(cci.backend, "PutObject", refuse_xxhash3)
    cci.upload_raw_array("first", ARRAY, compression=False)
    refused, resent = sent(log, "PutObject")
    assert "x-amz-checksum-xxhash3" in refused and "x-amz-checksum-crc32" in resent
    np.testing.assert_array_equal(cci.download_raw_array("first"), ARRAY)
    cci.upload_raw_array("second", ARRAY, compression=False)
    assert "x-amz-checksum-crc32" in sent(log, "PutObject")[2] and log.count("PutObject") == 3


def test_a_checksum_mismatch_is_not_taken_for_an_unknown_algorithm(cc_settings, moto_endpoint, s3_bucket, s3_faults):
    cci = interface(cc_settings, moto_endpoint, s3_bucket, threads=9)
    log = s3_faults(cci.backend, "PutObject", lambda request, log: error_response(request, 400, "BadDigest"))
    with pytest.raises(Exception, match="BadDigest"):
        cci.upload_raw_array("damaged", ARRAY, compression=False)
    assert all("x-amz-checksum-xxhash3" in headers for headers in sent(log, "PutObject")), "retried as it was"


@pytest.mark.parametrize("endpoint, signing", [("http://s3.example.org:9000", None), ("http://127.0.0.1:9000", False),
                                               ("https://s3.example.org", False)])
def test_an_endpoint_from_the_aws_environment_decides_auto_signing(cc_settings, monkeypatch, endpoint, signing):
    from cc_backend_s3.backend import S3Backend

    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    backend = S3Backend(None, settings=cc_settings, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    assert backend.client.meta.endpoint_url.rstrip("/") == endpoint
    assert (backend.client.meta.config.s3 or {}).get("payload_signing_enabled") is signing
