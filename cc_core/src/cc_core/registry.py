"""The components plugins registered, and how a name becomes a class.

Registrations keep import strings as they are until a user asks for the component, so listing
plugins never imports boto3 or pydrive2. Resolving reports a missing dependency with the command
that installs it, and an unknown name with the names that are installed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError, MissingDependencyError, PluginConflictError, UnknownComponentError

KINDS = ("backend", "codec", "transform")

# First-party components that ship in separate distributions: what to install when a user asks
# for one and its plugin is not installed at all (so nothing registered the name).
FIRST_PARTY_EXTRAS = {
    ("backend", "s3"): "pip install 'cottoncandy[s3]'",
    ("backend", "gdrive"): "pip install 'cottoncandy[gdrive]'",
    ("transform", "aes-gcm"): "pip install 'cottoncandy[crypto]'",
    ("transform", "zstd"): "pip install cottoncandy",
    ("transform", "lz4"): "pip install cottoncandy",
    ("transform", "blosc"): "pip install cottoncandy",
    ("codec", "npy"): "pip install cottoncandy",
    ("codec", "dask"): "pip install 'cottoncandy[dask]'",
    ("codec", "sparse"): "pip install 'cottoncandy[sparse]'",
    ("codec", "group"): "pip install cottoncandy",
    ("codec", "hdf5"): "pip install 'cottoncandy[hdf5]'",
}


@dataclass
class Registration:
    """One component a plugin registered."""

    kind: str
    name: str
    target: Any
    plugin: str
    description: str = ""
    install: str = ""
    schemes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    distribution: str = ""
    resolved: Any = field(default=None, repr=False)

    @property
    def provider(self) -> str:
        """The plugin as a user knows it: ``entry-point (distribution)``."""
        return f"{self.plugin} ({self.distribution})" if self.distribution else self.plugin


@dataclass(frozen=True)
class Conflict:
    """Two or more plugins registered one name of one kind; ``[plugins] prefer`` settles it."""

    kind: str
    name: str
    providers: tuple[Registration, ...]
    chosen: Registration | None = None

    def __str__(self) -> str:
        who = " and ".join(r.provider for r in self.providers)
        if self.chosen is not None:
            return f"{self.kind} {self.name!r} is registered by {who}; [plugins] prefer chooses {self.chosen.plugin}"
        return (f"{self.kind} {self.name!r} is registered by {who}; choose one in config: "
                f"[plugins] prefer = {self.name}={self.providers[0].plugin} (or uninstall one)")


def parse_preferences(value: str | None) -> dict[tuple[str | None, str], str]:
    """``"zstd=my_plugin, backend:local=other"`` -> ``{(None, "zstd"): "my_plugin", ("backend", "local"): "other"}``."""
    preferences: dict[tuple[str | None, str], str] = {}
    for item in (value or "").split(","):
        if not item.strip():
            continue
        name, separator, plugin = item.partition("=")
        kind, colon, bare = name.strip().partition(":")
        if not separator or not plugin.strip() or (colon and kind not in KINDS):
            raise ConfigError(f"[plugins] prefer: {item.strip()!r} is not NAME=PLUGIN or KIND:NAME=PLUGIN "
                              f"(KIND one of {', '.join(KINDS)})")
        key = (kind, bare.strip().lower()) if colon else (None, name.strip().lower())
        preferences[key] = plugin.strip()
    return preferences


class Registry:
    """Backends, codecs and transforms by kind and (case-insensitive) name.

    Every registration of a name is kept, so that a second plugin cannot silently shadow the first:
    a name with several providers resolves only when ``preferences`` (``[plugins] prefer``) names
    one of them.
    """

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, list[Registration]]] = {kind: {} for kind in KINDS}
        self.failed_plugins: dict[str, str] = {}
        self.preferences: dict[tuple[str | None, str], str] = {}

    def add(self, registration: Registration) -> None:
        table = self._entries[registration.kind]
        for key in dict.fromkeys(k.lower() for k in (registration.name, *registration.aliases)):
            providers = [r for r in table.get(key, []) if r.plugin != registration.plugin]
            table[key] = [*providers, registration]

    def remove_plugin(self, plugin: str) -> None:
        for table in self._entries.values():
            for key in list(table):
                table[key] = [r for r in table[key] if r.plugin != plugin]
                if not table[key]:
                    del table[key]

    def registrations(self, kind: str) -> list[Registration]:
        """Each registration of ``kind`` once, sorted by name."""
        unique = {id(r): r for providers in self._entries[kind].values() for r in providers}
        return sorted(unique.values(), key=lambda r: (r.name, r.plugin))

    def names(self, kind: str) -> list[str]:
        return sorted({r.name for r in self.registrations(kind)})

    def conflicts(self) -> list[Conflict]:
        """Every name that several plugins registered, with the provider config chooses (if any)."""
        found = []
        for kind, table in self._entries.items():
            for key, providers in sorted(table.items()):
                if len({r.plugin for r in providers}) > 1:
                    found.append(Conflict(kind, key, tuple(providers), self._preferred(kind, key, providers)))
        return found

    def _preferred(self, kind: str, key: str, providers: list[Registration]) -> Registration | None:
        wanted = self.preferences.get((kind, key)) or self.preferences.get((None, key))
        if wanted is None:
            return None
        for registration in providers:
            if wanted.lower() in (registration.plugin.lower(), registration.distribution.lower(),
                                  registration.distribution.lower().replace("-", "_")):
                return registration
        return None

    def find(self, kind: str, name: str) -> Registration:
        """The registration of ``name``; an error lists the installed names otherwise, and names
        every provider when several plugins registered it and config does not choose one."""
        providers = self._entries[kind].get(name.lower(), [])
        if len(providers) == 1:
            return providers[0]
        if providers:
            chosen = self._preferred(kind, name.lower(), providers)
            if chosen is not None:
                return chosen
            raise PluginConflictError(str(Conflict(kind, name.lower(), tuple(providers))))
        message = f"Unknown {kind} {name!r}. Installed {kind}s: {', '.join(self.names(kind)) or 'none'}."
        install = FIRST_PARTY_EXTRAS.get((kind, name.lower()))
        if install:
            message += f" {kind.capitalize()} {name!r} is provided by a plugin: {install}"
        if self.failed_plugins:
            failed = "; ".join(f"{p}: {e}" for p, e in sorted(self.failed_plugins.items()))
            message += f" Plugins that failed to load: {failed}."
        raise UnknownComponentError(message)

    def resolve(self, kind: str, name: str) -> Any:
        """The class registered as ``name``, importing it on first use.

        The class is returned as the plugin defined it: its ``name`` attribute is never rewritten
        (a class registered under two names would otherwise carry whichever was resolved last).
        Components made from it get the registered name, :meth:`find` ``(...).name``.
        """
        registration = self.find(kind, name)
        if registration.resolved is None:
            target = registration.target
            if isinstance(target, str):
                target = _import_target(registration)
            registration.resolved = target
        return registration.resolved

    def create(self, kind: str, name: str, make: Callable[[Any], Any] | None = None) -> Any:
        """An instance of component ``name``, ``make(cls)`` (default ``cls()``), that carries the
        registered name as its own ``name`` attribute (the class keeps its own)."""
        registration = self.find(kind, name)
        cls = self.resolve(kind, name)
        instance = make(cls) if make is not None else cls()
        if getattr(instance, "name", None) != registration.name:
            instance.name = registration.name
        return instance

    def backend_for_scheme(self, scheme: str) -> str | None:
        for registration in self.registrations("backend"):
            if scheme.lower() in registration.schemes:
                return registration.name
        return None


def _import_target(registration: Registration) -> Any:
    module_name, _, attribute = registration.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = exc.name or str(exc)
        install = registration.install or FIRST_PARTY_EXTRAS.get(
            (registration.kind, registration.name), ""
        )
        hint = f": {install}" if install else ""
        raise MissingDependencyError(
            f"{registration.kind.capitalize()} {registration.name!r} needs {missing}{hint}"
        ) from exc
    try:
        return getattr(module, attribute) if attribute else module
    except AttributeError as exc:
        raise MissingDependencyError(
            f"Plugin {registration.plugin!r} registered {registration.kind} {registration.name!r} "
            f"as {registration.target!r}, which does not exist; reinstall or fix the plugin"
        ) from exc
