"""``cottoncandy key id|generate|export|import``: in process through cc_core.cli.main, and once as a program."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.cli import main
from cc_core.config import load_config
from cc_crypto.errors import MasterKeyError
from cc_crypto.keys import SymmetricKey, parse_key

pytestmark = pytest.mark.filterwarnings("ignore::cc_crypto.keys.MasterKeyCreatedWarning")


def open_store(store: str, encrypted: bool = True):
    """An interface on ``store`` with the config (and so the keys) of the current CC_CONFIG_DIR."""
    factory = cc.get_encrypted_interface if encrypted else cc.get_interface
    return factory(store, backend="local", settings=load_config(), verbose=False, force_bucket_creation=True)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(["key", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_id_generate_and_never_overwrite(capsys, cc_config_dir):
    status, _, err = run(capsys, "id")
    assert status == 1 and "cottoncandy key generate" in err
    status, out, _ = run(capsys, "generate")
    path = cc_config_dir / "master.key"
    assert status == 0 and str(path) in out and "BACK IT UP" in out
    assert path.stat().st_mode & 0o777 == 0o600
    key = parse_key(path.read_text())
    content = path.read_bytes()
    status, _, err = run(capsys, "generate")
    assert status == 1 and "never overwritten" in err and key.key_id.hex() in err
    assert path.read_bytes() == content
    status, out, _ = run(capsys, "id")
    assert status == 0 and out.startswith(key.key_id.hex()) and "encrypts" in out


def test_export_and_import_move_a_key_to_another_machine(capsys, cc_config_dir, tmp_path, monkeypatch):
    store = str(tmp_path / "store")
    array = np.arange(100.0)
    open_store(store).upload_raw_array("a", array)
    backup = tmp_path / "backup.key"
    status, out, _ = run(capsys, "export", str(backup))
    assert status == 0 and backup.stat().st_mode & 0o777 == 0o600
    status, _, err = run(capsys, "export", str(backup))
    assert status == 1 and "never overwritten" in err
    status, out, err = run(capsys, "export")
    assert status == 0 and out.strip().splitlines()[-1].startswith("aes256:") and "secret" in err
    status, _, err = run(capsys, "export", "--public")
    assert status == 1 and "no public part" in err

    other_machine = tmp_path / "other-config"
    monkeypatch.setenv("CC_CONFIG_DIR", str(other_machine))
    reader = open_store(store, encrypted=False)
    with pytest.raises(MasterKeyError):
        reader.download_raw_array("a")
    status, out, _ = run(capsys, "import", str(backup))
    assert status == 0 and "encrypts new objects" in out
    assert (other_machine / "master.key").stat().st_mode & 0o777 == 0o600
    reader = open_store(store, encrypted=False)
    np.testing.assert_array_equal(reader.download_raw_array("a"), array)
    status, out, _ = run(capsys, "import", str(backup))
    assert status == 0 and "available already" in out


def test_import_beside_an_existing_key_never_replaces_it(capsys, cc_config_dir, tmp_path, monkeypatch):
    run(capsys, "generate")
    primary = (cc_config_dir / "master.key").read_bytes()
    old = SymmetricKey.generate()
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(old.export()))
    status, out, _ = run(capsys, "import", "-")
    assert status == 0 and "decrypts the objects made with it" in out
    assert (cc_config_dir / "master.key").read_bytes() == primary
    assert parse_key((cc_config_dir / "keys" / f"{old.key_id.hex()}.key").read_text()).key_id == old.key_id
    status, out, _ = run(capsys, "id")
    assert old.key_id.hex() in out and "decrypts" in out
    status, out, _ = run(capsys, "export", "--id", old.key_id.hex()[:8])
    assert status == 0 and parse_key(out).key_id == old.key_id
    status, _, err = run(capsys, "import", str(tmp_path / "missing.key"))
    assert status == 1 and "Cannot read" in err


def test_rsa_public_key_encrypts_for_the_private_key_holder(capsys, cc_config_dir, tmp_path, monkeypatch):
    status, _, _ = run(capsys, "generate", "--rsa", "2048")
    assert status == 0
    public_file = tmp_path / "public.pem"
    assert run(capsys, "export", "--public", str(public_file))[0] == 0
    assert "PRIVATE" not in public_file.read_text()
    store = str(tmp_path / "store")
    owner_config = cc_config_dir

    monkeypatch.setenv("CC_CONFIG_DIR", str(tmp_path / "uploader"))
    assert run(capsys, "import", str(public_file))[0] == 0
    uploader = open_store(store)
    uploader.upload_object("report", b"for the owner's eyes")
    with pytest.raises(MasterKeyError, match="public half"):
        uploader.download_object("report")

    monkeypatch.setenv("CC_CONFIG_DIR", str(owner_config))
    owner = open_store(store)
    assert owner.download_object("report") == b"for the owner's eyes"


def test_the_cottoncandy_program_runs_the_key_commands(tmp_path):
    environment = {**os.environ, "CC_CONFIG_DIR": str(tmp_path), "PYTHONWARNINGS": "ignore"}
    generated = subprocess.run([sys.executable, "-m", "cc_core.cli", "key", "generate"], env=environment,
                               capture_output=True, text=True, timeout=60)
    assert generated.returncode == 0, generated.stderr
    shown = subprocess.run([sys.executable, "-m", "cc_core.cli", "key", "id"], env=environment,
                           capture_output=True, text=True, timeout=60)
    key = parse_key((tmp_path / "master.key").read_text())
    assert shown.returncode == 0 and shown.stdout.startswith(key.key_id.hex())
