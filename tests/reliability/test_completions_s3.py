"""Completions and server-side copies on real HTTP (boto3 -> fault proxy -> moto).

S3 does not take a CompleteMultipartUpload twice: once one succeeded, the same request again fails with
``NoSuchUpload``. The proxy plays that part (moto itself answers a repeated completion with success), after
losing the answer to the first completion, which moto carried out. A completion whose answer was lost and
whose retry fails is checked against the stored object: this upload -> success, no abort; another object or
none -> a clear error, and the upload is aborted; no way to tell (SSE-KMS parts without checksums) -> an
error that says the object may be stored and how to check. Completions and copies wait ``complete_timeout``
for their answer, not the client's 1 s read timeout, so a slow server gets one request, not a retry that
races the first.
"""

from __future__ import annotations

import numpy as np
import pytest

from cc_core.errors import TransferError

BIG = np.random.default_rng(11).random(150_000)  # 1.2 MB: 5 parts up
COMPLETE = r"uploadId="
#: The answer to the first completion is lost after moto carried it out, as S3's would be.
LOSSES = {"reset": ("reset_response", {"after": -1}), "closed": ("cut_response", {"after": -1})}
#: A multipart copy of BIG: above max_put_size.
COPY = {"max_put_size": 512 * 1024}
KMS = {"upload_args": {"ServerSideEncryption": "aws:kms"}}


#: What the retries of a completion hear: S3's answer to a repeated completion, or errors till the end.
RETRIES = {"NoSuchUpload": {"status": 404, "code": "NoSuchUpload"},
           "500-forever": {"status": 500, "code": "InternalError", "times": None}}


def lose_the_first_completion_answer(fault_proxy, action, options, retries="NoSuchUpload"):
    """The first completion reaches moto but its answer is lost; its retries hear ``RETRIES[retries]``."""
    lost = fault_proxy.add(action, method="POST", target=COMPLETE, **options)
    retried = fault_proxy.add("status", method="POST", target=COMPLETE, **RETRIES[retries])
    return lost, retried


def multipart_uploads(s3_client, s3_bucket):
    return s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])


@pytest.mark.parametrize("retries", list(RETRIES))
@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("kind, options", [("upload", {}), ("multipart-copy", COPY), ("upload-sse-kms", KMS)])
def test_a_completion_whose_answer_was_lost_is_found_stored(proxied, fault_proxy, s3_client, s3_bucket,
                                                            loss, retries, kind, options):
    """The upload (or copy) succeeds, reads back, and is not aborted. Under SSE-KMS the parts' ETags
    prove nothing; their CRC32s do."""
    cci = proxied(**options)
    if kind == "multipart-copy":
        cci.upload_raw_array("source", BIG, compression=False)
        fault_proxy.reset()
    lost, retried = lose_the_first_completion_answer(fault_proxy, *LOSSES[loss], retries)
    if kind == "multipart-copy":
        cci.cp("source", "stored")
    else:
        cci.upload_raw_array("stored", BIG, compression=False)
    assert lost.fired == 1 and retried.fired == (1 if retries == "NoSuchUpload" else 3)
    assert not fault_proxy.requests("DELETE", COMPLETE), "a completed upload is not aborted"
    fault_proxy.reset()
    np.testing.assert_array_equal(cci.download_raw_array("stored"), BIG)
    assert multipart_uploads(s3_client, s3_bucket) == []


@pytest.mark.parametrize("before", ["old-version", "no-object"])
def test_a_completion_that_really_failed_is_a_clear_error_and_the_upload_is_aborted(
        proxied, fault_proxy, s3_client, s3_bucket, before):
    """The first completion never reaches moto (the proxy drops it: its answer is lost all the same), the
    retry hears NoSuchUpload: the object is not this upload, so the error stands."""
    cci = proxied()
    if before == "old-version":
        cci.upload_raw_array("kept", np.zeros(10), compression=False)
    fault_proxy.add("cut_request", method="POST", target=COMPLETE)
    fault_proxy.add("status", method="POST", target=COMPLETE, status=404, code="NoSuchUpload")
    message = "is not this upload" if before == "old-version" else "does not exist, so the upload was not completed"
    with pytest.raises(TransferError, match=rf"s3://{s3_bucket}/kept.*NoSuchUpload.*answer was lost.*{message}"):
        cci.upload_raw_array("kept", BIG, compression=False)
    assert len(fault_proxy.requests("DELETE", COMPLETE)) == 1
    fault_proxy.reset()
    assert multipart_uploads(s3_client, s3_bucket) == []
    if before == "old-version":
        np.testing.assert_array_equal(cci.download_raw_array("kept"), np.zeros(10))
    else:
        assert not cci.exists_object("kept")


def test_a_completion_that_kept_failing_after_a_lost_answer_raises_its_own_error(proxied, fault_proxy, s3_client,
                                                                                s3_bucket):
    """Not NoSuchUpload: the real error stands, with a note of what the check found, and the upload is aborted."""
    cci = proxied()
    fault_proxy.add("cut_request", method="POST", target=COMPLETE)
    fault_proxy.add("status", method="POST", target=COMPLETE, **RETRIES["500-forever"])
    with pytest.raises(TransferError, match=r"kept.*failed after 4 attempts: InternalError") as failed:
        cci.upload_raw_array("kept", BIG, compression=False)
    assert any("does not exist, so the upload was not completed" in note
               for note in getattr(failed.value, "__notes__", []))
    assert len(fault_proxy.requests("DELETE", COMPLETE)) == 1
    fault_proxy.reset()
    assert multipart_uploads(s3_client, s3_bucket) == []


def test_a_lost_completion_that_cannot_be_checked_says_the_object_may_be_stored(proxied, fault_proxy, s3_bucket):
    """A multipart copy under SSE-KMS: part ETags that are not MD5 digests, and no part checksums."""
    cci = proxied(**COPY, **KMS)
    cci.upload_raw_array("source", BIG, compression=False)
    lose_the_first_completion_answer(fault_proxy, *LOSSES["reset"])
    with pytest.raises(TransferError, match=rf"s3://{s3_bucket}/copied may be stored all the same.*SSE-KMS.*read it back"):
        cci.cp("source", "copied")


@pytest.mark.parametrize("kind, method, target, header, options", [
    ("upload", "POST", COMPLETE, None, {}),
    ("multipart-copy", "POST", COMPLETE, None, COPY),
    ("multipart-copy part", "PUT", r"partNumber=2", "x-amz-copy-source", COPY),
    ("copy", "PUT", None, "x-amz-copy-source", {}),
])
def test_a_slow_completion_or_copy_is_waited_for(proxied, fault_proxy, kind, method, target, header, options):
    """The proxy holds the answer for 1.5 s, beyond the client's 1 s read timeout but within
    complete_timeout: one request, no retry."""
    cci = proxied(complete_timeout=5, **options)
    if "copy" in kind:
        cci.upload_raw_array("source", BIG, compression=False)
        fault_proxy.reset()
    slow = fault_proxy.add("delay", method=method, target=target, header=header, seconds=1.5)
    if "copy" in kind:
        cci.cp("source", "stored")
    else:
        cci.upload_raw_array("stored", BIG, compression=False)
    assert slow.fired == 1
    assert len([seen for seen in fault_proxy.requests(method, target)
                if header is None or header in seen.headers]) == 1
    fault_proxy.reset()
    np.testing.assert_array_equal(cci.download_raw_array("stored"), BIG)


@pytest.mark.parametrize("patient_put_size, sent", [(1, 1), (10 << 20, 4)], ids=["big-put", "small-put"])
def test_a_big_single_put_waits_for_its_answer_a_small_one_does_not(proxied, fault_proxy, patient_put_size, sent):
    """The server digests a big body before it answers (a 3 GiB PUT to moto outlasted the 10 s read
    timeout on every attempt): PUTs from patient_put_size up wait complete_timeout; smaller ones keep
    the read timeout, so a silent server is noticed (and retried) in seconds."""
    cci = proxied(complete_timeout=5, multipart_threshold=10 << 20, patient_put_size=patient_put_size)
    slow = fault_proxy.add("delay", method="PUT", target=None, seconds=1.5, times=None)
    if sent == 1:
        cci.upload_raw_array("stored", BIG, compression=False)
    else:
        with pytest.raises(TransferError, match="ReadTimeoutError"):
            cci.upload_raw_array("stored", BIG, compression=False)
    assert slow.fired == sent == len(fault_proxy.requests("PUT", None))
    fault_proxy.reset()
    if sent == 1:
        np.testing.assert_array_equal(cci.download_raw_array("stored"), BIG)
