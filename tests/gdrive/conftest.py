"""Fixtures: a loopback fake Drive (one per session), sign-in files for it, and backends on it.

Every test works in its own root folder on the fake, so backends (which share a client and its
folder cache per account) never see another test's folders.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from .fake_drive import FakeDrive

TOKEN = "test-token"
#: Small sizes so that resumable uploads and ranged downloads run on small test data.
TUNING = {
    "chunk_size": 256 * 1024,
    "resumable_threshold": 300 * 1024,
    "download_chunk_size": 200 * 1024,
    "retry_delay": 0.01,
    "timeout": 5,
}


def write_client_secrets(path: Path, token_uri: str) -> None:
    """An OAuth client secrets file of type "installed", as the Cloud console downloads it."""
    path.write_text(json.dumps({"installed": {
        "client_id": "cc-test.apps.googleusercontent.com",
        "client_secret": "not-a-secret",
        "auth_uri": "http://127.0.0.1:1/auth",
        "token_uri": token_uri,
        "redirect_uris": ["http://localhost"],
    }}))


def write_credentials(path: Path, token_uri: str, token: str = TOKEN, expiry: datetime | None = None) -> None:
    """Saved OAuth credentials holding a static token that does not expire and cannot refresh."""
    from oauth2client.client import OAuth2Credentials

    credentials = OAuth2Credentials(
        access_token=token, client_id="cc-test.apps.googleusercontent.com", client_secret="not-a-secret",
        refresh_token=None, token_expiry=expiry or datetime(2099, 1, 1), token_uri=token_uri, user_agent=None,
    )
    path.write_text(credentials.to_json())
    path.chmod(0o600)


@pytest.fixture(scope="session")
def fake_drive() -> FakeDrive:
    fake = FakeDrive(token=TOKEN, page_cap=100)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def drive_auth_files(tmp_path_factory, fake_drive) -> dict[str, str]:
    directory = tmp_path_factory.mktemp("gdrive-auth")
    secrets, credentials = directory / "client_secrets.json", directory / "credentials.txt"
    write_client_secrets(secrets, fake_drive.url + "/token")
    write_credentials(credentials, fake_drive.url + "/token")
    return {"secrets_file": str(secrets), "credentials_file": str(credentials)}


@pytest.fixture
def drive_options(fake_drive, drive_auth_files) -> dict[str, Any]:
    """Constructor options that aim the whole client stack at the fake."""
    with fake_drive.lock:
        fake_drive.faults.clear()
        fake_drive.log.clear()
        fake_drive.ignore_range, fake_drive.range_shift = False, 0
    return {"endpoint_url": fake_drive.url, **drive_auth_files, **TUNING}


@pytest.fixture
def drive_root() -> str:
    return f"/cc-tests/{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_backend(drive_options, drive_root, cc_settings) -> Callable[..., Any]:
    from cc_backend_gdrive.backend import GDriveBackend

    def make(bucket: str | None = None, **options: Any) -> GDriveBackend:
        return GDriveBackend(bucket or drive_root, settings=cc_settings, force_bucket_creation=True,
                             **{**drive_options, **options})

    return make


@pytest.fixture
def gdrive_backend(make_backend) -> Any:
    return make_backend()


@pytest.fixture
def gdrive_interface(drive_options, drive_root, cc_settings) -> Any:
    from cc_core.interface import CCInterface

    return CCInterface(drive_root, backend="gdrive", force_bucket_creation=True, settings=cc_settings,
                       url=drive_options["endpoint_url"],
                       **{k: v for k, v in drive_options.items() if k != "endpoint_url"})
