"""The command line on S3 (a moto server on 127.0.0.1): s3:// targets, keys from the config."""

import json

import numpy as np
import pytest

pytest.importorskip("cc_backend_s3")
pytest.importorskip("moto")

from s3.conftest import ACCESS_KEY, SECRET_KEY, moto_endpoint, s3_bucket, s3_client, s3_interface  # noqa: F401

from cc_core.cli import main


@pytest.fixture
def s3_cli(s3_interface, moto_endpoint, monkeypatch):
    """An S3 bucket with a few objects; the CLI finds keys and endpoint in the (environment) config."""
    monkeypatch.setenv("CC_LOGIN_ACCESS_KEY", ACCESS_KEY)
    monkeypatch.setenv("CC_LOGIN_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("CC_LOGIN_ENDPOINT_URL", moto_endpoint)
    s3_interface.upload_raw_array("exp/run1/data", np.arange(6.0).reshape(2, 3), compression="gzip")
    s3_interface.upload_object("exp/notes.txt", b"hello")
    return s3_interface, f"s3://{s3_interface.bucket_name}/"


def output(capsys, *arguments):
    assert main([str(a) for a in arguments]) == 0
    return capsys.readouterr().out


def test_listing_and_info_on_s3(s3_cli, capsys):
    _cci, base = s3_cli
    assert output(capsys, "ls", base + "exp").splitlines() == [f"{base}exp/notes.txt", f"{base}exp/run1/"]
    assert output(capsys, "glob", base + "**/data") == f"{base}exp/run1/data\n"
    record = json.loads(output(capsys, "info", "--json", base + "exp/run1/data"))
    assert record["shape"] == [2, 3] and record["transforms"] == ["gzip"] and record["codec"] == "raw"
    assert output(capsys, "cat", base + "exp/notes.txt") == "hello"
    assert json.loads(output(capsys, "du", "--json", base))["objects"] == 2


def test_transfers_between_s3_and_local(s3_cli, local_interface, tmp_path, capsys):
    cci, base = s3_cli
    local = local_interface.bucket_name
    output(capsys, "cp", "-r", base + "exp", f"file://{local}/")  # a local store: arrays keep their metadata
    np.testing.assert_array_equal(local_interface.download_raw_array("exp/run1/data"), np.arange(6.0).reshape(2, 3))
    output(capsys, "cp", "-r", base + "exp", tmp_path / "plain")  # a plain path: plain files, as download writes
    assert (tmp_path / "plain" / "run1" / "data").read_bytes() == np.arange(6.0).tobytes()
    assert not list((tmp_path / "plain").rglob("*.meta.json"))
    output(capsys, "mv", local + "/exp/notes.txt", base + "moved.txt")
    assert cci.download_object("moved.txt") == b"hello"
    (tmp_path / "up.bin").write_bytes(b"u" * 1000)
    output(capsys, "upload", tmp_path / "up.bin", base + "uploads/")
    output(capsys, "download", base + "uploads/up.bin", tmp_path / "down.bin")
    assert (tmp_path / "down.bin").read_bytes() == b"u" * 1000
    output(capsys, "rm", "-r", base + "uploads")
    assert cci.glob("uploads") == []


def test_s3_errors_are_one_line(s3_cli, capsys):
    _cci, base = s3_cli
    assert main(["info", base + "missing"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing" in err


def test_s3_transfers_report_every_byte(s3_interface):
    from cc_core.progress import ByteCounter

    array = np.arange(40_000, dtype=np.float32)
    for compression in (False, "gzip"):
        up, down = ByteCounter(), ByteCounter()
        s3_interface.upload_raw_array("p", array, compression=compression, progress=up)
        np.testing.assert_array_equal(s3_interface.download_raw_array("p", progress=down), array)
        stored = s3_interface.get_object("p").size
        assert up.size == up.transferred == down.size == down.transferred == stored


def test_store_url_lists_buckets_and_mb_makes_one(s3_cli, capsys):
    _cci, base = s3_cli
    assert base in output(capsys, "ls", "s3://").splitlines()
    assert json.loads(output(capsys, "ls", "--json", "s3://"))[0]["type"] == "bucket"
    assert main(["ls", "s3://cc-cli-not-made-yet/"]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "cottoncandy mb s3://cc-cli-not-made-yet" in err
    assert "create_bucket" not in err and "force_bucket_creation" not in err
    assert "is ready" in output(capsys, "mb", "s3://cc-cli-not-made-yet")
    assert output(capsys, "ls", "s3://cc-cli-not-made-yet/") == ""
    assert "s3://cc-cli-not-made-yet/" in output(capsys, "ls", "s3://").splitlines()
