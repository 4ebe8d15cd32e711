"""The example plugin's own tests: each component passes its conformance class.

A plugin author copies this file. ``conftest.py`` of the test run loads the fixtures with
``pytest_plugins = ["cc_core.testing.fixtures"]``.
"""

import uuid

import numpy as np
import pytest
from cc_example_plugin import dict_backend
from cc_example_plugin.dict_backend import DictBackend
from cc_example_plugin.shuffle import ByteShuffle8

import cottoncandy as cc
from cc_core.testing import BackendConformance, CodecConformance, TransformConformance


class TestDictBackend(BackendConformance):
    large_size = 1024 * 1024 + 17
    many_objects = 150

    @pytest.fixture
    def backend(self, cc_settings):
        return DictBackend(f"bucket-{uuid.uuid4().hex}", settings=cc_settings)

    def set_object(self, backend, name, data, metadata):
        dict_backend.STORE.setdefault(backend.bucket, {})[name] = (bytes(data), dict(metadata), "set-around")

    def get_object(self, backend, name):
        data, metadata, _ = dict_backend.STORE[backend.bucket][name]
        return data, metadata


class TestTextCodec(CodecConformance):
    codec_name = "text"
    values = ["", "plain", "ünïcödé ✓ " * 1000]


class TestColumnsLayout(CodecConformance):
    codec_name = "columns"
    values = [{"x": np.arange(5), "y": np.linspace(0, 1, 5)}, {"only": np.array(["a", "b"])}]

    def assert_same(self, original, restored):
        assert list(restored) == list(original)
        for key in original:
            np.testing.assert_array_equal(restored[key], original[key])


class TestByteShuffle8(TransformConformance):
    detects_truncation = False

    @pytest.fixture
    def transform(self):
        return ByteShuffle8()


def test_every_component_through_one_interface(cc_settings):
    cci = cc.get_interface(f"dict://bucket-{uuid.uuid4().hex}", verbose=False, settings=cc_settings)
    assert cci.backend_name == "dict"
    cci.upload_raw_array("a", np.arange(64, dtype="f8"), compression="byteshuffle8")
    np.testing.assert_array_equal(cci.download_raw_array("a"), np.arange(64, dtype="f8"))
    cci.put_value("t", "hello", "text")
    assert cci.get_value("t", "text") == "hello"
    cci.put_value("table", {"x": np.arange(3)}, "columns")
    assert list(cci.get_value("table", "columns")) == ["x"]
    assert cci.ls("table") == ["table/columns.json", "table/x"]
