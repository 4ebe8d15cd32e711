"""Multipart uploads, parallel ranged downloads, retries and aborts, against a moto server."""

import http.client
import io
import threading

import numpy as np
import pytest
from botocore.exceptions import ConnectionClosedError

from cc_backend_s3 import transfer
from cc_backend_s3.backend import S3Backend
from cc_backend_s3.retry import S3AccessError
from cc_core.byteranges import OffsetByteRequest, RangeByteRequest
from cc_core.errors import ObjectNotFoundError, TransferError
from cc_core.payload import Payload
from cc_core.progress import ByteCounter

from .conftest import SMALL_PART, error_response

DATA = np.random.default_rng(7).integers(0, 256, 5 * SMALL_PART + 1234, dtype=np.uint8).tobytes()


@pytest.fixture
def small(s3_bucket, s3_options, cc_settings):
    """A backend whose multipart threshold, part size and range size are 256 KiB."""
    def make(**options):
        sizes = dict(multipart_threshold=SMALL_PART, part_size=SMALL_PART, min_part_size=SMALL_PART,
                     download_threshold=SMALL_PART, download_part_size=SMALL_PART, retry_base_delay=0.001)
        return S3Backend(s3_bucket, settings=cc_settings, **{**s3_options, **sizes, **options})
    return make


def etag_parts(s3_client, bucket, key):
    etag = s3_client.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
    return int(etag.rpartition("-")[2]) if "-" in etag else 1


def no_uploads_left(s3_client, bucket):
    return s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


# -- uploads ------------------------------------------------------------------------------------
def test_multipart_from_several_buffers(small, s3_client, s3_bucket, s3_faults):
    backend = small()
    log = s3_faults(backend, "UploadPart")
    counter = ByteCounter()
    header, body = DATA[:100], np.frombuffer(DATA[100:], dtype=np.uint8)
    backend.put("mp", Payload([header, body]), {"dtype": "|u1"}, progress=counter)
    assert backend.get("mp") == DATA
    assert etag_parts(s3_client, s3_bucket, "mp") == 6 == log.count("UploadPart")
    assert counter.size == counter.transferred == len(DATA)
    assert backend.head("mp").metadata["dtype"] == "|u1"
    assert len({thread for _, _, thread in log.calls["UploadPart"]}) > 1  # parts went up in parallel


def test_threads_option_per_call(small, s3_faults):
    backend = small()
    log = s3_faults(backend, "UploadPart")
    backend.put("seq", Payload([DATA]), {}, threads=1)
    assert {thread for _, _, thread in log.calls["UploadPart"]} == {threading.current_thread().name}


def test_upload_sends_the_arrays_own_memory(s3_backend):
    array = np.arange(1000, dtype="<f8")
    reader = Payload([array]).as_file()
    chunk = reader.read(4096)
    assert isinstance(chunk, memoryview) and np.shares_memory(np.frombuffer(chunk, np.uint8), array)
    s3_backend.put("arr", Payload([array]), {})
    assert s3_backend.get("arr") == array.tobytes()


def test_stream_of_unknown_size(small, s3_client, s3_bucket):
    backend = small()
    backend.put("long", Payload(stream=io.BytesIO(DATA), size=None), {"k": "v"})
    assert backend.get("long") == DATA and etag_parts(s3_client, s3_bucket, "long") == 6
    backend.put("short", Payload(stream=io.BytesIO(DATA[:1000]), size=None), {})
    assert backend.get("short") == DATA[:1000] and etag_parts(s3_client, s3_bucket, "short") == 1


def test_seekable_stream_from_its_position_survives_a_retry(small, s3_faults, tmp_path):
    backend = small(multipart_threshold=len(DATA) + 1)
    path = tmp_path / "f.bin"
    path.write_bytes(DATA)
    log = s3_faults(backend, "PutObject", lambda request, log: error_response(request, 500, "InternalError")
                    if log.count("PutObject") == 1 else None)
    with open(path, "rb") as file:
        file.seek(10)
        backend.put("file", Payload(stream=file, size=len(DATA) - 10), {})
    assert log.count("PutObject") == 2
    assert backend.get("file") == DATA[10:]


def test_failed_part_aborts_and_keeps_the_previous_version(small, s3_client, s3_bucket, s3_faults):
    backend = small()
    backend.put("obj", Payload([b"version one"]), {"v": "1"})
    s3_faults(backend, "UploadPart", lambda request, log: error_response(request, 403, "AccessDenied")
              if "partNumber=3" in request.url else None)
    with pytest.raises(S3AccessError, match=f"s3://{s3_bucket}/obj"):
        backend.put("obj", Payload([DATA]), {"v": "2"})
    assert backend.get("obj") == b"version one" and backend.head("obj").metadata["v"] == "1"
    assert no_uploads_left(s3_client, s3_bucket)
    with pytest.raises(S3AccessError):
        backend.put("new", Payload([DATA]), {})
    assert not backend.exists("new") and no_uploads_left(s3_client, s3_bucket)


def test_interrupted_upload_is_aborted(small, s3_client, s3_bucket):
    class Interrupt:
        def set_size(self, size):
            pass

        def relative_update(self, count):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        small().put("obj", Payload([DATA]), {}, progress=Interrupt())
    assert not small().exists("obj") and no_uploads_left(s3_client, s3_bucket)


def test_transient_errors_are_retried_per_part(small, s3_faults):
    backend = small()

    def slow_down_part_two(request, log):
        part_two = [url for url, _, _ in log.calls["UploadPart"] if "partNumber=2" in url]
        if "partNumber=2" in request.url and len(part_two) <= 2:
            return error_response(request, 503, "SlowDown")
        if "partNumber=4" in request.url and len([u for u, _, _ in log.calls["UploadPart"] if "partNumber=4" in u]) == 1:
            raise ConnectionClosedError(endpoint_url=request.url)
        return None

    log = s3_faults(backend, "UploadPart", slow_down_part_two)
    backend.put("retried", Payload([DATA]), {})
    assert backend.get("retried") == DATA
    assert log.count("UploadPart") == 6 + 2 + 1


def test_permanent_errors_fail_at_once_and_name_the_object(small, s3_faults, s3_bucket):
    backend = small()
    log = s3_faults(backend, "PutObject", lambda request, log: error_response(request, 403, "AccessDenied"))
    with pytest.raises(S3AccessError, match=f"Access denied to s3://{s3_bucket}/denied"):
        backend.put("denied", Payload([b"x"]), {})
    assert log.count("PutObject") == 1


def test_retries_end_with_a_clear_error(small, s3_faults):
    backend = small(max_attempts=3)
    log = s3_faults(backend, "PutObject", lambda request, log: error_response(request, 503, "SlowDown"))
    with pytest.raises(TransferError, match="Upload of s3://.*/busy failed after 3 attempts: SlowDown"):
        backend.put("busy", Payload([b"x"]), {})
    assert log.count("PutObject") == 3


# -- downloads ----------------------------------------------------------------------------------
def test_parallel_ranged_download_with_offsets(small, s3_faults):
    backend = small()
    backend.put("data", Payload([DATA]), {})
    log = s3_faults(backend, "GetObject")
    target = np.empty(len(DATA), dtype=np.uint8)
    counter = ByteCounter()
    assert backend.get_into("data", memoryview(target), progress=counter) == len(DATA)
    assert target.tobytes() == DATA and counter.transferred == len(DATA)
    ranges = {headers["Range"] for _, headers, _ in log.calls["GetObject"]}
    starts = range(0, len(DATA), SMALL_PART)
    assert {str(r, "ascii") if isinstance(r, bytes) else r for r in ranges} == {
        f"bytes={start}-{min(start + SMALL_PART, len(DATA)) - 1}" for start in starts}
    assert len({thread for _, _, thread in log.calls["GetObject"]}) > 1
    tail = bytearray(SMALL_PART * 2)
    assert backend.get_into("data", memoryview(tail), byte_range=OffsetByteRequest(len(DATA) - 1000)) == 1000
    assert bytes(tail[:1000]) == DATA[-1000:]
    assert backend.get_into("data", memoryview(bytearray(10)), byte_range=OffsetByteRequest(len(DATA) + 5)) == 0
    middle = bytearray(3 * SMALL_PART)
    assert backend.get_into("data", memoryview(middle), byte_range=OffsetByteRequest(12345)) == len(middle)
    assert bytes(middle) == DATA[12345 : 12345 + len(middle)]


def test_download_reads_from_the_socket_into_the_result(small, monkeypatch):
    backend = small()
    backend.put("data", Payload([DATA]), {})
    targets = []
    original = http.client.HTTPResponse.readinto

    def spy(self, buffer):
        targets.append(memoryview(buffer).obj)
        return original(self, buffer)

    monkeypatch.setattr(http.client.HTTPResponse, "readinto", spy)
    result = np.empty(len(DATA), dtype=np.uint8)
    backend.get_into("data", memoryview(result))
    assert result.tobytes() == DATA
    assert targets and all(target is result for target in targets)


def test_reset_connection_during_a_range_is_retried(small, monkeypatch):
    backend = small()
    backend.put("data", Payload([DATA]), {})
    calls = []
    original = transfer.read_body

    def flaky(body, target):
        calls.append(len(target))
        if len(calls) == 2:
            body.close()
            raise ConnectionResetError("connection reset by peer (injected)")
        return original(body, target)

    monkeypatch.setattr(transfer, "read_body", flaky)
    result = np.empty(len(DATA), dtype=np.uint8)
    assert backend.get_into("data", memoryview(result)) == len(DATA)
    assert result.tobytes() == DATA and len(calls) == 7


def test_iter_chunks_resumes_after_a_reset(small, monkeypatch):
    backend = small()
    backend.put("data", Payload([DATA]), {})
    calls = []
    original = transfer.read_body

    def flaky(body, target):
        calls.append(len(target))
        if len(calls) == 3:
            raise http.client.IncompleteRead(b"")
        return original(body, target)

    monkeypatch.setattr(transfer, "read_body", flaky)
    chunks = list(backend.iter_chunks("data", chunk_size=100_000))
    assert b"".join(bytes(c) for c in chunks) == DATA
    assert b"".join(bytes(c) for c in backend.iter_chunks("data", byte_range=RangeByteRequest(5, 250_005), chunk_size=1 << 20)) == DATA[5:250_005]


def test_overwrite_during_download_is_detected(small, monkeypatch, s3_client, s3_bucket):
    backend = small(threads=1)  # ranges one after the other: the overwrite lands between two
    backend.put("data", Payload([DATA]), {})
    original = transfer.read_body
    overwritten = []

    def overwrite_first(body, target):
        if not overwritten:
            overwritten.append(True)
            s3_client.put_object(Bucket=s3_bucket, Key="data", Body=DATA[::-1])
        return original(body, target)

    monkeypatch.setattr(transfer, "read_body", overwrite_first)
    with pytest.raises(TransferError, match="overwritten while it was being read"):
        backend.get_into("data", memoryview(np.empty(len(DATA), dtype=np.uint8)), byte_range=OffsetByteRequest(0))


def test_missing_objects_and_buckets(small, s3_client, s3_bucket):
    backend = small()
    for call in (lambda: backend.get_into("nope", memoryview(bytearray(SMALL_PART * 3))),
                 lambda: backend.get_into("nope", memoryview(bytearray(0))),
                 lambda: backend.copy("nope", "other")):
        with pytest.raises(ObjectNotFoundError, match=f"'nope' does not exist in s3://{s3_bucket}"):
            call()
    s3_client.delete_bucket(Bucket=s3_bucket)
    from cc_core.errors import BucketNotFoundError

    with pytest.raises(BucketNotFoundError, match=s3_bucket):
        backend.put("x", Payload([b"1"]), {})
    with pytest.raises(BucketNotFoundError):
        list(backend.list())


# -- copies and deletes -------------------------------------------------------------------------
def test_multipart_copy_keeps_metadata(small, s3_client, s3_bucket):
    backend = small(max_put_size=SMALL_PART * 2)
    backend.put("src", Payload([DATA]), {"dtype": "|u1", "note": "é"})
    backend.copy("src", "dst")
    assert backend.get("dst") == DATA
    assert backend.head("dst").metadata == backend.head("src").metadata
    assert etag_parts(s3_client, s3_bucket, "dst") == 6  # parts of part_size
    assert no_uploads_left(s3_client, s3_bucket)


def test_delete_in_batches_of_1000(s3_backend, s3_faults):
    log = s3_faults(s3_backend, "DeleteObjects")
    s3_backend.put("keep", Payload([b"k"]), {})
    s3_backend.delete_many(f"absent/{i}" for i in range(2500))
    assert log.count("DeleteObjects") == 3 and s3_backend.exists("keep")
