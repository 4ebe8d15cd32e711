"""``cottoncandy key migrate TARGET``: cottoncandy 0.3's objects re-encrypted in place in the current
format, on the local backend and on S3 (moto); a failure leaves the original as it was."""

from __future__ import annotations

import contextlib
import json
import warnings

import pytest
from legacy03_writer import encrypt_aes
from test_legacy03_interface import AES_KEY, VALUES, Store, check, configure_03_key, read, rsa_files  # noqa: F401

import cottoncandy as cc
from cc_core.cli import main
from cc_core.config import load_config
from cc_crypto.legacy03 import UnauthenticatedObjectWarning

with contextlib.suppress(ImportError):  # the S3 suite's moto server and client, where the S3 plugin and moto are installed
    from s3.conftest import ACCESS_KEY, SECRET_KEY, moto_endpoint, s3_client  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore::cc_crypto.keys.MasterKeyCreatedWarning")
MAGIC = b"\x89CCENC\r\n"


@pytest.fixture(params=["local", "s3"])
def store(request, cc_config_dir, monkeypatch):
    store = Store(request.param, request)
    if store.kind == "s3":
        monkeypatch.setenv("CC_LOGIN_ACCESS_KEY", ACCESS_KEY)
        monkeypatch.setenv("CC_LOGIN_SECRET_KEY", SECRET_KEY)
        monkeypatch.setenv("CC_LOGIN_ENDPOINT_URL", store.options["endpoint_url"])
    return store


def url(store: Store, name: str) -> str:
    return f"{store.bucket}/{name}" if store.kind == "local" else f"s3://{store.bucket}/{name}"


def migrate(capsys, *arguments: str) -> tuple[int, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnauthenticatedObjectWarning)  # migrating is not reading: no warning
        status = main(["key", "migrate", *arguments])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_migrates_03_objects_in_place_and_reports(store, cc_config_dir, capsys):
    configure_03_key(cc_config_dir)
    for name, (kind, value, compression) in VALUES.items():
        store.put_03("exp/" + name, kind, value, compression)
    store.put_03("other/untouched", "bytes", b"outside the prefix")
    cc.get_encrypted_interface(store.bucket, settings=load_config(), verbose=False, **store.options).upload_json(
        "exp/current.json", {"already": "current"})
    status, out = migrate(capsys, url(store, "exp"))
    assert status == 0, out
    for name in VALUES:
        assert f"migrated  {url(store, 'exp/' + name)}" in out
        assert store.stored("exp/" + name)[:8] == MAGIC
    assert f"skipped   {url(store, 'exp/current.json')}" in out
    assert f"{len(VALUES)} migrated, 1 skipped, 0 failed" in out
    assert store.stored("other/untouched")[:8] != MAGIC
    # read back without any 0.3 key, and without the unauthenticated warning
    (cc_config_dir / "options.cfg").write_text("")
    cci = store.open()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnauthenticatedObjectWarning)
        for name, (kind, value, _) in VALUES.items():
            check(value, read(cci, "exp/" + name, kind))
    info = cci.get_object("exp/arrays/gzipped")
    assert info.metadata["cc-transforms"] == "gzip,aes-gcm" and info.metadata["dtype"] == "<f8"


def test_failures_leave_the_original_untouched(store, cc_config_dir, capsys):
    configure_03_key(cc_config_dir)
    store.put_03("exp/good", "bytes", b"good bytes")
    damaged = bytearray(encrypt_aes(b"x" * 5000, AES_KEY))
    damaged[-20] ^= 1  # in the next-to-last block: CBC flips the same bit of the last block's length field
    store.put("exp/damaged", bytes(damaged), {})
    wrong = encrypt_aes(b"other key", bytes(32))
    store.put("exp/wrong-key", wrong, {})
    store.put("exp/plain-0.4", b"never encrypted, 0.4 wrote it", {})
    status, out = migrate(capsys, url(store, "exp"))
    assert status == 1
    assert f"migrated  {url(store, 'exp/good')}" in out
    for name in ("damaged", "wrong-key", "plain-0.4"):
        assert f"FAILED    {url(store, 'exp/' + name)}" in out
    assert "1 migrated, 0 skipped, 3 failed" in out and "left as they were" in out
    assert store.stored("exp/damaged") == bytes(damaged)
    assert store.stored("exp/wrong-key") == wrong
    assert store.stored("exp/plain-0.4") == b"never encrypted, 0.4 wrote it"


def test_dry_run_changes_nothing(store, cc_config_dir, capsys):
    configure_03_key(cc_config_dir)
    store.put_03("exp/doc.json", "json", {"a": 1})
    before = store.stored("exp/doc.json")
    status, out = migrate(capsys, "--dry-run", url(store, "exp/doc.json"))
    assert status == 0 and f"would migrate  {url(store, 'exp/doc.json')}" in out
    assert store.stored("exp/doc.json") == before


def test_rsa_objects_with_the_key_file_and_json_report(store, rsa_files, capsys):
    private, public = rsa_files
    kind, value, compression = VALUES["arrays/gzipped"]
    store.put_03("exp/array", kind, value, compression, rsa_public=public.read_bytes())
    status, out = migrate(capsys, url(store, "exp"))
    assert status == 1 and "encryption='RSA'" not in out and "--rsa-key" in out
    status, out = migrate(capsys, "--json", "--rsa-key", str(private), url(store, "exp"))
    assert status == 0
    assert json.loads(out)["objects"] == [{"name": url(store, "exp/array"), "status": "migrated", "method": "RSA",
                                           "transforms": "gzip,aes-gcm", "error": None}]
    cci = store.open()
    check(value, cci.download_raw_array("exp/array"))
    assert "key" not in {k.lower() for k in cci.get_object("exp/array").metadata}
