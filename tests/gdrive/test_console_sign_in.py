"""Signing in on a machine without a browser (a cluster login node): ``cottoncandy gdrive-auth``
prints an address to open elsewhere and reads back where the browser landed; the saved sign-in is
refreshed by any later process, and a revoked one says what to do."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

import cottoncandy as cc
from cc_backend_gdrive.auth import CONSOLE_REDIRECT, authorization_code
from cc_core.errors import ConfigError

from .conftest import TUNING, write_client_secrets


def sign_in(tmp_path, config_dir, answer: str, *arguments: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run(
        [sys.executable, "-m", "cc_core.cli", "gdrive-auth", "--secrets", str(tmp_path / "secrets.json"),
         "--credentials", str(tmp_path / "credentials.txt"), *arguments],
        input=answer + "\n", capture_output=True, text=True, timeout=120,
        env={**environment, "CC_CONFIG_DIR": str(config_dir)},
    )


@pytest.fixture
def secrets(tmp_path, fake_drive):
    write_client_secrets(tmp_path / "secrets.json", fake_drive.url + "/token")
    return tmp_path / "secrets.json"


def redirect(code: str) -> str:
    return f"{CONSOLE_REDIRECT}?code={code}&scope=https://www.googleapis.com/auth/drive"


def test_console_sign_in_without_a_browser_saves_refreshable_credentials(tmp_path, secrets, fake_drive,
                                                                         cc_config_dir, cc_settings):
    result = sign_in(tmp_path, cc_config_dir, redirect(fake_drive.sign_in_code))  # no DISPLAY: console by default
    assert result.returncode == 0, result.stdout + result.stderr
    assert "browser has been opened" not in result.stdout.lower()
    address = next(line.strip() for line in result.stdout.splitlines() if line.strip().startswith("http://127.0.0.1:1/auth"))
    query = parse_qs(urlsplit(address).query)
    assert query["redirect_uri"] == [CONSOLE_REDIRECT] and query["access_type"] == ["offline"]
    saved = tmp_path / "credentials.txt"
    assert f"credentials saved in {saved}" in result.stdout
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    record = json.loads(saved.read_text())
    assert record["refresh_token"] == fake_drive.refresh_token

    # a later process whose access token has expired refreshes it and saves the new one
    record["token_expiry"] = "2000-01-01T00:00:00Z"
    saved.write_text(json.dumps(record))
    cci = cc.get_interface("/cc-tests/console", backend="gdrive", force_bucket_creation=True, verbose=False,
                           settings=cc_settings, endpoint_url=fake_drive.url, secrets_file=str(secrets),
                           credentials_file=str(saved), **TUNING)
    cci.upload_object("hello", b"from a login node")
    assert cci.download_object("hello") == b"from a login node"
    assert datetime.fromisoformat(json.loads(saved.read_text())["token_expiry"].rstrip("Z")).year > 2000


def test_revoked_sign_in_says_what_to_do(tmp_path, secrets, fake_drive, cc_config_dir, cc_settings):
    assert sign_in(tmp_path, cc_config_dir, fake_drive.sign_in_code, "--console").returncode == 0  # the bare code
    saved = tmp_path / "credentials.txt"
    record = json.loads(saved.read_text())
    record.update(token_expiry="2000-01-01T00:00:00Z", refresh_token="revoked-after-7-days")
    saved.write_text(json.dumps(record))
    with pytest.raises(ConfigError, match="invalid_grant.*7 days.*cottoncandy gdrive-auth.*In production"):
        cc.get_interface("/cc-tests/console", backend="gdrive", verbose=False, settings=cc_settings,
                         endpoint_url=fake_drive.url, secrets_file=str(secrets), credentials_file=str(saved), **TUNING)


def test_a_refused_or_wrong_code_is_reported(tmp_path, secrets, fake_drive, cc_config_dir):
    result = sign_in(tmp_path, cc_config_dir, redirect("not-the-code"), "--console")
    assert result.returncode == 1 and "refused the sign-in code" in result.stdout
    assert not (tmp_path / "credentials.txt").exists()
    denied = sign_in(tmp_path, cc_config_dir, CONSOLE_REDIRECT + "?error=access_denied", "--console")
    assert denied.returncode == 1 and "access_denied" in denied.stdout


@pytest.mark.parametrize("answer, code", [
    (" 4/abc \n", "4/abc"), ("http://localhost:1/?code=4/abc&scope=x", "4/abc"), ("/?code=xyz", "xyz"),
])
def test_the_code_is_found_in_what_was_pasted(answer, code):
    assert authorization_code(answer) == code


def test_an_address_without_a_code_is_refused():
    with pytest.raises(ConfigError, match="No sign-in code"):
        authorization_code("http://localhost:1/?scope=x")
