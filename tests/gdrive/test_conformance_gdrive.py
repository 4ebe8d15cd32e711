"""The core's backend conformance suite, on the Google Drive backend against the loopback fake."""

from __future__ import annotations

import pytest

from cc_core.testing import BackendConformance


class TestGDriveConformance(BackendConformance):
    large_size = 1024 * 1024 + 17  # 4 resumable chunks of 256 KiB, 6 ranged reads of 200 KiB
    many_objects = 230  # above the fake's page size of 100: listing must follow nextPageToken

    @pytest.fixture
    def backend(self, gdrive_backend):
        return gdrive_backend
