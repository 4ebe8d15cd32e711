"""The built-in backends and transforms pass the conformance kit that plugin authors use."""

import uuid

import pytest

from cc_core.builtin.compression import Bz2Transform, GzipTransform, LzmaTransform, ZlibTransform
from cc_core.builtin.local import LocalBackend
from cc_core.builtin.memory import MemoryBackend
from cc_core.testing import BackendConformance, TransformConformance


class TestLocalBackend(BackendConformance):
    @pytest.fixture
    def backend(self, tmp_path, cc_settings):
        return LocalBackend(str(tmp_path), settings=cc_settings)


class TestMemoryBackend(BackendConformance):
    @pytest.fixture
    def backend(self, cc_settings):
        return MemoryBackend(f"b-{uuid.uuid4().hex}", settings=cc_settings, force_bucket_creation=True)


@pytest.mark.parametrize("cls", [GzipTransform, ZlibTransform, Bz2Transform, LzmaTransform])
class TestStdlibCompression(TransformConformance):
    @pytest.fixture
    def transform(self, cls):
        return cls()
