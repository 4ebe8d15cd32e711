"""pytest fixtures for cottoncandy and its plugins: ``pytest_plugins = ["cc_core.testing.fixtures"]``.

- ``cc_config_dir``: a private, empty config directory for the test (never the user's).
- ``cc_settings``: the :class:`Config` loaded from it.
- ``temporary_plugin``: ``temporary_plugin(module_or_object, name)`` registers a plugin for the
  test and removes it and all it registered afterwards.
- ``local_interface`` / ``memory_interface`` / ``interface``: interfaces on a fresh local folder /
  memory bucket; ``interface`` is parametrized over both.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ..config import Config, load_config
from ..interface import CCInterface
from ..plugins import get_plugin_manager


@pytest.fixture
def cc_config_dir(tmp_path_factory, monkeypatch) -> Any:
    directory = tmp_path_factory.mktemp("cc-config")
    monkeypatch.setenv("CC_CONFIG_DIR", str(directory))
    return directory


@pytest.fixture
def cc_settings(cc_config_dir) -> Config:
    return load_config()


@pytest.fixture
def temporary_plugin() -> Iterator[Callable[[Any, str], None]]:
    manager = get_plugin_manager()
    added: list[str] = []

    def register(plugin: Any, name: str) -> None:
        manager.register(plugin, name=name)
        added.append(name)

    yield register
    for name in added:
        manager.unregister(name)


@pytest.fixture
def local_interface(tmp_path, cc_settings) -> CCInterface:
    return CCInterface(str(tmp_path / "store"), backend="local", force_bucket_creation=True, settings=cc_settings)


@pytest.fixture
def memory_interface(cc_settings) -> CCInterface:
    return CCInterface(f"test-{uuid.uuid4().hex}", backend="memory", force_bucket_creation=True, settings=cc_settings)


@pytest.fixture(params=["local", "memory"])
def interface(request, tmp_path, cc_settings) -> CCInterface:
    bucket = str(tmp_path / "store") if request.param == "local" else f"test-{uuid.uuid4().hex}"
    return CCInterface(bucket, backend=request.param, force_bucket_creation=True, settings=cc_settings)
