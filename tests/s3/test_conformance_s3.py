"""The S3 backend passes the core conformance kit over real HTTP (moto server)."""

import pytest

from cc_backend_s3.metadata import decode_metadata
from cc_core.testing import BackendConformance

from .conftest import ACCESS_KEY, SECRET_KEY


class TestS3Backend(BackendConformance):
    @pytest.fixture
    def backend(self, s3_backend, monkeypatch):
        # a pickled interface resolves its keys again (they are never pickled): from the AWS chain here
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        return s3_backend

    def interface_options(self, backend):
        return {"endpoint_url": backend.endpoint_url, "ACCESS_KEY": ACCESS_KEY, "SECRET_KEY": SECRET_KEY}

    def set_object(self, backend, name, data, metadata):
        backend.client.put_object(Bucket=backend.bucket, Key=name, Body=data, Metadata=metadata)

    def get_object(self, backend, name):
        response = backend.client.get_object(Bucket=backend.bucket, Key=name)
        return response["Body"].read(), decode_metadata(response["Metadata"])
