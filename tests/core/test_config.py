"""The config file: created 0600 from defaults, overridden by the environment, errors with line numbers."""

import stat
import subprocess
import sys

import pytest

from cc_core.config import Config, load_config
from cc_core.errors import ConfigError


def test_created_private_from_defaults(cc_config_dir):
    config = load_config()
    assert config.path == cc_config_dir / "options.cfg"
    assert stat.S_IMODE(config.path.stat().st_mode) == 0o600
    assert config.get("basic", "default_acl") == "private"
    assert "[pipeline]" in config.path.read_text()


def test_existing_file_is_not_overwritten_and_overrides_defaults(cc_config_dir):
    path = cc_config_dir / "options.cfg"
    path.write_text("[basic]\nthreads = 9\n")
    path.chmod(0o600)
    config = load_config()
    assert config.getint("basic", "threads") == 9
    assert config.get("basic", "default_acl") == "private"  # missing keys fall back to defaults
    assert path.read_text() == "[basic]\nthreads = 9\n"


def test_environment_overrides_file(cc_config_dir, monkeypatch):
    monkeypatch.setenv("CC_BASIC_THREADS", "3")
    monkeypatch.setenv("CC_PIPELINE_TRANSFORMS", "gzip")
    config = load_config()
    assert config.getint("basic", "threads") == 3
    assert config.section("pipeline")["transforms"] == "gzip"


def test_syntax_error_names_file_and_line(cc_config_dir):
    path = cc_config_dir / "options.cfg"
    path.write_text("[basic]\nthreads = 4\nthis line has no equals sign\n")
    with pytest.raises(ConfigError, match=r"options.cfg, line 3"):
        load_config()
    path.write_text("threads = 4\n")
    with pytest.raises(ConfigError, match=r"line 1.*under a \[section\] header"):
        load_config()


def test_bad_values_name_the_setting(cc_config_dir, monkeypatch):
    monkeypatch.setenv("CC_BASIC_THREADS", "many")
    with pytest.raises(ConfigError, match=r"\[basic\] threads"):
        load_config().getint("basic", "threads")


def test_world_readable_file_warns(cc_config_dir):
    load_config()
    (cc_config_dir / "options.cfg").chmod(0o644)
    with pytest.warns(UserWarning, match="chmod 600"):
        load_config()


def test_secrets_are_redacted(cc_config_dir, monkeypatch):
    monkeypatch.setenv("CC_LOGIN_ACCESS_KEY", "AKIAFAKEACCESSKEY123")
    monkeypatch.setenv("CC_LOGIN_SECRET_KEY", "fake/secret+KEY/value")
    config = load_config()
    shown = repr(config) + str(config.as_dict())
    assert "AKIAFAKEACCESSKEY123" not in shown and "fake/secret+KEY/value" not in shown
    assert config.as_dict()["login"]["secret_key"] == "********"
    result = subprocess.run([sys.executable, "-m", "cc_core.cli", "config"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert "fake/secret+KEY/value" not in result.stdout + result.stderr
    assert "AKIAFAKEACCESSKEY123" not in result.stdout + result.stderr
    assert "secret_key = ********" in result.stdout


def test_03_encryption_key_is_redacted(cc_config_dir):
    """cottoncandy 0.3 kept its AES key, base64, as ``[encryption] key``: never shown in clear."""
    path = cc_config_dir / "options.cfg"
    path.write_text("[encryption]\nmethod = AES\nkey = c2VjcmV0LWFlcy1rZXktMTYtYnl0ZXMhIQ==\n")
    path.chmod(0o600)
    config = load_config()
    assert config.as_dict()["encryption"]["key"] == "********"
    assert config.as_dict()["encryption"]["method"] == "AES"
    assert config.as_dict(redact=False)["encryption"]["key"] == "c2VjcmV0LWFlcy1rZXktMTYtYnl0ZXMhIQ=="
    result = subprocess.run([sys.executable, "-m", "cc_core.cli", "config"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert "c2VjcmV0LWFlcy1rZXktMTYtYnl0ZXMhIQ" not in result.stdout + result.stderr
    assert "key = ********" in result.stdout and "method = AES" in result.stdout


def test_sizes_parse_with_units(cc_config_dir):
    config = load_config()
    config.set("compression", "threshold", "2GB")
    assert config.getint("compression", "threshold") == 2 << 30
    assert isinstance(config, Config)
