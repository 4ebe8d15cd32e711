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
