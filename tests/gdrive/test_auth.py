"""Signing in: secrets and saved credentials in the config directory, 0.4's key arguments, service
accounts, and errors that say which file to put where."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import pytest

import cottoncandy as cc
from cc_core.config import config_dir
from cc_core.errors import ConfigError

from .conftest import TUNING, write_client_secrets, write_credentials


@pytest.fixture
def options(fake_drive):
    return {"endpoint_url": fake_drive.url, **TUNING}


def test_files_named_in_the_config_section_are_found_in_the_config_directory(cc_settings, options, fake_drive):
    directory = config_dir()
    write_client_secrets(directory / "client_secrets.json", fake_drive.url + "/token")
    write_credentials(directory / "credentials.txt", fake_drive.url + "/token")
    cci = cc.get_interface("/cc-tests/config-dir", backend="gdrive", force_bucket_creation=True,
                           settings=cc_settings, verbose=False, **options)
    cci.upload_object("x", b"signed in from the config directory")
    assert cci.download_object("x") == b"signed in from the config directory"


def test_keys_carry_file_paths_as_in_04(cc_settings, options, drive_auth_files):
    cci = cc.get_interface("/cc-tests/keys", drive_auth_files["secrets_file"], drive_auth_files["credentials_file"],
                           backend="gdrive", force_bucket_creation=True, settings=cc_settings, verbose=False,
                           **options)
    assert cci.exists_bucket("/cc-tests/keys")
    assert cci.backend.pickle_options() == {"secrets_file": drive_auth_files["secrets_file"],
                                            "credentials_file": drive_auth_files["credentials_file"]}


def test_missing_secrets_say_where_to_put_them(cc_settings, options, tmp_path):
    secrets = tmp_path / "nothing.json"
    with pytest.raises(ConfigError) as caught:
        cc.get_interface("/x", backend="gdrive", settings=cc_settings, verbose=False, secrets_file=str(secrets),
                         credentials_file=str(tmp_path / "none.txt"), **options)
    message = str(caught.value)
    assert f"client secrets not found at {secrets}" in message
    assert "Desktop app" in message and "Drive API" in message and "service_account_key" in message


def test_invalid_secrets_file(cc_settings, options, tmp_path):
    secrets = tmp_path / "client_secrets.json"
    secrets.write_text(json.dumps({"something": "else"}))
    with pytest.raises(ConfigError, match=f"{secrets} is not a valid OAuth client secrets file"):
        cc.get_interface("/x", backend="gdrive", settings=cc_settings, verbose=False, secrets_file=str(secrets),
                         credentials_file=str(tmp_path / "none.txt"), **options)


def test_no_saved_credentials_without_a_terminal(cc_settings, options, tmp_path, fake_drive):
    secrets = tmp_path / "client_secrets.json"
    write_client_secrets(secrets, fake_drive.url + "/token")
    with pytest.raises(ConfigError, match="No saved Google Drive credentials at .*cottoncandy gdrive-auth"):
        cc.get_interface("/x", backend="gdrive", settings=cc_settings, verbose=False, secrets_file=str(secrets),
                         credentials_file=str(tmp_path / "none.txt"), **options)


def test_expired_credentials_that_cannot_refresh(cc_settings, options, tmp_path, fake_drive):
    credentials = tmp_path / "expired.txt"
    write_credentials(credentials, fake_drive.url + "/token", expiry=datetime(2000, 1, 1))
    with pytest.raises(ConfigError, match="could not be refreshed.*gdrive-auth"):
        cc.get_interface("/x", backend="gdrive", settings=cc_settings, verbose=False,
                         credentials_file=str(credentials), **options)


def test_unreadable_credentials_file(cc_settings, options, tmp_path):
    credentials = tmp_path / "garbage.txt"
    credentials.write_text("not json")
    credentials.chmod(0o600)
    with pytest.raises(ConfigError, match="cannot be read.*delete the file"):
        cc.get_interface("/x", backend="gdrive", settings=cc_settings, verbose=False,
                         credentials_file=str(credentials), **options)


def service_account_key(path, token_uri: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "cc-test", "private_key_id": "k1", "private_key": pem,
        "client_email": "robot@cc-test.iam.gserviceaccount.com", "client_id": "1", "token_uri": token_uri,
    }))
    path.chmod(0o600)


def test_service_account_for_unattended_jobs(cc_settings, options, tmp_path, fake_drive):
    key = tmp_path / "robot.json"
    service_account_key(key, fake_drive.url + "/token")
    cc_settings.set("gdrive", "service_account_key", str(key))
    cci = cc.get_interface("/cc-tests/robot", backend="gdrive", force_bucket_creation=True,
                           settings=cc_settings, verbose=False, **options)
    cci.upload_object("job", b"done")
    assert cci.download_object("job") == b"done"
    assert ("POST", "/token") in fake_drive.log


def test_missing_service_account_key(cc_settings, options, tmp_path):
    with pytest.raises(ConfigError, match="service account key .*does not exist.*JSON"):
        cc.get_interface("/x", backend="gdrive", settings=cc_settings, verbose=False,
                         service_account_key=str(tmp_path / "missing.json"), **options)


def test_bad_chunk_size_is_refused(cc_settings, options, drive_auth_files):
    with pytest.raises(ConfigError, match="multiple of 256 KiB"):
        cc.get_interface("/x", backend="gdrive", settings=cc_settings, verbose=False,
                         **{**options, **drive_auth_files, "chunk_size": 100_000})


def test_plugin_entry_point_imports_no_drive_libraries():
    code = ("import sys, cc_backend_gdrive.plugin; "
            "assert not any(m.startswith(('pydrive2', 'googleapiclient', 'oauth2client')) for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_gdrive_auth_command_reports_missing_secrets(tmp_path, cc_config_dir):
    result = subprocess.run([sys.executable, "-m", "cc_core.cli", "gdrive-auth", "--secrets", str(tmp_path / "s.json"),
                             "--credentials", str(tmp_path / "c.txt")], capture_output=True, text=True,
                            env={**__import__("os").environ, "CC_CONFIG_DIR": str(cc_config_dir)})
    assert result.returncode == 1, result.stderr
    assert f"client secrets not found at {tmp_path / 's.json'}" in result.stdout
