"""Faults on real HTTP: boto3 -> fault proxy (127.0.0.1) -> moto server.

Transient faults during uploads and downloads (single requests, multipart parts, parallel ranges,
streamed reads) are retried and the round trip succeeds; persistent faults end in a clear error in
bounded time, with no partial object and the previous version intact; damaged bytes are an
IntegrityError that names the object.
"""

from __future__ import annotations

import base64
import time

import numpy as np
import pytest

from cc_core.errors import IntegrityError, ObjectNotFoundError, TransferError

SMALL = np.arange(20_000, dtype=np.float64)  # 160 kB: one PUT, one GET
BIG = np.random.default_rng(7).random(150_000)  # 1.2 MB: 5 parts up; down, 4 ranges (the first is 512 KiB)

# (action, options) of one fault; every one of them is survivable by a retry
UPLOAD_FAULTS = {
    "503-slowdown": ("status", {"status": 503, "code": "SlowDown"}),
    "500-internal": ("status", {"status": 500, "code": "InternalError"}),
    "cut-mid-upload": ("cut_request", {"after": 40_000}),
    "response-lost": ("reset_response", {"after": -1}),  # stored, but the client never hears it
    "slow-server": ("delay", {"seconds": 1.5}),  # beyond the 1 s read timeout
}
DOWNLOAD_FAULTS = {
    "503-slowdown": ("status", {"status": 503, "code": "SlowDown"}),
    "500-internal": ("status", {"status": 500, "code": "InternalError"}),
    "cut-mid-body": ("cut_response", {"after": 30_000}),
    "reset-mid-body": ("reset_response", {"after": 50_000}),
    "slow-server": ("delay", {"seconds": 1.5}),
}
PART = r"partNumber=3"


def params(faults):
    return pytest.mark.parametrize("action, options", list(faults.values()), ids=list(faults))


# -- uploads -------------------------------------------------------------------------------------
@params(UPLOAD_FAULTS)
def test_transient_fault_on_a_single_put_is_retried(proxied, fault_proxy, action, options):
    cci = proxied()
    fault = fault_proxy.add(action, method="PUT", **options)
    cci.upload_raw_array("single", SMALL, compression=False)
    assert fault.fired == 1 and len(fault_proxy.requests("PUT")) == 2
    np.testing.assert_array_equal(cci.download_raw_array("single"), SMALL)


@params(UPLOAD_FAULTS)
def test_transient_fault_on_a_multipart_part_is_retried(proxied, fault_proxy, action, options):
    cci = proxied()
    fault = fault_proxy.add(action, method="PUT", target=PART, times=2, **options)
    cci.upload_raw_array("multi", BIG, compression=False)
    assert fault.fired == 2 and len(fault_proxy.requests("PUT", PART)) == 3
    np.testing.assert_array_equal(cci.download_raw_array("multi"), BIG)


@pytest.mark.parametrize("step, target", [("create", r"\?uploads"), ("complete", r"uploadId=")])
@params({k: UPLOAD_FAULTS[k] for k in ("503-slowdown", "cut-mid-upload", "response-lost")})
def test_transient_fault_starting_or_completing_a_multipart_upload(proxied, fault_proxy, s3_client, s3_bucket,
                                                                   step, target, action, options):
    cci = proxied()
    fault = fault_proxy.add(action, method="POST", target=target, **options)
    cci.upload_raw_array("multi", BIG, compression=False)
    assert fault.fired == 1
    np.testing.assert_array_equal(cci.download_raw_array("multi"), BIG)
    # An upload whose creation answer was lost is unknown to the client, so it cannot abort it: it
    # stays invisible (no object, nothing listed) until the bucket's lifecycle rule removes it.
    orphans = 1 if (step, action) == ("create", "reset_response") else 0
    assert len(s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])) == orphans
    assert [o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"]] == ["multi"]


# -- downloads -----------------------------------------------------------------------------------
@params(DOWNLOAD_FAULTS)
def test_transient_fault_on_a_single_get_is_retried(proxied, fault_proxy, action, options):
    cci = proxied()
    cci.upload_raw_array("single", SMALL, compression=False)
    fault = fault_proxy.add(action, method="GET", **options)
    np.testing.assert_array_equal(cci.download_raw_array("single"), SMALL)
    assert fault.fired == 1


@params(DOWNLOAD_FAULTS)
def test_transient_faults_on_parallel_ranges_are_retried(proxied, fault_proxy, action, options):
    cci = proxied()
    cci.upload_raw_array("multi", BIG, compression=False)
    fault = fault_proxy.add(action, method="GET", header="range", times=3, **options)
    np.testing.assert_array_equal(cci.download_raw_array("multi"), BIG)
    assert fault.fired == 3 and len(fault_proxy.requests("GET")) >= 4 + 3


@params({k: DOWNLOAD_FAULTS[k] for k in ("503-slowdown", "cut-mid-body", "reset-mid-body")})
def test_transient_faults_on_a_streamed_read_resume(proxied, fault_proxy, action, options):
    """A compressed object streams through iter_chunks; a cut resumes at the byte it reached."""
    cci = proxied()
    cci.upload_raw_array("packed", BIG, compression="gzip")
    fault = fault_proxy.add(action, method="GET", times=2, **options)
    np.testing.assert_array_equal(cci.download_raw_array("packed"), BIG)
    assert fault.fired == 2


def test_a_stream_of_an_object_replaced_before_its_get_is_read_again(proxied, fault_proxy):
    """download_stream reads through Pipeline.read: a GET refused because the object changed (412)
    starts the read again, as whole downloads do."""
    cci = proxied()
    cci.upload_object("streamed", b"payload" * 1000)
    fault = fault_proxy.add("status", method="GET", status=412, code="PreconditionFailed")
    assert cci.download_stream("streamed").content.read() == b"payload" * 1000
    assert fault.fired == 1 and len(fault_proxy.requests("GET", "streamed")) == 2
    assert not fault_proxy.requests("HEAD", "streamed")


def test_transient_fault_on_head_is_retried(proxied, fault_proxy):
    cci = proxied()
    cci.upload_object("thing", b"payload")
    fault = fault_proxy.add("status", method="HEAD", times=2)
    assert cci.get_object("thing").metadata
    assert fault.fired == 2


# -- persistent faults ---------------------------------------------------------------------------
@pytest.mark.parametrize("array", [SMALL, BIG], ids=["single-put", "multipart"])
@pytest.mark.parametrize("action, options", [("status", {}), ("cut_request", {"after": 10_000})], ids=["503", "cut"])
def test_persistent_upload_fault_fails_clearly_and_keeps_the_old_version(proxied, fault_proxy, s3_client, s3_bucket,
                                                                         array, action, options):
    cci = proxied()
    cci.upload_raw_array("kept", np.zeros(10), compression=False)
    fault_proxy.add(action, method="PUT", times=None, **options)
    started = time.monotonic()
    with pytest.raises(TransferError, match=r"kept.*failed after 4 attempts"):
        cci.upload_raw_array("kept", array, compression=False)
    with pytest.raises(TransferError):
        cci.upload_raw_array("fresh", array, compression=False)
    assert time.monotonic() - started < 20
    fault_proxy.reset()
    np.testing.assert_array_equal(cci.download_raw_array("kept"), np.zeros(10))
    with pytest.raises(ObjectNotFoundError):
        cci.download_raw_array("fresh")
    assert s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


@pytest.mark.parametrize("array", [SMALL, BIG], ids=["single-get", "ranged"])
def test_persistent_download_fault_fails_clearly_and_leaves_no_file(proxied, fault_proxy, tmp_path, array):
    cci = proxied()
    cci.upload_raw_array("wanted", array, compression=False)
    fault_proxy.add("reset_response", method="GET", times=None, after=1_000)
    target = tmp_path / "out" / "wanted.bin"
    started = time.monotonic()
    with pytest.raises(TransferError, match=r"wanted.*failed after 4 attempts"):
        cci.download_to_file("wanted", target)
    with pytest.raises(TransferError):
        cci.download_raw_array("wanted")
    assert time.monotonic() - started < 20
    assert list(target.parent.iterdir()) == []


# -- integrity -----------------------------------------------------------------------------------
@pytest.mark.parametrize("array, compression", [(SMALL, False), (BIG, False), (BIG, "gzip"), (BIG, "zstd")],
                         ids=["single-get", "ranged", "gzip-stream", "zstd-stream"])
def test_a_byte_flipped_on_the_wire_is_an_integrity_error(proxied, fault_proxy, tmp_path, array, compression):
    if compression == "zstd":
        pytest.importorskip("cc_codec_npy", reason="zstd comes with the codec plugin")
    cci = proxied()
    cci.upload_raw_array("fragile", array, compression=compression)
    fault_proxy.add("flip_response", method="GET", after=100_003)
    with pytest.raises(IntegrityError, match="'fragile'"):
        cci.download_raw_array("fragile")
    fault_proxy.add("flip_response", method="GET", after=100_003)
    target = tmp_path / "fragile.bin"
    with pytest.raises(IntegrityError, match="'fragile'"):
        cci.download_to_file("fragile", target)
    assert list(tmp_path.iterdir()) == []
    np.testing.assert_array_equal(cci.download_raw_array("fragile"), array)  # the stored bytes are fine


def test_damaged_stored_object_is_an_integrity_error(proxied, s3_client, s3_bucket):
    cci = proxied()
    cci.upload_raw_array("stored", SMALL, compression=False)
    head = s3_client.head_object(Bucket=s3_bucket, Key="stored")
    body = bytearray(s3_client.get_object(Bucket=s3_bucket, Key="stored")["Body"].read())
    body[1234] ^= 0x40
    s3_client.put_object(Bucket=s3_bucket, Key="stored", Body=bytes(body), Metadata=head["Metadata"])
    with pytest.raises(IntegrityError, match=r"Object 'stored' fails its checksum"):
        cci.download_raw_array("stored")
    s3_client.put_object(Bucket=s3_bucket, Key="stored", Body=bytes(body[:-8]), Metadata=head["Metadata"])
    with pytest.raises(Exception, match=r"'stored'"):
        cci.download_raw_array("stored")


def test_uploads_carry_s3_checksums_and_ours(proxied, fault_proxy, s3_client, s3_bucket):
    """S3 verifies what it receives (our XXH3 in a single PUT, CRC32 in every part); cc-checksum covers the way back."""
    cci = proxied()
    cci.upload_raw_array("single", SMALL, compression=False)
    single_put = fault_proxy.requests("PUT")
    cci.upload_raw_array("multi", BIG, compression=False)
    parts = fault_proxy.requests("PUT")[len(single_put):]
    assert len(single_put) == 1 and len(parts) > 1
    stored = s3_client.head_object(Bucket=s3_bucket, Key="single")["Metadata"]["cc-checksum"]
    sent = base64.b64decode(single_put[0].headers["x-amz-checksum-xxhash3"]).hex()
    assert stored == f"xxh3-64:{sent}", "the single PUT carries our checksum as S3's XXHASH3"
    assert all("x-amz-checksum-crc32" in seen.headers or "x-amz-trailer" in seen.headers for seen in parts)
    assert s3_client.head_object(Bucket=s3_bucket, Key="multi")["Metadata"]["cc-checksum"].startswith("xxh3-64:")
    cci.cp("multi", "copied")  # a server-side copy keeps the checksum
    assert s3_client.head_object(Bucket=s3_bucket, Key="copied")["Metadata"]["cc-checksum"] == \
        s3_client.head_object(Bucket=s3_bucket, Key="multi")["Metadata"]["cc-checksum"]
    np.testing.assert_array_equal(cci.download_raw_array("copied"), BIG)
