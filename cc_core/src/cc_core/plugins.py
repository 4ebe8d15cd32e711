"""Discovering plugins through entry points and collecting what they register.

Every plugin, the core's own built-ins included, is a module named by an entry point in the
``cottoncandy`` group. Each is loaded inside its own ``try``: a plugin that fails to import or to
register is recorded with its error, reported once as a warning and in ``cottoncandy plugins``, and
the others keep working.

Which plugins load is switchable, as in tox and llm: ``CC_DISABLE_PLUGINS=a,b`` (or ``[plugins]
disable``) skips those entry points; ``CC_LOAD_PLUGINS=a,b`` (or ``[plugins] load``) loads only
those. The core's own entry point, ``core``, loads unless it is disabled by name.

Two plugins that register one name (of one kind) are a conflict, never a silent replacement:
``[plugins] prefer = NAME=PLUGIN`` (or ``CC_PLUGINS_PREFER``) chooses; see :mod:`cc_core.registry`.
"""

from __future__ import annotations

import difflib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from types import ModuleType
from typing import Any

import pluggy

from . import hookspecs
from .caller import warn
from .config_check import ConfigProblem, SettingSpec, SettingSpecs, describe, find_problems
from .errors import ConfigError
from .registry import KINDS, Registration, Registry, parse_preferences

ENTRY_POINT_GROUP = "cottoncandy"
CORE_PLUGIN = "core"
#: The keywords each kind's ``register`` callback takes (see the Register* protocols in hookspecs).
_REGISTER_OPTIONS = {
    "backend": ("schemes", "description", "install"),
    "codec": ("description", "install"),
    "transform": ("aliases", "description", "install"),
}
_REGISTRATION_HOOKS = {
    "backend": "cc_register_backends",
    "codec": "cc_register_codecs",
    "transform": "cc_register_transforms",
}


@dataclass
class PluginRecord:
    """What ``cottoncandy plugins`` shows about one plugin."""

    name: str
    module: str
    distribution: str = ""
    version: str = ""
    status: str = "ok"  # "ok", "failed" or "disabled"
    error: str = ""
    provides: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # names another plugin registers too


def _name_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


class PluginManager:
    """The pluggy manager, the plugin records and the registry of components.

    Parameters
    ----------
    disable, load : list of str, optional
        Entry-point names to skip / to load exclusively. Default: the environment variables
        ``CC_DISABLE_PLUGINS`` / ``CC_LOAD_PLUGINS``, else the ``[plugins]`` config section.
    """

    def __init__(self, *, disable: list[str] | None = None, load: list[str] | None = None) -> None:
        self.hooks = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.hooks.add_hookspecs(hookspecs)
        self.registry = Registry()
        self.setting_specs = SettingSpecs()
        self.records: dict[str, PluginRecord] = {}
        self._disable = disable
        self._load = load
        self._lock = threading.RLock()

    # -- discovery -------------------------------------------------------------------------------
    def load_entry_points(self, plugin_settings: dict[str, str] | None = None) -> None:
        """Load and register every allowed entry point of the ``cottoncandy`` group."""
        settings = plugin_settings or {}
        try:
            self.registry.preferences = parse_preferences(os.environ.get("CC_PLUGINS_PREFER", settings.get("prefer")))
        except ConfigError as exc:  # reported, but listing and using plugins keeps working
            warn(f"cottoncandy config: {exc}; it is ignored", UserWarning)
        disable = self._disable
        if disable is None:
            disable = _name_list(os.environ.get("CC_DISABLE_PLUGINS", settings.get("disable", ""))) or []
        load = self._load
        if load is None:
            load = _name_list(os.environ.get("CC_LOAD_PLUGINS", settings.get("load") or None))
        for entry_point in sorted(importlib_metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            record = PluginRecord(
                name=entry_point.name,
                module=entry_point.value,
                distribution=entry_point.dist.name if entry_point.dist else "",
                version=entry_point.dist.version if entry_point.dist else "",
            )
            self.records[record.name] = record
            allowed = record.name == CORE_PLUGIN or load is None or record.name in load
            if record.name in disable or not allowed:
                record.status = "disabled"
                continue
            try:
                module = entry_point.load()
            except Exception as exc:  # a broken plugin must not break the others
                self._fail(record, exc)
                continue
            self.register(module, name=record.name, record=record)

    def register(self, plugin: ModuleType | object, *, name: str, record: PluginRecord | None = None) -> None:
        """Register a plugin object and collect what it registers (also used for test plugins)."""
        with self._lock:
            record = record or PluginRecord(name=name, module=getattr(plugin, "__name__", repr(plugin)))
            self.records[name] = record
            try:
                self.hooks.register(plugin, name=name)
                for kind, hook_name in _REGISTRATION_HOOKS.items():
                    for implementation in getattr(self.hooks.hook, hook_name).get_hookimpls():
                        if implementation.plugin_name == name:
                            implementation.function(register=self._register_callback(kind, record))
                for implementation in self.hooks.hook.cc_register_settings.get_hookimpls():
                    if implementation.plugin_name == name:
                        implementation.function(register=self._setting_callback(record))
            except Exception as exc:
                self.registry.remove_plugin(name)
                if self.hooks.is_registered(plugin):
                    self.hooks.unregister(plugin)
                self._fail(record, exc)

    def unregister(self, name: str) -> None:
        """Remove a plugin and everything it registered."""
        with self._lock:
            plugin = self.hooks.get_plugin(name)
            if plugin is not None:
                self.hooks.unregister(plugin)
            self.registry.remove_plugin(name)
            self.registry.failed_plugins.pop(name, None)
            self.records.pop(name, None)

    def _register_callback(self, kind: str, record: PluginRecord) -> Callable[..., None]:
        allowed = _REGISTER_OPTIONS[kind]

        def register(name: str, target: Any, **options: Any) -> None:
            unknown = sorted(set(options) - set(allowed))
            if unknown:
                hints = [difflib.get_close_matches(option, allowed, n=1) for option in unknown]
                suggestion = "".join(f"; did you mean {hint[0]}=?" for hint in hints if hint)
                raise TypeError(
                    f"Plugin {record.name!r} ({record.distribution or record.module}) registered {kind} {name!r} "
                    f"with unknown option(s) {', '.join(o + '=' for o in unknown)}{suggestion} The {kind} "
                    f"register() takes {', '.join(o + '=' for o in allowed)}"
                )
            if not isinstance(target, (str, type)):
                raise TypeError(
                    f"Plugin {record.name!r} registered {kind} {name!r} as an instance ({target!r}); register "
                    "the class or a 'module:Class' string"
                )
            class_aliases = () if isinstance(target, str) else tuple(getattr(target, "aliases", ()))
            self.registry.add(
                Registration(
                    kind=kind,
                    name=name.lower(),
                    target=target,
                    plugin=record.name,
                    description=options.get("description", ""),
                    install=options.get("install", ""),
                    schemes=tuple(s.lower() for s in options.get("schemes", ())),
                    aliases=tuple(options.get("aliases", ())) + class_aliases,
                    distribution=record.distribution,
                )
            )
            record.provides.append(f"{kind}:{name.lower()}")

        return register

    def _setting_callback(self, record: PluginRecord) -> Callable[..., None]:
        def register(section: str, key: str, kind: str = "text", **checks: Any) -> None:
            self.setting_specs.add(SettingSpec(section, key, kind, plugin=record.name, **checks))

        return register

    def config_problems(self, config: Any) -> list[ConfigProblem]:
        """What is wrong in ``config`` for the installed plugins (see :mod:`cc_core.config_check`)."""
        return find_problems(config, self.setting_specs)

    def check_config(self, config: Any) -> None:
        """Raise :class:`ConfigError` for values that cannot work; warn once about unknown names."""
        problems = self.config_problems(config)
        errors = [problem for problem in problems if problem.is_error]
        if errors:
            raise ConfigError(f"{describe(errors)}. `cottoncandy config` shows every setting")
        for problem in problems:
            if str(problem) not in _reported:
                _reported.add(str(problem))
                warn(f"cottoncandy config: {problem}; it is ignored", UserWarning)

    def _fail(self, record: PluginRecord, exc: BaseException) -> None:
        record.status = "failed"
        record.error = f"{type(exc).__name__}: {exc}"
        self.registry.failed_plugins[record.name] = record.error
        warn(
            f"cottoncandy plugin {record.name!r} ({record.distribution or record.module}) failed "
            f"to load and is skipped: {record.error}. Run 'cottoncandy plugins' for the list.",
            RuntimeWarning,
        )

    # -- questions -------------------------------------------------------------------------------
    def backend_for_url(self, url: str) -> str | None:
        """The name of the backend serving ``url`` (by registered scheme or by hook)."""
        answer: str | None = self.hooks.hook.cc_backend_for_url(url=url)
        if answer:
            return answer
        scheme, separator, _ = url.partition("://")
        return self.registry.backend_for_scheme(scheme) if separator else None

    def configure(self, config: Any) -> None:
        """Hand ``config`` to every plugin's ``cc_configure`` (historic: late plugins get it too)."""
        self.hooks.hook.cc_configure.call_historic(kwargs={"config": config})


_manager: PluginManager | None = None
_manager_lock = threading.Lock()
_reported: set[str] = set()  # config problems already warned about in this process


def get_plugin_manager() -> PluginManager:
    """The process-wide plugin manager, loading entry points on first use."""
    global _manager
    with _manager_lock:
        if _manager is None:
            from .config import default_config, load_config

            try:
                config = load_config()
            except ConfigError:  # a broken file is reported when an interface or a command reads it
                config = default_config()
            manager = PluginManager()
            manager.load_entry_points(config.section("plugins"))
            manager.configure(config)
            _manager = manager
        return _manager


def reset_plugin_manager() -> None:
    """Forget the loaded plugins; the next :func:`get_plugin_manager` discovers them again."""
    global _manager
    with _manager_lock:
        _manager = None


__all__ = ["KINDS", "PluginManager", "PluginRecord", "get_plugin_manager", "reset_plugin_manager"]
