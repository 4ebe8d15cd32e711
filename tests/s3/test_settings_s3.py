"""Credentials, endpoint, botocore config, transfer settings and ACLs of the S3 backend."""

import socket
import time

import pytest
from botocore.client import Config as BotoConfig

import cottoncandy as cc
from cc_backend_s3.backend import S3Backend
from cc_backend_s3.client import client_config, resolve_keys
from cc_backend_s3.retry import S3AccessError
from cc_backend_s3.settings import MB, TransferSettings
from cc_core.errors import ConfigError, TransferError
from cc_core.payload import Payload

from .conftest import ACCESS_KEY, SECRET_KEY


def test_keys_from_arguments_then_config_then_legacy_environment(cc_settings, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_ACCESS_KEY", raising=False)
    monkeypatch.delenv("AWS_SECRET_KEY", raising=False)
    assert resolve_keys(None, None, cc_settings) == (None, None)  # boto3's own chain decides
    monkeypatch.setenv("AWS_ACCESS_KEY", "legacy-a")
    monkeypatch.setenv("AWS_SECRET_KEY", "legacy-s")
    assert resolve_keys(None, None, cc_settings) == ("legacy-a", "legacy-s")
    cc_settings.set("login", "access_key", "config-a")
    cc_settings.set("login", "secret_key", "config-s")
    assert resolve_keys("False", "False", cc_settings) == ("config-a", "config-s")
    assert resolve_keys("arg-a", "arg-s", cc_settings) == ("arg-a", "arg-s")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "standard")
    cc_settings.set("login", "access_key", "")
    assert resolve_keys(None, None, cc_settings) == (None, None)  # the standard variables win over 0.4's


def test_keys_and_endpoint_from_the_config_file(s3_bucket, moto_endpoint, cc_settings, monkeypatch):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    cc_settings.set("login", "access_key", ACCESS_KEY)
    cc_settings.set("login", "secret_key", SECRET_KEY)
    cc_settings.set("login", "endpoint_url", moto_endpoint)
    backend = S3Backend(s3_bucket, settings=cc_settings)
    backend.put("x", Payload([b"1"]), {})
    assert backend.client.meta.endpoint_url == moto_endpoint
    assert backend.client._request_signer._credentials.access_key == ACCESS_KEY


def test_keys_from_the_aws_environment(s3_bucket, moto_endpoint, cc_settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-environment")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-from-environment")
    backend = S3Backend(s3_bucket, settings=cc_settings, endpoint_url=moto_endpoint)
    backend.put("x", Payload([b"1"]), {})
    assert backend.client._request_signer._credentials.access_key == "from-environment"


def test_signature_version_from_config_unless_the_callers_config_has_one(cc_settings):
    cc_settings.set("basic", "signature_version", "s3v4")
    assert client_config(None, cc_settings, threads=4, endpoint_url=None).signature_version == "s3v4"
    mine = client_config(BotoConfig(read_timeout=123), cc_settings, threads=4, endpoint_url=None)
    assert mine.signature_version == "s3v4" and mine.read_timeout == 123
    theirs = client_config(BotoConfig(signature_version="s3"), cc_settings, threads=4, endpoint_url=None)
    assert theirs.signature_version == "s3"
    assert client_config(None, cc_settings, threads=16, endpoint_url="http://127.0.0.1:9").max_pool_connections == 32


def test_botocore_config_and_client_options_pass_through(s3_bucket, moto_endpoint, cc_settings):
    cci = cc.get_interface(s3_bucket, ACCESS_KEY, SECRET_KEY, moto_endpoint, settings=cc_settings, verbose=False,
                           config=BotoConfig(read_timeout=123, user_agent_extra="cc-tests"), region_name="eu-west-1",
                           threads=7)
    client = cci.backend.client
    assert client.meta.config.read_timeout == 123 and "cc-tests" in client.meta.config.user_agent_extra
    assert client.meta.region_name == "eu-west-1"
    assert cci.backend.transfer.threads == 7
    assert cci.backend.settings is cc_settings  # the core's settings arrive as settings=


def test_completions_and_copies_get_a_client_with_the_complete_timeout(s3_bucket, moto_endpoint, cc_settings):
    """[s3] complete_timeout (default 300 s) is the read timeout of the patient client, at least the
    caller's; every other request keeps the 10 s one, and nothing else differs between the two."""
    def backend(**options):
        return cc.get_interface(s3_bucket, ACCESS_KEY, SECRET_KEY, moto_endpoint, settings=cc_settings,
                                verbose=False, **options).backend

    default = backend()
    assert (default.client.meta.config.read_timeout, default.patient_client.meta.config.read_timeout) == (10, 300)
    assert default.patient_client.meta.config.connect_timeout == default.client.meta.config.connect_timeout
    assert default.patient_client.meta.endpoint_url == default.client.meta.endpoint_url
    assert backend(config=BotoConfig(read_timeout=900)).patient_client.meta.config.read_timeout == 900
    assert backend(complete_timeout=20).patient_client.meta.config.read_timeout == 20
    cc_settings.set("s3", "complete_timeout", "42")
    configured = backend()
    assert configured.transfer.complete_timeout == 42 and configured.patient_client.meta.config.read_timeout == 42
    for value in ("0.5", "soon"):
        cc_settings.set("s3", "complete_timeout", value)
        with pytest.raises(ConfigError, match=r"\[s3\] complete_timeout"):
            backend()
    with pytest.raises(ConfigError, match=r"complete_timeout = 0.5 must be at least 1"):
        TransferSettings(complete_timeout=0.5).check()


def test_transfer_settings_from_config(cc_settings, monkeypatch):
    monkeypatch.setenv("CC_UPLOAD_SETTINGS_MPU_CHUNKSIZE", "8")
    monkeypatch.setenv("CC_DOWNLOAD_SETTINGS_MPD_CHUNKSIZE", "512KB")
    cc_settings.set("basic", "threads", "3")
    settings = TransferSettings.from_settings(cc_settings)
    assert settings.part_size == 8 * MB and settings.download_part_size == 512 * 1024
    assert settings.threads == 3 and settings.acl == "private" and settings.multipart_threshold == 64 * MB
    assert TransferSettings.from_settings(cc_settings, threads=9).threads == 9
    assert settings.upload_part_size(200_000 * MB) == 20 * MB  # 10,000 parts at most
    monkeypatch.setenv("CC_BASIC_THREADS", "many")
    with pytest.raises(ConfigError, match=r"\[basic\] threads"):
        TransferSettings.from_settings(cc_settings)


def grants(s3_client, bucket, key):
    return {(g["Grantee"].get("URI", "owner").rsplit("/", 1)[-1], g["Permission"])
            for g in s3_client.get_object_acl(Bucket=bucket, Key=key)["Grants"]}


def test_acl_private_by_default_configurable_and_per_call(s3_backend, s3_bucket, s3_options, cc_settings,
                                                          s3_client, s3_faults):
    log = s3_faults(s3_backend, "PutObject")
    s3_backend.put("private", Payload([b"1"]), {})
    assert "x-amz-acl" not in {k.lower() for k in log.calls["PutObject"][0][1]}
    assert ("AllUsers", "READ") not in grants(s3_client, s3_bucket, "private")
    s3_backend.put("public", Payload([b"1"]), {}, acl="public-read")
    assert ("AllUsers", "READ") in grants(s3_client, s3_bucket, "public")
    cc_settings.set("basic", "default_acl", "authenticated-read")
    configured = S3Backend(s3_bucket, settings=cc_settings, **s3_options)
    configured.put("authenticated", Payload([b"1"]), {})
    assert ("AuthenticatedUsers", "READ") in grants(s3_client, s3_bucket, "authenticated")


def test_wrong_credentials_fail_at_once_with_a_clear_error(s3_bucket, moto_endpoint, cc_settings, s3_backend):
    from moto.core.authorization import enable_iam_authentication

    s3_backend.put("obj", Payload([b"1"]), {})
    wrong = S3Backend(None, settings=cc_settings, access_key="AKIAWRONGWRONGWRONG1", secret_key="nope",
                      endpoint_url=moto_endpoint)
    with enable_iam_authentication():
        wrong.bucket = s3_bucket
        started = time.monotonic()
        with pytest.raises(S3AccessError, match=f"rejected the credentials for s3://{s3_bucket}/obj"):
            wrong.get("obj")
        with pytest.raises(S3AccessError, match="InvalidAccessKeyId"):
            wrong.put("obj", Payload([b"2"]), {})
        assert time.monotonic() - started < 2
    assert s3_backend.get("obj") == b"1"


def test_unreachable_endpoint_fails_in_bounded_time(cc_settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    started = time.monotonic()
    with pytest.raises(TransferError, match=r"failed after 3 attempts.*check endpoint_url"):
        S3Backend("some-bucket", settings=cc_settings, access_key="a", secret_key="b",
                  endpoint_url=f"http://127.0.0.1:{port}", max_attempts=3, retry_base_delay=0.05)
    assert time.monotonic() - started < 5


def test_no_bucket_selected(s3_options, cc_settings):
    backend = S3Backend(None, settings=cc_settings, **s3_options)
    assert backend.describe() == "s3 (no bucket)"
    with pytest.raises(Exception, match="No bucket selected"):
        backend.put("x", Payload([b"1"]), {})


def test_download_threshold_auto_means_one_get_on_loopback(cc_settings):
    from cc_backend_s3.settings import NO_RANGES, TransferSettings, is_loopback

    assert is_loopback("http://127.0.0.1:9000") and is_loopback("http://localhost:9000") and is_loopback("http://[::1]:9")
    assert not is_loopback("https://s3.amazonaws.com") and not is_loopback(None) and not is_loopback("http://10.0.0.5")
    assert cc_settings.get("s3", "download_threshold") == "auto"
    remote = TransferSettings.from_settings(cc_settings)
    assert remote.download_threshold == 32 << 20 and remote.download_part_size == 16 << 20
    assert TransferSettings.from_settings(cc_settings, loopback=True).download_threshold == NO_RANGES
    cc_settings.set("s3", "download_threshold", "8")
    assert TransferSettings.from_settings(cc_settings, loopback=True).download_threshold == 8 << 20
    explicit = TransferSettings.from_settings(cc_settings, loopback=True, download_threshold=1 << 20)
    assert explicit.download_threshold == 1 << 20


def test_upload_threshold_auto_means_one_put_on_loopback(cc_settings):
    from cc_backend_s3.settings import S3_MAX_PUT, TransferSettings

    assert cc_settings.get("s3", "multipart_threshold") == "auto"
    assert TransferSettings.from_settings(cc_settings).multipart_threshold == 64 << 20
    assert TransferSettings.from_settings(None).multipart_threshold == 64 << 20
    assert TransferSettings.from_settings(None, loopback=True).multipart_threshold == S3_MAX_PUT
    cc_settings.set("upload_settings", "max_put_size", "1000")
    assert TransferSettings.from_settings(cc_settings, loopback=True).multipart_threshold == 1000 << 20
    cc_settings.set("s3", "multipart_threshold", "16")
    assert TransferSettings.from_settings(cc_settings, loopback=True).multipart_threshold == 16 << 20


def test_thresholds_keep_0_4_keys_parseable_and_read_them_from_a_0_4_file(cc_config_dir):
    """The file this version writes keeps integers under the keys cottoncandy 0.4 reads and says
    ``auto`` under [s3]; a file 0.4 wrote (no [s3] thresholds) keeps its thresholds here too."""
    from cc_core.config import CONFIG_FILE_NAME, load_config

    ours = load_config()
    for section, key in (("upload_settings", "mpu_use_threshold"), ("download_settings", "mpd_use_threshold")):
        int(ours.get(section, key))  # 0.4: int(config.get(...)) at import
    assert TransferSettings.from_settings(ours).multipart_threshold == 64 * MB  # auto, remote
    assert TransferSettings.from_settings(ours).download_threshold == 32 * MB

    (cc_config_dir / CONFIG_FILE_NAME).write_text(
        "[upload_settings]\nmpu_use_threshold = 200\n[download_settings]\nmpd_use_threshold = 100\n"
        "[gdrive]\nsecrets = client_secrets.json\ncredentials = credentials.txt\n")
    from_04 = TransferSettings.from_settings(load_config())
    assert from_04.multipart_threshold == 200 * MB and from_04.download_threshold == 100 * MB


def test_a_large_upload_to_a_loopback_endpoint_is_one_put(s3_interface):
    import numpy as np

    calls = []
    client = s3_interface.backend.client
    client.meta.events.register("before-call.s3.*", lambda model, **_: calls.append(model.name))
    array = np.arange(70 << 17, dtype=np.float64)  # 70 MiB: above the remote threshold of 64
    s3_interface.upload_raw_array("big", array)
    assert [c for c in calls if "Multipart" in c or c in ("PutObject", "UploadPart")] == ["PutObject"]
    np.testing.assert_array_equal(s3_interface.download_raw_array("big"), array)


def test_an_endpoint_from_the_config_file_counts_as_loopback(cc_settings, moto_endpoint, s3_bucket):
    from cc_backend_s3.settings import NO_RANGES

    cc_settings.set("login", "endpoint_url", moto_endpoint)
    cci = cc.get_interface(s3_bucket, ACCESS_KEY, SECRET_KEY, backend="s3", verbose=False, settings=cc_settings)
    assert cci.backend_interface.url == moto_endpoint
    assert cci.backend.transfer.download_threshold == NO_RANGES
