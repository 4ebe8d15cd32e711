"""Plugins are found through entry points, listed, switchable, and isolated from each other."""

import subprocess
import sys
import types

import numpy as np
import pytest

from cc_core import hookimpl
from cc_core.builtin.memory import MemoryBackend
from cc_core.errors import MissingDependencyError, UnknownComponentError
from cc_core.plugins import PluginManager, get_plugin_manager


def test_listing_shows_core_third_party_and_broken_plugins():
    records = get_plugin_manager().records
    assert records["core"].status == "ok"
    assert "backend:local" in records["core"].provides and "codec:raw" in records["core"].provides
    assert records["example"].status == "ok"
    assert records["example"].distribution == "cc-example-plugin"
    assert records["example"].provides == ["backend:dict", "codec:text", "codec:columns", "transform:byteshuffle8"]
    assert records["broken"].status == "failed"
    assert "cc_missing_dependency_for_tests" in records["broken"].error


def test_third_party_transform_is_used_by_name(interface):
    array = np.random.default_rng(1).standard_normal((50, 40))
    interface.upload_raw_array("shuffled", array, transforms="byteshuffle8,gzip")
    assert interface.get_object("shuffled").metadata["cc-transforms"] == "byteshuffle8,gzip"
    np.testing.assert_array_equal(interface.download_raw_array("shuffled"), array)


def test_unknown_name_lists_installed_and_failed(interface):
    with pytest.raises(UnknownComponentError) as caught:
        interface.upload_raw_array("x", np.arange(3), transforms="nosuch")
    message = str(caught.value)
    assert "Unknown transform 'nosuch'" in message and "gzip" in message and "byteshuffle8" in message
    assert "broken" in message
    assert not interface.exists_object("x")


def test_disable_and_load_environment_variables(monkeypatch):
    monkeypatch.setenv("CC_DISABLE_PLUGINS", "example")
    manager = PluginManager()
    with pytest.warns(RuntimeWarning, match="broken"):
        manager.load_entry_points()
    assert manager.records["example"].status == "disabled"
    with pytest.raises(UnknownComponentError):
        manager.registry.resolve("transform", "byteshuffle8")
    monkeypatch.delenv("CC_DISABLE_PLUGINS")
    monkeypatch.setenv("CC_LOAD_PLUGINS", "example")
    only = PluginManager()
    only.load_entry_points()  # broken is not loaded at all: no warning
    assert only.records["broken"].status == "disabled"
    assert only.records["core"].status == "ok" and only.records["example"].status == "ok"


def test_config_section_selects_plugins():
    manager = PluginManager()
    manager.load_entry_points({"disable": "example, broken"})
    assert manager.records["example"].status == "disabled"
    assert manager.records["broken"].status == "disabled"


class CountingBackend(MemoryBackend):
    """A backend defined by a test plugin: counts puts."""

    puts = 0

    def put(self, *args, **kwargs):
        type(self).puts += 1
        return super().put(*args, **kwargs)


def test_temporary_plugin_registers_a_backend(temporary_plugin, cc_settings):
    plugin = types.SimpleNamespace()

    @hookimpl
    def cc_register_backends(register):
        register("counting", CountingBackend, schemes=("count",))

    plugin.cc_register_backends = cc_register_backends
    temporary_plugin(plugin, "counting-test")
    from cc_core import CCInterface

    cci = CCInterface("count://bucket-a", force_bucket_creation=True, settings=cc_settings)
    assert cci.backend_name == "counting"
    cci.upload_raw_array("a", np.arange(5))
    assert CountingBackend.puts == 1
    np.testing.assert_array_equal(cci.download_raw_array("a"), np.arange(5))


def test_temporary_plugin_is_removed_afterwards():
    with pytest.raises(UnknownComponentError):
        get_plugin_manager().registry.resolve("backend", "counting")


def test_plugin_failing_in_its_hook_is_recorded(temporary_plugin):
    plugin = types.SimpleNamespace()

    @hookimpl
    def cc_register_codecs(register):
        raise RuntimeError("plugin bug")

    plugin.cc_register_codecs = cc_register_codecs
    with pytest.warns(RuntimeWarning, match="plugin bug"):
        temporary_plugin(plugin, "buggy")
    record = get_plugin_manager().records["buggy"]
    assert record.status == "failed" and "plugin bug" in record.error
    assert get_plugin_manager().registry.resolve("codec", "raw")


def test_missing_dependency_names_what_to_install(temporary_plugin):
    plugin = types.SimpleNamespace()

    @hookimpl
    def cc_register_backends(register):
        register("ftp-test", "cc_no_such_module.backend:FTP", install="pip install cc-ftp-test")

    plugin.cc_register_backends = cc_register_backends
    temporary_plugin(plugin, "ftp-test-plugin")
    with pytest.raises(MissingDependencyError, match=r"Backend 'ftp-test' needs cc_no_such_module: pip install cc-ftp-test"):
        get_plugin_manager().registry.resolve("backend", "ftp-test")


def test_listing_plugins_imports_no_heavy_dependency():
    script = (
        "import sys, warnings; warnings.simplefilter('ignore')\n"
        "from cc_core.cli import main\n"
        "main(['plugins'])\n"
        "heavy = [m for m in ('boto3', 'botocore', 'pydrive2', 'googleapiclient', 'dask', 'scipy', 'h5py', 'Crypto') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "core" in result.stdout and "failed" in result.stdout
