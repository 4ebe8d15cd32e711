"""Master keys: parsing, key files (0600, never overwritten), the key ring's sources and order."""

from __future__ import annotations

import base64
import threading

import pytest

from cc_crypto.errors import MasterKeyError
from cc_crypto.keys import (
    KeyRing,
    MasterKeyCreatedWarning,
    PassphraseKey,
    ScryptCost,
    SymmetricKey,
    create_key_file,
    parse_key,
)


def test_symmetric_key_text_round_trip():
    key = SymmetricKey.generate()
    text = key.export()
    assert f"key id {key.key_id.hex()}" in text and "BACK IT UP" in text
    assert parse_key(text).key_id == key.key_id
    bare = text.strip().splitlines()[-1].split(":", 1)[1]
    assert parse_key(bare).key_id == key.key_id  # base64 alone, as in an environment variable
    assert parse_key(base64.b64decode(bare)).key_id == key.key_id  # 32 raw bytes
    assert key.key_id.hex() in repr(key) and bare not in repr(key)


def test_rsa_key_text_round_trip(rsa_private):
    private = parse_key(rsa_private.export())
    public = parse_key(rsa_private.export(public=True))
    assert private.key_id == public.key_id == rsa_private.key_id
    assert private.can_decrypt and not public.can_decrypt
    assert "PRIVATE" not in rsa_private.export(public=True)


@pytest.mark.parametrize("value", ["", "aes256:c2hvcnQ=", "not a key", 12345, b"\x00" * 31,
                                   "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"])
def test_unusable_keys_are_refused_clearly(value):
    with pytest.raises(MasterKeyError, match="key"):
        parse_key(value, source="test value")


def test_key_ids_are_fingerprints():
    key = SymmetricKey(bytes(32))
    assert key.key_id == SymmetricKey(bytes(32)).key_id != SymmetricKey(bytes(31) + b"\x01").key_id
    assert len(key.key_id) == 16


def test_passphrase_keys():
    first = PassphraseKey("pass", cost=ScryptCost(10), salt=bytes(16))
    same = PassphraseKey("pass", cost=ScryptCost(10), salt=bytes(16))
    assert first.key_id == same.key_id
    assert first.matches(first.key_id, first.algorithm, first.wrap_parameters())
    assert not PassphraseKey("other", cost=ScryptCost(10)).matches(first.key_id, first.algorithm, first.wrap_parameters())
    with pytest.raises(MasterKeyError, match="empty"):
        PassphraseKey("")
    with pytest.raises(MasterKeyError, match="scrypt cost"):
        PassphraseKey("pass", cost=ScryptCost(log_n=30))
    with pytest.raises(MasterKeyError, match="no key file"):
        first.export()


def test_key_files_are_private_and_never_overwritten(tmp_path):
    path = tmp_path / "deep" / "master.key"
    assert create_key_file(path, "first")
    assert path.stat().st_mode & 0o777 == 0o600
    assert not create_key_file(path, "second")
    assert path.read_text() == "first"
    assert [p.name for p in path.parent.iterdir()] == ["master.key"]  # no temporary file left


def test_concurrent_generation_yields_one_key(tmp_path):
    path = tmp_path / "master.key"
    rings = [KeyRing(key_file=path) for _ in range(8)]
    found = []
    with pytest.warns(MasterKeyCreatedWarning):
        threads = [threading.Thread(target=lambda r=ring: found.append(r.encryption_key().key_id)) for ring in rings]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(set(found)) == 1 and len(found) == 8


def test_keyring_order_and_sources(cc_settings, cc_config_dir, monkeypatch):
    file_key = SymmetricKey.generate()
    create_key_file(cc_config_dir / "master.key", file_key.export())
    old = SymmetricKey.generate()
    create_key_file(cc_config_dir / "keys" / f"{old.key_id.hex()}.key", old.export())
    ring = KeyRing.from_config(cc_settings)
    assert ring.encryption_key().key_id == file_key.key_id
    assert [k.key_id for k in ring.keys()] == [file_key.key_id, old.key_id]  # noqa: SIM118 -- a list
    assert ring.find(old.key_id, old.algorithm, b"") .key_id == old.key_id

    env_key = SymmetricKey.generate()
    monkeypatch.setenv("CC_ENCRYPTION_MASTER_KEY", env_key.export())
    assert KeyRing.from_config(cc_settings).encryption_key().key_id == env_key.key_id
    given = SymmetricKey.generate()
    ring = KeyRing.from_config(cc_settings, given)
    assert [k.key_id for k in ring.keys()][:2] == [given.key_id, env_key.key_id]  # noqa: SIM118 -- a list
    assert "CC_ENCRYPTION_MASTER_KEY" in ring.keys()[1].describe()


def test_key_file_setting_may_name_another_file(cc_settings, tmp_path):
    cc_settings.set("encryption", "key_file", str(tmp_path / "elsewhere.key"))
    with pytest.warns(MasterKeyCreatedWarning, match="elsewhere.key"):
        KeyRing.from_config(cc_settings).encryption_key()
    assert (tmp_path / "elsewhere.key").exists()


def test_exposed_key_file_warns(cc_settings, cc_config_dir):
    path = cc_config_dir / "master.key"
    create_key_file(path, SymmetricKey.generate().export())
    path.chmod(0o644)
    with pytest.warns(UserWarning, match="chmod 600"):
        KeyRing.from_config(cc_settings).encryption_key()


def test_damaged_key_file_is_a_clear_error(cc_settings, cc_config_dir):
    create_key_file(cc_config_dir / "master.key", "aes256:garbage\n")
    with pytest.raises(MasterKeyError, match="master.key"):
        KeyRing.from_config(cc_settings).encryption_key()
    assert (cc_config_dir / "master.key").read_text() == "aes256:garbage\n"  # left for the user to repair


def test_loading_the_plugin_imports_no_crypto_library():
    import subprocess
    import sys

    code = "import sys, cc_crypto.plugin, cc_crypto; print('Crypto' in sys.modules or 'cryptography' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr
