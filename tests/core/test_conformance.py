"""The built-in backends and transforms pass the conformance kit that plugin authors use."""

import json
import uuid
from pathlib import Path

import pytest

from cc_core.builtin import memory
from cc_core.builtin.compression import Bz2Transform, GzipTransform, LzmaTransform, ZlibTransform
from cc_core.builtin.local import META_SUFFIX, VERSION_KEY, LocalBackend
from cc_core.builtin.memory import MemoryBackend
from cc_core.testing import BackendConformance, TransformConformance


class TestLocalBackend(BackendConformance):
    @pytest.fixture
    def backend(self, tmp_path, cc_settings):
        return LocalBackend(str(tmp_path / "store"), settings=cc_settings)

    def set_object(self, backend, name, data, metadata):
        path = Path(backend.bucket, *name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.with_name(path.name + META_SUFFIX).write_text(json.dumps(metadata))

    def get_object(self, backend, name):
        path = Path(backend.bucket, *name.split("/"))
        metadata = json.loads(path.with_name(path.name + META_SUFFIX).read_text())
        metadata.pop(VERSION_KEY, None)
        return path.read_bytes(), metadata


class TestMemoryBackend(BackendConformance):
    @pytest.fixture
    def backend(self, cc_settings):
        return MemoryBackend(f"b-{uuid.uuid4().hex}", settings=cc_settings, force_bucket_creation=True)

    def set_object(self, backend, name, data, metadata):
        memory._buckets[backend.bucket][name] = (bytes(data), dict(metadata), None)

    def get_object(self, backend, name):
        data, metadata, _ = memory._buckets[backend.bucket][name]
        return data, metadata


@pytest.mark.parametrize("cls", [GzipTransform, ZlibTransform, Bz2Transform, LzmaTransform])
class TestStdlibCompression(TransformConformance):
    @pytest.fixture
    def transform(self, cls):
        return cls()
