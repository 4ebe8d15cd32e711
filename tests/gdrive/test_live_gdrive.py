"""The same suite against a real Google Drive, only when credentials are given in the environment.

Set one of:

- ``CC_TEST_GDRIVE_SERVICE_ACCOUNT_KEY``: a service account's JSON key file;
- ``CC_TEST_GDRIVE_CREDENTIALS``: saved OAuth credentials (``cottoncandy gdrive-auth`` writes them),
  with ``CC_TEST_GDRIVE_SECRETS`` naming the client secrets if a refresh may be needed.

``CC_TEST_GDRIVE_ENDPOINT`` may aim them at a Drive-compatible server instead of Google's.
The tests work in a new folder ``/cc-live-tests/<random>`` of that Drive and delete it afterwards.
"""

from __future__ import annotations

import os
import uuid

import numpy as np
import pytest

from cc_core.testing import BackendConformance

SERVICE_ACCOUNT = os.environ.get("CC_TEST_GDRIVE_SERVICE_ACCOUNT_KEY")
CREDENTIALS = os.environ.get("CC_TEST_GDRIVE_CREDENTIALS")
pytestmark = pytest.mark.skipif(
    not (SERVICE_ACCOUNT or CREDENTIALS),
    reason="no real Google Drive: set CC_TEST_GDRIVE_SERVICE_ACCOUNT_KEY or CC_TEST_GDRIVE_CREDENTIALS",
)


@pytest.fixture
def live_options():
    options = {"service_account_key": SERVICE_ACCOUNT} if SERVICE_ACCOUNT else {
        "credentials_file": CREDENTIALS, "secrets_file": os.environ.get("CC_TEST_GDRIVE_SECRETS")}
    return {**options, "endpoint_url": os.environ.get("CC_TEST_GDRIVE_ENDPOINT"), "interactive": False,
            "chunk_size": 256 * 1024, "resumable_threshold": 512 * 1024}


@pytest.fixture
def live_backend(cc_settings, live_options):
    from cc_backend_gdrive.backend import GDriveBackend

    root = f"/cc-live-tests/{uuid.uuid4().hex[:12]}"
    backend = GDriveBackend(root, settings=cc_settings, force_bucket_creation=True, **live_options)
    yield backend
    backend.delete_many([entry.name for entry in backend.list("")])
    if backend.bucket_exists(root):
        backend.delete_bucket(root)


class TestLiveGDriveConformance(BackendConformance):
    large_size = 1024 * 1024 + 17
    many_objects = 120

    @pytest.fixture
    def backend(self, live_backend):
        return live_backend


def test_live_raw_array_through_the_interface(live_backend, live_options, cc_settings):
    import cottoncandy as cc

    cci = cc.get_interface(live_backend.bucket, backend="gdrive", settings=cc_settings, verbose=False,
                           **live_options)
    array = np.asfortranarray(np.random.default_rng(5).random((100, 50)))
    cci.upload_raw_array("arrays/live", array, compression="gzip")
    np.testing.assert_array_equal(cci.download_raw_array("arrays/live"), array)
    assert cci.ls("arrays") == ["arrays/live"]
