"""Transient Drive failures are retried with backoff; permanent ones fail naming the path.

Faults are injected in the loopback fake; the client stack (googleapiclient, httplib2) is real.
httplib2 silently repeats a request once when the connection drops, so connection faults are
injected several times to reach the backend's own retries.
"""

from __future__ import annotations

import pytest

from cc_core.byteranges import OffsetByteRequest
from cc_core.errors import ConfigError, ObjectChangedError, TransferError
from cc_core.payload import Payload
from cc_core.progress import ByteCounter

DATA = bytes(range(256)) * 4000  # 1000 KiB: 4 resumable chunks of 256 KiB


def put(backend, name: str, data: bytes, **metadata: str) -> None:
    backend.put(name, Payload([data]), metadata)


@pytest.mark.parametrize("status, reason", [(429, None), (500, None), (503, None), (403, "rateLimitExceeded"),
                                            (403, "userRateLimitExceeded")])
def test_transient_statuses_on_listing_are_retried(gdrive_backend, fake_drive, status, reason):
    put(gdrive_backend, "a", b"payload")
    fault = fake_drive.inject("status", method="GET", path="/drive/v2/files?", status=status, reason=reason, times=2)
    assert gdrive_backend.get("a") == b"payload"
    assert fault.hits == 2


def test_small_upload_retried_after_server_errors(gdrive_backend, fake_drive, drive_root):
    fault = fake_drive.inject("status", method="POST", path="uploadType=multipart", status=500, times=3)
    put(gdrive_backend, "small", b"abc", k="v")
    assert fault.hits == 3 and gdrive_backend.get("small") == b"abc"
    assert len(fake_drive.find(f"{drive_root}/small")) == 1


def test_dropped_connections_are_retried(gdrive_backend, fake_drive):
    put(gdrive_backend, "d", DATA[:1000])
    fault = fake_drive.inject("drop", method="GET", path="alt=media", times=4)
    assert gdrive_backend.get("d") == DATA[:1000]
    assert fault.hits == 4


def test_lost_response_of_a_small_upload_leaves_one_file(gdrive_backend, fake_drive, drive_root):
    """The server stored the file but the answer was lost: the request is sent again (a second
    file is created) and the older duplicate is removed."""
    fake_drive.inject("lose_response", method="POST", path="uploadType=multipart", times=1)
    put(gdrive_backend, "once", b"stored twice?")
    assert [f.content for f in fake_drive.find(f"{drive_root}/once")] == [b"stored twice?"]


def test_resumable_upload_resumes_after_errors_mid_way(gdrive_backend, fake_drive, drive_root):
    chunk_faults = [
        fake_drive.inject("status", method="PUT", path="upload_id=", status=503, times=1),
        fake_drive.inject("lose_response", method="PUT", path="upload_id=", times=2),
        fake_drive.inject("drop", method="PUT", path="upload_id=", times=3),
    ]
    counter = ByteCounter()
    gdrive_backend.put("big", Payload([DATA]), {"k": "v"}, progress=counter)
    assert all(f.hits for f in chunk_faults)
    assert gdrive_backend.get("big") == DATA and counter.transferred == len(DATA)
    status_queries = [p for m, p in fake_drive.log if m == "PUT" and "upload_id=" in p]
    assert len(status_queries) > 4  # chunks sent again after the server said where to resume
    assert len(fake_drive.find(f"{drive_root}/big")) == 1


def test_expired_upload_session_starts_over(gdrive_backend, fake_drive):
    fault = fake_drive.inject("status", method="PUT", path="upload_id=", status=404, reason="notFound", times=1)
    put(gdrive_backend, "restart", DATA)
    assert fault.hits == 1 and gdrive_backend.get("restart") == DATA
    starts = [p for m, p in fake_drive.log if m == "POST" and "uploadType=resumable" in p]
    assert len(starts) == 2


def test_slow_responses_time_out_and_are_retried(make_backend, fake_drive):
    backend = make_backend(timeout=0.3)
    put(backend, "slow", b"patience")
    fault = fake_drive.inject("slow", method="GET", path="alt=media", delay=0.8, times=1)
    assert backend.get("slow") == b"patience"
    assert fault.hits == 1


def test_permanent_errors_fail_at_once_naming_the_path(gdrive_backend, fake_drive, drive_root):
    fault = fake_drive.inject("status", method="POST", path="uploadType=multipart", status=400,
                              reason="badRequest", times=5)
    with pytest.raises(TransferError, match=f"{drive_root}/nested/name.*HTTP 400 badRequest"):
        put(gdrive_backend, "nested/name", b"x")
    assert fault.hits == 1
    assert fake_drive.find(f"{drive_root}/nested/name") == []


def test_retries_give_up_with_a_clear_error(make_backend, fake_drive, drive_root):
    backend = make_backend(retries=2)
    put(backend, "flaky", b"x")
    fault = fake_drive.inject("status", method="GET", path="alt=media", status=503, times=10)
    with pytest.raises(TransferError, match=f"download of '{drive_root}/flaky' failed after 3 attempts: HTTP 503"):
        backend.get("flaky")
    assert fault.hits == 3


def test_failed_overwrite_keeps_the_old_object(gdrive_backend, fake_drive, drive_root):
    put(gdrive_backend, "keep", b"old", v="1")
    fake_drive.inject("status", method="PUT", path="upload_id=", status=400, times=1)
    with pytest.raises(TransferError):
        put(gdrive_backend, "keep", DATA, v="2")
    assert gdrive_backend.get("keep") == b"old" and gdrive_backend.head("keep").metadata["v"] == "1"
    assert [f.content for f in fake_drive.find(f"{drive_root}/keep")] == [b"old"]


def test_rejected_token_is_a_configuration_error(make_backend, tmp_path, fake_drive):
    from .conftest import write_credentials

    credentials = tmp_path / "wrong.txt"
    write_credentials(credentials, fake_drive.url + "/token", token="not-the-token")
    with pytest.raises(ConfigError, match="rejected the credentials.*gdrive-auth"):
        make_backend(credentials_file=str(credentials))


def test_versioned_read_of_a_replaced_object(gdrive_backend):
    put(gdrive_backend, "v", DATA)
    info = gdrive_backend.head("v")
    buffer = memoryview(bytearray(1000))
    assert gdrive_backend.get_into("v", buffer, version=info.version) == 1000
    put(gdrive_backend, "v", b"replaced")
    with pytest.raises(ObjectChangedError, match="replaced while being read"):
        gdrive_backend.get_into("v", buffer, byte_range=OffsetByteRequest(1000), version=info.version)
    assert gdrive_backend.get("v") == b"replaced"


@pytest.mark.parametrize("announced", [True, False])
def test_streamed_upload_resumes_from_its_window(gdrive_backend, fake_drive, announced):
    """A stream is read once: after a lost answer the upload resends only unacknowledged bytes."""
    import io

    fake_drive.inject("lose_response", method="PUT", path="upload_id=", times=2)
    stream = io.BytesIO(DATA)
    payload = Payload(stream=stream, size=len(DATA) if announced else None)
    counter = ByteCounter()
    gdrive_backend.put("streamed", payload, {}, progress=counter)
    assert gdrive_backend.get("streamed") == DATA and counter.transferred == len(DATA)


def test_names_with_quotes_and_backslashes(gdrive_backend):
    name = "it's a \\ folder/o'brien \\'x"
    put(gdrive_backend, name, b"quoted")
    assert gdrive_backend.get(name) == b"quoted"
    assert [e.name for e in gdrive_backend.list("it's")] == [name]


def test_writer_with_a_stale_folder_cache_recreates_the_folder(make_backend, drive_root, fake_drive):
    """Another process (another client, so another folder cache) removed the folder meanwhile."""
    writer, other = make_backend(), make_backend(timeout=4.5)
    put(writer, "shared/one", b"1")
    other.delete_many(["shared/one"])
    assert fake_drive.find(f"{drive_root}/shared") == []
    put(writer, "shared/two", b"2")  # the cached folder id is gone: looked up and made again
    assert writer.get("shared/two") == b"2" and [e.name for e in other.list("shared/")] == ["shared/two"]
    other.delete_many(["shared/two"])
    put(writer, "shared/big", DATA)  # resumable uploads, too
    assert other.get("shared/big") == DATA and [e.name for e in writer.list("shared/")] == ["shared/big"]
