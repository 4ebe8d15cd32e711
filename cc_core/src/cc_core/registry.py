"""The components plugins registered, and how a name becomes a class.

Registrations keep import strings as they are until a user asks for the component, so listing
plugins never imports boto3 or pydrive2. Resolving reports a missing dependency with the command
that installs it, and an unknown name with the names that are installed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from .errors import MissingDependencyError, UnknownComponentError

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
    resolved: Any = field(default=None, repr=False)


class Registry:
    """Backends, codecs and transforms by kind and (case-insensitive) name."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, Registration]] = {kind: {} for kind in KINDS}
        self.failed_plugins: dict[str, str] = {}

    def add(self, registration: Registration) -> None:
        table = self._entries[registration.kind]
        for key in (registration.name, *registration.aliases):
            table[key.lower()] = registration

    def remove_plugin(self, plugin: str) -> None:
        for table in self._entries.values():
            for key in [k for k, r in table.items() if r.plugin == plugin]:
                del table[key]

    def registrations(self, kind: str) -> list[Registration]:
        """Each registration of ``kind`` once, sorted by name."""
        unique = {id(r): r for r in self._entries[kind].values()}
        return sorted(unique.values(), key=lambda r: r.name)

    def names(self, kind: str) -> list[str]:
        return [r.name for r in self.registrations(kind)]

    def find(self, kind: str, name: str) -> Registration:
        """The registration of ``name``; an error lists the installed names otherwise."""
        registration = self._entries[kind].get(name.lower())
        if registration is not None:
            return registration
        message = f"Unknown {kind} {name!r}. Installed {kind}s: {', '.join(self.names(kind)) or 'none'}."
        install = FIRST_PARTY_EXTRAS.get((kind, name.lower()))
        if install:
            message += f" {kind.capitalize()} {name!r} is provided by a plugin: {install}"
        if self.failed_plugins:
            failed = "; ".join(f"{p}: {e}" for p, e in sorted(self.failed_plugins.items()))
            message += f" Plugins that failed to load: {failed}."
        raise UnknownComponentError(message)

    def resolve(self, kind: str, name: str) -> Any:
        """The class registered as ``name``, importing it on first use."""
        registration = self.find(kind, name)
        if registration.resolved is None:
            target = registration.target
            if isinstance(target, str):
                target = _import_target(registration)
            if not getattr(target, "name", None) or target.name != registration.name:
                try:
                    target.name = registration.name
                except (AttributeError, TypeError):
                    pass
            registration.resolved = target
        return registration.resolved

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
