"""The plugin contract, version 1 (issue #14): what a plugin written to the documentation may rely on.

Each test here is a defect a plugin author met: a backend written to the base class's docstring
that get_interface could not open, a plugin silently replacing a built-in, a misspelt register()
keyword swallowed, a class renamed by the registry, a third-party layout codec out of reach.
"""

from __future__ import annotations

import subprocess
import sys
import types
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cottoncandy as cc
from cc_core import Backend, Capabilities, CCInterface, LayoutCodec, ObjectInfo, hookimpl
from cc_core.builtin.compression import GzipTransform
from cc_core.builtin.memory import MemoryBackend
from cc_core.byteranges import ByteRequest, OffsetByteRequest, RangeByteRequest, SuffixByteRequest, byte_bounds
from cc_core.errors import MetadataError, PluginConflictError
from cc_core.plugins import PluginManager, get_plugin_manager


def _plugin(**hooks: Any) -> types.SimpleNamespace:
    return types.SimpleNamespace(**{name: hookimpl(function) for name, function in hooks.items()})


class DocumentedBackend(Backend):
    """A backend written from Backend's docstring alone: no __init__, the abstract signatures."""

    def put(self, name, payload, metadata, *, progress=None, **options):
        STORE[name] = (payload.tobytes(), dict(metadata))

    def get_into(self, name, buffer, *, byte_range=None, version=None, progress=None, on_read=None):
        data = self._data(name)
        start, stop = byte_bounds(byte_range, len(data))
        part = data[start:stop][: len(buffer)]
        buffer[: len(part)] = part
        CALLS.append(byte_range)
        return len(part)

    def iter_chunks(self, name, *, byte_range=None, chunk_size=1 << 20, version=None, progress=None):
        start, stop = byte_bounds(byte_range, len(self._data(name)))
        yield self._data(name)[start:stop]

    def head(self, name):
        return ObjectInfo(name, len(self._data(name)), STORE[name][1])

    def list(self, prefix="", delimiter=None):
        return iter(ObjectInfo(n, len(d), m) for n, (d, m) in sorted(STORE.items()) if n.startswith(prefix))

    def copy(self, source, destination, *, source_bucket=None):
        STORE[destination] = STORE[source]

    def delete_many(self, names):
        for name in names:
            STORE.pop(name, None)

    def _data(self, name):
        from cc_core.errors import ObjectNotFoundError

        if name not in STORE:
            raise ObjectNotFoundError(name)
        return STORE[name][0]


STORE: dict[str, tuple[bytes, dict[str, str]]] = {}
CALLS: list[Any] = []


@pytest.fixture
def documented(temporary_plugin):
    STORE.clear()
    CALLS.clear()
    temporary_plugin(_plugin(cc_register_backends=lambda register: register("documented", DocumentedBackend)),
                     "documented-plugin")


def test_a_backend_without_init_opens_through_get_interface(documented, cc_settings):
    cci = cc.get_interface("bucket", backend="documented", verbose=False, settings=cc_settings)
    cci.upload_raw_array("a", np.arange(10), compression=False)
    np.testing.assert_array_equal(cci.download_raw_array("a"), np.arange(10))
    assert CALLS and all(isinstance(r, RangeByteRequest) for r in CALLS)
    assert cci.backend.endpoint_url is None and cci.backend.credentials.access_key is None


def test_the_options_every_backend_takes_are_kept_by_the_base_class(documented, cc_settings):
    cci = cc.get_interface("bucket", "AK", "SK", "https://example.org", True, verbose=False, backend="documented",
                           settings=cc_settings)
    assert cci.backend.endpoint_url == "https://example.org"
    assert (cci.backend.credentials.access_key, cci.backend.credentials.secret_key) == ("AK", "SK")
    assert cci.backend.force_bucket_creation is True
    assert "SK" not in repr(cci.backend.credentials)


def test_an_option_no_backend_takes_names_the_backend(documented, cc_settings):
    with pytest.raises(TypeError, match=r"DocumentedBackend backend does not take the option\(s\) colour="):
        cc.get_interface("bucket", backend="documented", verbose=False, settings=cc_settings, colour="red")


@pytest.mark.parametrize("request_, expected", [
    (None, (0, 10)), (RangeByteRequest(2, 5), (2, 5)), (RangeByteRequest(8, 20), (8, 10)),
    (OffsetByteRequest(7), (7, 10)), (OffsetByteRequest(12), (10, 10)), (SuffixByteRequest(3), (7, 10)),
    (SuffixByteRequest(30), (0, 10)),
])
def test_byte_bounds(request_: ByteRequest | None, expected):
    assert byte_bounds(request_, 10) == expected


def test_byte_requests_are_validated():
    with pytest.raises(ValueError):
        RangeByteRequest(5, 2)
    with pytest.raises(TypeError, match="RangeByteRequest"):
        byte_bounds((0, 5), 10)  # type: ignore[arg-type]


# -- registration ------------------------------------------------------------------------------
class ShadowGzip(GzipTransform):
    pass


def test_a_second_provider_of_a_name_is_a_conflict_not_a_replacement(temporary_plugin, interface):
    temporary_plugin(_plugin(cc_register_transforms=lambda register: register("gzip", ShadowGzip)), "shadow")
    with pytest.raises(PluginConflictError, match=r"'gzip' is registered by core \(cottoncandy-core\) and shadow"):
        interface.upload_raw_array("x", np.arange(3), compression="gzip")
    conflicts = get_plugin_manager().registry.conflicts()
    assert [(c.kind, c.name) for c in conflicts] == [("transform", "gzip")]


def test_config_prefer_settles_a_conflict(temporary_plugin, interface):
    temporary_plugin(_plugin(cc_register_transforms=lambda register: register("gzip", ShadowGzip)), "shadow")
    registry = get_plugin_manager().registry
    saved = dict(registry.preferences)
    try:
        registry.preferences = {(None, "gzip"): "shadow"}
        assert registry.resolve("transform", "gzip") is ShadowGzip
        registry.preferences = {("transform", "gzip"): "cottoncandy-core"}
        assert registry.resolve("transform", "gzip") is GzipTransform
    finally:
        registry.preferences = saved


def test_prefer_is_read_from_the_plugins_section(monkeypatch):
    monkeypatch.setenv("CC_PLUGINS_PREFER", "zstd=example, backend:local=core")
    manager = PluginManager()
    manager.load_entry_points({"disable": "broken"})
    assert manager.registry.preferences == {(None, "zstd"): "example", ("backend", "local"): "core"}


def test_a_malformed_prefer_is_a_warning_and_plugins_still_load(monkeypatch):
    monkeypatch.setenv("CC_PLUGINS_PREFER", "zstd")
    manager = PluginManager()
    with pytest.warns(UserWarning, match="prefer.*it is ignored"):
        manager.load_entry_points({"disable": "broken"})
    assert manager.registry.preferences == {}


def test_the_plugins_listing_shows_a_conflict(tmp_path):
    plugin = tmp_path / "cc_shadow_local.py"
    plugin.write_text("from cc_core import hookimpl\nfrom cc_core.builtin.memory import MemoryBackend\n"
                      "@hookimpl\ndef cc_register_backends(register):\n    register('local', MemoryBackend)\n")
    script = ("import sys; sys.path.insert(0, sys.argv[1]); import cc_shadow_local\n"
              "from cc_core.plugins import get_plugin_manager\n"
              "get_plugin_manager().register(cc_shadow_local, name='shadow-local')\n"
              "from cc_core.cli import main\nsys.exit(main(['plugins']))\n")
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", script, str(tmp_path)], capture_output=True,
                            text=True, check=True)
    output = " ".join(result.stdout.split())
    assert "conflict: backend 'local' is registered by core (cottoncandy-core) and shadow-local" in output
    assert "[plugins] prefer = local=core" in output and "ok (conflict)" in output


def test_register_refuses_an_unknown_keyword_naming_the_plugin(temporary_plugin):
    hook = lambda register: register("typo-backend", MemoryBackend, scheme=("typo",))  # noqa: E731
    with pytest.warns(RuntimeWarning, match=r"Plugin 'typo-plugin'.*unknown option\(s\) scheme=; did you mean schemes="):
        temporary_plugin(_plugin(cc_register_backends=hook), "typo-plugin")
    assert get_plugin_manager().records["typo-plugin"].status == "failed"


def test_resolving_never_renames_the_class(temporary_plugin, cc_settings):
    temporary_plugin(_plugin(cc_register_backends=lambda register: register("ram", MemoryBackend)), "ram-plugin")
    cci = CCInterface(f"ram-{uuid.uuid4().hex}", backend="ram", force_bucket_creation=True, settings=cc_settings)
    assert MemoryBackend.name == "" and cci.backend.name == "ram"
    fresh = CCInterface(f"mem-{uuid.uuid4().hex}", backend="memory", force_bucket_creation=True, settings=cc_settings)
    assert fresh.backend.name == "memory"


def test_a_transform_registered_under_another_name_writes_that_name(temporary_plugin, interface):
    temporary_plugin(_plugin(cc_register_transforms=lambda register: register("gzip-renamed", ShadowGzip)), "renamed")
    info = interface.upload_raw_array("r", np.arange(4), compression="gzip-renamed")
    assert info.metadata["cc-transforms"] == "gzip-renamed"
    assert ShadowGzip.name == "gzip"
    np.testing.assert_array_equal(interface.download_raw_array("r"), np.arange(4))


# -- layouts -------------------------------------------------------------------------------------
class PairLayout(LayoutCodec):
    """A third party's layout: a pair of arrays as NAME/first, NAME/second and NAME/pair.json."""

    def upload(self, store, name, value, **metadata):
        for part, array in zip(("first", "second"), value, strict=True):
            store.upload_raw_array(f"{name}/{part}", array, compression=False)
        store.upload_json(f"{name}/pair.json", {"parts": ["first", "second"]}, **metadata)
        return name

    def download(self, store, name, **options):
        parts = store.download_json(f"{name}/pair.json")["parts"]
        assert store.exists(f"{name}/first") and store.head(f"{name}/first").size > 0
        assert [e.name for e in store.list(f"{name}/")] == [f"{name}/first", f"{name}/pair.json", f"{name}/second"]
        return tuple(store.download_raw_array(f"{name}/{part}") for part in parts)


def test_a_third_party_layout_is_used_through_put_value(temporary_plugin, interface):
    temporary_plugin(_plugin(cc_register_codecs=lambda register: register("pair", PairLayout)), "pair-plugin")
    assert interface.put_value("p", (np.arange(3), np.ones(2)), "pair", metadata={"note": "x"}) == "p"
    first, second = interface.get_value("p", "pair")
    np.testing.assert_array_equal(first, np.arange(3))
    np.testing.assert_array_equal(second, np.ones(2))


def test_layouts_receive_the_narrow_store_not_the_interface(temporary_plugin, interface):
    seen = []

    class Spy(LayoutCodec):
        def upload(self, store, name, value, **options):
            seen.append(store)

        def download(self, store, name, **options):
            return None

    temporary_plugin(_plugin(cc_register_codecs=lambda register: register("spy", Spy)), "spy-plugin")
    interface.put_value("s", None, "spy")
    assert not isinstance(seen[0], CCInterface) and not hasattr(seen[0], "backend")


def test_the_codec_module_does_not_import_the_interface():
    """No circle codec -> interface -> pipeline -> codec: layouts know the LayoutStore protocol only."""
    import ast

    import cc_core.codec

    tree = ast.parse(Path(cc_core.codec.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported.isdisjoint({"interface", "pipeline", "cc_core.interface", "cc_core.pipeline"})


# -- capabilities --------------------------------------------------------------------------------
class LowercasingBackend(MemoryBackend):
    capabilities = Capabilities(buckets=True, server_side_copy=True, lowercase_metadata_keys=True)


def test_keys_differing_only_in_case_are_refused_where_keys_are_lowercased(temporary_plugin, cc_settings):
    temporary_plugin(_plugin(cc_register_backends=lambda register: register("lower", LowercasingBackend)), "lower-p")
    cci = CCInterface(f"l-{uuid.uuid4().hex}", backend="lower", force_bucket_creation=True, settings=cc_settings)
    assert cci.upload_raw_array("a", np.arange(2), Note="x").metadata["note"] == "x"
    with pytest.raises(MetadataError, match="differ only in case"):
        cci.upload_raw_array("b", np.arange(2), Note="x", note="y")


class NoServerCopyBackend(MemoryBackend):
    capabilities = Capabilities(buckets=True, server_side_copy=False)

    def copy(self, source, destination, *, source_bucket=None):
        raise AssertionError("copy() called on a backend without server_side_copy")


def test_copies_stream_where_the_store_cannot_copy(temporary_plugin, cc_settings):
    temporary_plugin(_plugin(cc_register_backends=lambda register: register("nocopy", NoServerCopyBackend)), "nc")
    cci = CCInterface(f"n-{uuid.uuid4().hex}", backend="nocopy", force_bucket_creation=True, settings=cc_settings)
    cci.upload_raw_array("a", np.arange(5))
    cci.cp("a", "b")
    np.testing.assert_array_equal(cci.download_raw_array("b"), np.arange(5))


class OneBucketBackend(MemoryBackend):
    capabilities = Capabilities(buckets=False, server_side_copy=True)


def test_a_backend_without_buckets_answers_about_its_own(temporary_plugin, cc_settings):
    temporary_plugin(_plugin(cc_register_backends=lambda register: register("onebucket", OneBucketBackend)), "ob")
    cci = CCInterface("only", backend="onebucket", force_bucket_creation=True, settings=cc_settings)
    assert cci.exists_bucket("only") and not cci.exists_bucket("other")
    assert cci.show_buckets() == ["only"]


def test_every_package_ships_py_typed():
    root = Path(__file__).parents[2]
    packages = [p.parent for p in root.glob("cc_*/src/*/__init__.py")] + [root / "src" / "cottoncandy"]
    assert len(packages) >= 6
    assert [p.name for p in packages if not (p / "py.typed").exists()] == []


def test_an_open_read_override_without_byte_range_is_refused_when_the_plugin_is_imported():
    from cc_core.backend import Backend

    with pytest.raises(TypeError, match=r"open_read must accept byte_range=None.*remove the override"):
        class OldOpenRead(Backend):  # the class statement itself raises
            def open_read(self, name, *, progress=None):
                raise AssertionError("never called")

    class KeywordsOpenRead(Backend):  # **options takes byte_range= too
        def open_read(self, name, **options):
            raise AssertionError("never called")

    assert "open_read" in KeywordsOpenRead.__dict__
