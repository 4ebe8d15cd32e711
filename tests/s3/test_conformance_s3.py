"""The S3 backend passes the core conformance kit over real HTTP (moto server)."""

import pytest

from cc_core.testing import BackendConformance


class TestS3Backend(BackendConformance):
    @pytest.fixture
    def backend(self, s3_backend):
        return s3_backend
