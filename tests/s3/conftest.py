"""A moto S3 server on 127.0.0.1 for the whole session, and fixtures built on it.

Reusable by other test folders (``pytest_plugins = ["tests.s3.conftest"]`` is not needed inside
``tests/s3``; elsewhere import the fixtures or copy the two lines that start the server):

- ``moto_endpoint``: ``http://127.0.0.1:<free port>`` of the running server (session);
- ``s3_client``: a plain boto3 client on it, for checks behind the backend's back;
- ``s3_bucket``: a fresh, empty bucket per test, emptied and removed afterwards;
- ``s3_backend``: an :class:`S3Backend` on that bucket;
- ``s3_interface``: a :class:`CCInterface` on that bucket (``backend='s3'``).

moto's minimum multipart part size is lowered to 256 KiB for the session so that multipart
uploads and copies can be tested with a few MiB of data; tests pass ``min_part_size`` to match.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.client import Config as BotoConfig

from cc_core.interface import CCInterface

ACCESS_KEY = "cc-test-access-key"
SECRET_KEY = "cc-test-secret-key"
SMALL_PART = 256 * 1024


class _MotoServer:
    """The session's one moto server, shared by every folder that imports ``moto_endpoint``.

    Each folder that imports the fixture (tests/reliability, tests/crypto, tests/cli, tests/core)
    gets its own session-scoped instance of it; they all hold this one server, started by the
    first and stopped by the last.
    """

    started = 0  # servers started in this process: the tests assert it stays 1
    users = 0
    endpoint = ""
    _server: Any = None
    _previous: Any = None

    @classmethod
    def acquire(cls) -> str:
        if cls.users == 0:
            from moto import settings as moto_settings
            from moto.s3 import models as s3_models
            from moto.server import ThreadedMotoServer

            cls._previous = s3_models.S3_UPLOAD_PART_MIN_SIZE, moto_settings.S3_UPLOAD_PART_MIN_SIZE
            s3_models.S3_UPLOAD_PART_MIN_SIZE = moto_settings.S3_UPLOAD_PART_MIN_SIZE = SMALL_PART
            cls._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            cls._server.start()
            cls.started += 1
            host, port = cls._server.get_host_and_port()
            cls.endpoint = f"http://{host}:{port}"
        cls.users += 1
        return cls.endpoint

    @classmethod
    def release(cls) -> None:
        cls.users -= 1
        if cls.users == 0:
            from moto import settings as moto_settings
            from moto.s3 import models as s3_models

            cls._server.stop()
            s3_models.S3_UPLOAD_PART_MIN_SIZE, moto_settings.S3_UPLOAD_PART_MIN_SIZE = cls._previous


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    try:
        yield _MotoServer.acquire()
    finally:
        _MotoServer.release()


@pytest.fixture(scope="session")
def s3_client(moto_endpoint: str) -> Any:
    return boto3.client(
        "s3", endpoint_url=moto_endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1", config=BotoConfig(s3={"addressing_style": "path"}),
    )


@pytest.fixture
def s3_bucket(s3_client: Any) -> Iterator[str]:
    name = f"cc-test-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=name)
    yield name
    try:
        for upload in s3_client.list_multipart_uploads(Bucket=name).get("Uploads", []):
            s3_client.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
        for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=name):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                s3_client.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
        s3_client.delete_bucket(Bucket=name)
    except Exception:  # a test that removed its bucket itself
        pass


@pytest.fixture
def s3_options(moto_endpoint: str) -> dict[str, Any]:
    """Constructor options of an S3 backend on the moto server (keys, endpoint)."""
    return {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "endpoint_url": moto_endpoint}


@pytest.fixture
def s3_backend(s3_bucket: str, s3_options: dict[str, Any], cc_settings: Any) -> Any:
    from cc_backend_s3.backend import S3Backend

    return S3Backend(s3_bucket, settings=cc_settings, min_part_size=SMALL_PART, **s3_options)


@pytest.fixture
def s3_interface(s3_bucket: str, moto_endpoint: str, cc_settings: Any) -> CCInterface:
    return CCInterface(s3_bucket, ACCESS_KEY, SECRET_KEY, url=moto_endpoint, backend="s3",
                       settings=cc_settings, verbose=False, min_part_size=SMALL_PART)


def count_calls(interface: Any) -> Counter[str]:
    """From now on, the S3 operations ``interface``'s client sends, by name (at botocore's
    ``before-call`` event: retries inside botocore do not count)."""
    calls: Counter[str] = Counter()
    interface.backend.client.meta.events.register("before-call.s3.*", lambda model, **_: calls.update([model.name]))
    return calls


class RequestLog:
    """What a client sent, per operation: ``calls["UploadPart"]`` lists (url, headers, thread)."""

    def __init__(self) -> None:
        import threading

        self.calls: dict[str, list[tuple[str, dict[str, str], str]]] = {}
        self._lock = threading.Lock()

    def record(self, operation: str, request: Any) -> None:
        import threading

        with self._lock:
            self.calls.setdefault(operation, []).append(
                (request.url, dict(request.headers), threading.current_thread().name))

    def count(self, operation: str) -> int:
        return len(self.calls.get(operation, []))


def error_response(request: Any, status: int, code: str) -> Any:
    """A botocore HTTP response carrying an S3 error, as the server would send it."""
    from botocore.awsrequest import AWSResponse

    body = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
            f"<Message>injected by the test</Message></Error>").encode()

    class Raw:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield body

    return AWSResponse(request.url, status, {"Content-Type": "application/xml"}, Raw())


@pytest.fixture
def s3_faults() -> Iterator[Any]:
    """``s3_faults(backend, "UploadPart", fail)`` makes ``fail(request, log)`` decide each request
    of that operation: return None to send it, a response (see :func:`error_response`) to answer
    it, or raise to fail it. Returns the :class:`RequestLog`. Removed after the test. Both clients
    of the backend are watched (copies and completions go through its ``patient_client``)."""
    registered: list[tuple[Any, str, Any]] = []

    def install(backend: Any, operation: str, fail: Any = None) -> RequestLog:
        log = RequestLog()

        def handler(request: Any, **_: Any) -> Any:
            log.record(operation, request)
            return fail(request, log) if fail else None

        event = f"before-send.s3.{operation}"
        for client in {backend.client, backend.patient_client}:
            client.meta.events.register(event, handler)
            registered.append((client, event, handler))
        return log

    yield install
    for client, event, handler in registered:
        client.meta.events.unregister(event, handler)
