"""The core's backend conformance suite, on the Google Drive backend against the loopback fake."""

from __future__ import annotations

import pytest

from cc_backend_gdrive.properties import decode_properties, encode_properties
from cc_core.testing import BackendConformance


class TestGDriveConformance(BackendConformance):
    large_size = 1024 * 1024 + 17  # 4 resumable chunks of 256 KiB, 6 ranged reads of 200 KiB
    many_objects = 230  # above the fake's page size of 100: listing must follow nextPageToken

    @pytest.fixture
    def backend(self, gdrive_backend, fake_drive, drive_options):
        self.fake = fake_drive
        self.options = drive_options
        return gdrive_backend

    def interface_options(self, backend):
        return self.options

    def set_object(self, backend, name, data, metadata):
        properties = {(p["key"], p["visibility"]): p["value"] for p in encode_properties(metadata, name)}
        self.fake.add(f"{backend.bucket}/{name}", data, properties=properties)

    def get_object(self, backend, name):
        [record] = self.fake.find(f"{backend.bucket}/{name}")
        return bytes(record.content), decode_properties(self.fake.resource(record)["properties"])
