"""What code written for cottoncandy 0.4 reaches besides the data methods: ``cci.backend_interface``
and the backend classes under their 0.4 module paths, ``cci.wait_time``, ``get_interface``'s 0.4
parameter names, the shared ``options.cfg``, and what upload methods return (issue #17)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import cottoncandy as cc

try:  # the moto server of tests/s3 (absent when only the core is installed)
    from s3.conftest import ACCESS_KEY, SECRET_KEY, moto_endpoint, s3_bucket, s3_client  # noqa: F401
except ImportError:
    ACCESS_KEY = SECRET_KEY = None


@pytest.fixture
def local_cci(tmp_path, cc_settings):
    return cc.get_interface(str(tmp_path / "store"), backend="local", verbose=False,
                            force_bucket_creation=True, settings=cc_settings)


@pytest.fixture
def s3_cci(request, cc_settings):
    pytest.importorskip("cc_backend_s3")
    pytest.importorskip("moto")
    bucket, endpoint = request.getfixturevalue("s3_bucket"), request.getfixturevalue("moto_endpoint")
    return cc.get_interface(bucket, ACCESS_KEY, SECRET_KEY, endpoint_url=endpoint, backend="s3", verbose=False,
                            settings=cc_settings)


# -- cci.backend_interface and cottoncandy.localclient / s3client / gdriveclient ------------------
def test_backend_interface_is_the_backend_and_a_04_local_client(local_cci, tmp_path):
    from cottoncandy.localclient import LocalClient

    assert local_cci.backend_interface is local_cci.backend
    assert isinstance(local_cci.backend_interface, LocalClient)
    # 0.4 code builds paths from it: Path(cci.backend_interface.path) / object_name
    local_cci.upload_object("a/b", b"12")
    assert (Path(local_cci.backend_interface.path) / "a" / "b").read_bytes() == b"12"
    assert local_cci.backend_interface.path == str((tmp_path / "store").resolve())


def test_backend_interface_of_s3_has_04_bucket_name_and_url(s3_cci, s3_bucket, moto_endpoint):
    from cottoncandy.localclient import LocalClient
    from cottoncandy.s3client import S3Client

    client = s3_cci.backend_interface
    assert isinstance(client, S3Client) and not isinstance(client, LocalClient)
    assert client.bucket_name == s3_bucket
    assert client.url == moto_endpoint


def test_gdriveclient_is_the_drive_backend():
    from cc_backend_gdrive.backend import GDriveBackend
    from cottoncandy.gdriveclient import GDriveClient

    assert GDriveClient is GDriveBackend


def test_04_client_modules_import_their_plugin_only_when_imported():
    code = ("import sys, cottoncandy, cottoncandy.localclient; "
            "print(sorted(m for m in ('boto3', 'cc_backend_s3.backend', 'cc_backend_gdrive.backend') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("module, plugin, extra", [
    ("cottoncandy.s3client", "cc_backend_s3.backend", "s3"),
    ("cottoncandy.gdriveclient", "cc_backend_gdrive.backend", "gdrive"),
])
def test_04_client_module_without_its_plugin_says_what_to_install(monkeypatch, module, plugin, extra):
    monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.setitem(sys.modules, plugin, None)  # as if the plugin were not installed
    with pytest.raises(ImportError, match=rf"pip install 'cottoncandy\[{extra}\]'"):
        __import__(module)


# -- cci.wait_time ---------------------------------------------------------------------------------
def test_wait_time_is_there_and_settable(local_cci):
    # 0.4's test suites sleep(cci.wait_time) after writes; nothing here needs to wait
    assert local_cci.wait_time == 0
    local_cci.wait_time = 0.5
    assert local_cci.wait_time == 0.5


# -- get_interface / DefaultInterface parameter names of 0.4 ---------------------------------------
def test_get_interface_takes_url_as_the_endpoint(s3_bucket, moto_endpoint, cc_settings):
    pytest.importorskip("cc_backend_s3")
    cci = cc.get_interface(s3_bucket, ACCESS_KEY, SECRET_KEY, url=moto_endpoint, backend="s3", verbose=False,
                           settings=cc_settings)
    assert cci.backend_interface.url == moto_endpoint
    cci.upload_object("x", b"1")
    assert cci.download_object("x") == b"1"


def test_every_04_parameter_name_of_get_interface_and_defaultinterface(s3_bucket, moto_endpoint, cc_settings):
    pytest.importorskip("cc_backend_s3")
    from botocore.client import Config as BotoConfig

    by_keyword = cc.get_interface(bucket_name=s3_bucket, ACCESS_KEY=ACCESS_KEY, SECRET_KEY=SECRET_KEY,
                                  endpoint_url=moto_endpoint, force_bucket_creation=False, verbose=False,
                                  backend="s3", config=BotoConfig(read_timeout=30), settings=cc_settings)
    by_position = cc.get_interface(s3_bucket, ACCESS_KEY, SECRET_KEY, moto_endpoint, False, False, "s3",
                                   settings=cc_settings)
    # 0.4's DefaultInterface(bucket_name, ACCESS_KEY, SECRET_KEY, url=None, force_bucket_creation, verbose, backend)
    direct = cc.DefaultInterface(bucket_name=s3_bucket, ACCESS_KEY=ACCESS_KEY, SECRET_KEY=SECRET_KEY,
                                 url=moto_endpoint, force_bucket_creation=False, verbose=False, backend="s3",
                                 settings=cc_settings)
    # get_interface's name for the endpoint, given to the class
    direct_endpoint = cc.DefaultInterface(s3_bucket, ACCESS_KEY, SECRET_KEY, endpoint_url=moto_endpoint,
                                          verbose=False, backend="s3", settings=cc_settings)
    for cci in (by_keyword, by_position, direct, direct_endpoint):
        assert cci.backend_interface.url == moto_endpoint and cci.bucket_name == s3_bucket
    assert by_keyword.backend.client.meta.config.read_timeout == 30


@pytest.mark.parametrize("call", [
    lambda: cc.get_interface("b", url="http://127.0.0.1:1", endpoint_url="http://127.0.0.1:2", backend="s3"),
    lambda: cc.DefaultInterface("b", url="http://127.0.0.1:1", endpoint_url="http://127.0.0.1:2", backend="s3"),
    lambda: cc.get_interface("b", "AK", access_key="OTHER", backend="s3"),
])
def test_two_names_for_one_parameter_with_different_values_fail_at_once(call):
    with pytest.raises(TypeError, match="same"):
        call()


# -- a config folder shared with cottoncandy 0.4 ---------------------------------------------------
#: cottoncandy 0.4.0's packaged defaults.cfg, verbatim: 0.4 reads it first, then the user's file.
CC04_DEFAULTS = """\
[login]
access_key = False
secret_key = False
endpoint_url = https://s3.amazonaws.com/
verbose_boto = False

[basic]
# default ACL (permissions) for objects and buckets
default_acl = authenticated-read
default_bucket =
mandatory_bucket_prefix =
force_bucket_creation = False
path_separator = /
signature_version =
threads = 4

[upload_settings]
# in MB, except max_mpu_size_TB, and max_mpu_parts
mpu_use_threshold = 200
mpu_chunksize = 100
dask_chunksize = 100
min_mpu_size = 5
max_put_size = 5000
max_mpu_size_TB = 5
max_mpu_parts = 10000

[download_settings]
# in MB
mpd_use_threshold = 100
mpd_chunksize = 100

[extensions]
ccgroup = grp, ccg
ccdataset = arr, dar, rarr, ccd

[gdrive]
secrets = client_secrets.json
credentials = credentials.txt

[compression]
do_compression = True
# < 2 GB arrays
small_array = gzip
# >= 2 GB arrays
large_array = Zstd
"""
S3_CANNED_ACLS = {"private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read",
                  "bucket-owner-read", "bucket-owner-full-control"}


def _string2bool_04(text):
    """cottoncandy 0.4's utils.string2bool."""
    if text in ["True", "true", "tru", "t", "y", "yes", "1"]:
        return True
    return None if text == "None" else False


def read_config_as_04(path):
    """Every read of the config that ``import cottoncandy`` 0.4.0 (and get_interface) makes, done the
    same way (options.py, __init__.py, utils.py, interfaces.py), into the values 0.4 then uses."""
    import configparser

    config = configparser.ConfigParser()  # with 0.4's default interpolation: a stray % fails
    config.read_string(CC04_DEFAULTS)
    assert config.read(path) == [str(path)]
    # options.py: without a [gdrive] section 0.4 rewrites the user's file (and drops its comments)
    assert config.has_option("gdrive", "secrets") and config.has_option("gdrive", "credentials")
    MB = 2 ** 20
    return {
        "access_key": config.get("login", "access_key"),
        "secret_key": config.get("login", "secret_key"),
        "endpoint_url": config.get("login", "endpoint_url"),
        "verbose_boto": config.get("login", "verbose_boto"),
        "signature_version": config.get("basic", "signature_version"),
        "default_bucket": config.get("basic", "default_bucket"),
        "force_bucket_creation": _string2bool_04(config.get("basic", "force_bucket_creation")),
        "min_mpu_size": int(config.get("upload_settings", "min_mpu_size")) * MB,
        "max_put_size": int(config.get("upload_settings", "max_put_size")) * MB,
        "max_mpu_size": int(config.get("upload_settings", "max_mpu_size_TB")) * MB * MB,
        "max_mpu_parts": int(config.get("upload_settings", "max_mpu_parts")),
        "mpu_threshold": int(config.get("upload_settings", "mpu_use_threshold")) * MB,
        "mpu_chunksize": int(config.get("upload_settings", "mpu_chunksize")) * MB,
        "dask_chunksize": int(config.get("upload_settings", "dask_chunksize")) * MB,
        "separator": config.get("basic", "path_separator"),
        "default_acl": config.get("basic", "default_acl"),
        "mandatory_bucket_prefix": config.get("basic", "mandatory_bucket_prefix"),
        "threads": int(config.get("basic", "threads")),
        "do_compression": config.get("compression", "do_compression").lower() in ("true", "t", "y", "yes"),
        "small_array": config.get("compression", "small_array"),
        "large_array": config.get("compression", "large_array"),
        "gdrive_secrets": config.get("gdrive", "secrets"),
        "gdrive_credentials": config.get("gdrive", "credentials"),
    }


def test_the_config_file_we_write_is_read_by_04_with_04_meanings(cc_config_dir):
    from urllib.parse import urlsplit

    from cc_core.config import CONFIG_FILE_NAME, load_config

    load_config()  # creates options.cfg, as the first use of this version does
    values = read_config_as_04(cc_config_dir / CONFIG_FILE_NAME)
    # no keys configured: 0.4 then looks in ~/.passwd-s3fs and the environment ("False" is its
    # placeholder; an empty key would be sent to S3 as it is)
    assert values["access_key"] == "False" and values["secret_key"] == "False"
    # 0.4 hands the endpoint to boto3, which refuses an empty one ("Invalid endpoint: ")
    assert urlsplit(values["endpoint_url"]).scheme in ("http", "https") and urlsplit(values["endpoint_url"]).hostname
    assert values["default_acl"] in S3_CANNED_ACLS and values["separator"] == "/"
    assert values["force_bucket_creation"] is False and values["threads"] >= 1
    assert 5 * 2**20 <= values["min_mpu_size"] <= values["mpu_chunksize"] <= values["max_put_size"]
    assert values["mpu_threshold"] > 0 and values["max_mpu_parts"] > 0 and values["dask_chunksize"] > 0
    for codec in (values["small_array"], values["large_array"]):
        assert codec == "gzip" or codec.lower() in ("zstd", "lz4", "zlib", "bz2", "blosc")


def test_our_settings_from_the_shared_file_keep_their_meaning(cc_settings):
    from cc_core.api import _setting

    assert _setting(cc_settings, "login", "access_key") is None
    assert _setting(cc_settings, "login", "secret_key") is None


def test_the_s3_endpoint_setting_reaches_only_the_s3_backend(cc_settings):
    cc_settings.set("login", "endpoint_url", "https://minio.example.org:9000")
    cci = cc.get_interface("shared-endpoint-test", backend="memory", force_bucket_creation=True, verbose=False,
                           settings=cc_settings)
    assert cci._backend_options.get("endpoint_url") is None  # a Drive backend would take it for a Drive server


def test_04s_default_endpoint_means_aws_chosen_by_boto3(cc_settings):
    pytest.importorskip("cc_backend_s3")
    from cc_backend_s3.backend import S3Backend

    assert cc_settings.get("login", "endpoint_url") == "https://s3.amazonaws.com/"
    backend = S3Backend(None, settings=cc_settings, access_key="AK", secret_key="SK", region_name="eu-west-1")
    # not a custom endpoint: boto3's regional AWS endpoint, virtual-hosted addressing
    assert backend.client.meta.endpoint_url == "https://s3.eu-west-1.amazonaws.com"
    assert (backend.client.meta.config.s3 or {}).get("addressing_style") != "path"


# -- upload methods return what they stored ---------------------------------------------------------
@pytest.fixture(params=["local", "memory", "s3"])
def any_cci(request, tmp_path, cc_settings):
    if request.param == "s3":
        return request.getfixturevalue("s3_cci")
    bucket = str(tmp_path / "store") if request.param == "local" else f"returns-{tmp_path.name}"
    return cc.get_interface(bucket, backend=request.param, force_bucket_creation=True, verbose=False,
                            settings=cc_settings)


def _uploads(cci, tmp_path):
    import numpy as np

    file = tmp_path / "upload.bin"
    file.write_bytes(b"file content" * 100)
    array = np.arange(12.0).reshape(3, 4)
    return {
        "put_value": lambda: cci.put_value("r/value", array, "raw", metadata={"subject": "s01"}),
        "upload_raw_array": lambda: cci.upload_raw_array("r/raw", array, compression="gzip", subject="s01"),
        "upload_npy_array": lambda: cci.upload_npy_array("r/npy", array),
        "upload_object": lambda: cci.upload_object("r/object", b"bytes", note="n"),
        "upload_json": lambda: cci.upload_json("r/json", {"a": 1}),
        "upload_pickle": lambda: cci.upload_pickle("r/pickle", {"a": 1}),
        "upload_from_file": lambda: cci.upload_from_file(file, "r/file"),
    }


def test_upload_methods_return_the_objects_info(any_cci, tmp_path):
    from cc_core.backend import ObjectInfo

    for method, upload in _uploads(any_cci, tmp_path).items():
        stored = upload()
        assert isinstance(stored, ObjectInfo), method
        info = any_cci.get_object(stored.name)
        assert stored.name == info.name and stored.name.startswith("r/"), method
        assert (stored.size, dict(stored.metadata), stored.version) == (info.size, dict(info.metadata), info.version), method
    assert any_cci.upload_object("r/object", b"x").key == "r/object"  # boto3's name for it, as 0.4 code reads


def test_uploads_to_s3_ask_for_no_head(s3_cci, tmp_path):
    calls = []
    s3_cci.backend.client.meta.events.register("before-call.s3.*", lambda model, **_: calls.append(model.name))
    for upload in _uploads(s3_cci, tmp_path).values():
        upload()
    assert "HeadObject" not in calls and "PutObject" in calls


def test_uploads_to_the_local_backend_ask_for_no_head(local_cci, tmp_path, monkeypatch):
    def no_head(name):
        raise AssertionError(f"head({name!r}) after a put")

    monkeypatch.setattr(local_cci.backend, "head", no_head)
    for upload in _uploads(local_cci, tmp_path).values():
        upload()


def test_a_backend_whose_put_returns_nothing_is_headed(cc_settings, temporary_plugin):
    import types

    from cc_core import hookimpl
    from cc_core.builtin.memory import MemoryBackend

    class QuietBackend(MemoryBackend):
        def put(self, *args, **kwargs):
            super().put(*args, **kwargs)  # a third-party backend written to the old contract

    plugin = types.SimpleNamespace()

    @hookimpl
    def cc_register_backends(register):
        register("quiet-test", QuietBackend)

    plugin.cc_register_backends = cc_register_backends
    temporary_plugin(plugin, "quiet-test-plugin")
    cci = cc.get_interface("quiet", backend="quiet-test", force_bucket_creation=True, verbose=False,
                           settings=cc_settings)
    stored = cci.upload_object("q", b"12345")
    assert stored.size == 5 and stored == cci.get_object("q")
