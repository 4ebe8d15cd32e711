"""Interfaces on a dask.distributed cluster: credentials and keys for the workers, one interface per process.

An interface pickles without secrets (see :meth:`CCInterface.__reduce__`): what travels is an
:class:`InterfaceRecipe` (backend, bucket, endpoint, transform chain, the non-secret options and
the settings the user chose). Unpickling never fails and never connects: it gives a
:class:`RemoteInterface` that opens the interface on first use, once per process and recipe, so a
failure is raised inside the task that used it (and dask raises it at the client) with a note
saying what to do.

Secrets reach workers only when the user hands them over::

    import cottoncandy as cc
    from dask.distributed import Client

    client = Client("tcp://scheduler:8786")
    cci = cc.get_encrypted_interface("my-bucket", ACCESS_KEY="...", SECRET_KEY="...")
    cc.distributed.setup(client, cci)   # once: credentials and master keys to every worker

:func:`setup` installs a dask ``WorkerPlugin`` carrying the interface's credentials (the options
``get_interface`` received or read from ``[login]``) and the encryption transforms' keys; dask
sends it over the cluster's own connections (TLS when the cluster uses it) to the workers and to
workers that join later, and keeps it on the scheduler while it is installed. :func:`teardown`
removes it. Credentials a backend finds by itself (AWS variables, profiles, instance roles) are
not sent: workers use their own.
"""

from __future__ import annotations

import pickle
import threading
from dataclasses import dataclass
from typing import Any

from .config import Config, is_secret, load_config
from .errors import BucketNotFoundError, ConfigError

PLUGIN_NAME = "cottoncandy-secrets"
ADVICE = (
    "On a dask cluster, hand the client's credentials and keys to the workers with "
    "cc.distributed.setup(client, cci), or configure them on every worker (config file, environment)"
)


@dataclass(frozen=True)
class InterfaceRecipe:
    """What an interface pickles as: everything needed to open it again, except secrets."""

    backend: str
    bucket: str | None
    endpoint: str | None
    transforms: tuple[str, ...]
    options: tuple[tuple[str, Any], ...]
    settings: tuple[tuple[str, str, str], ...]

    def describe(self) -> str:
        return f"{self.backend} bucket {self.bucket!r}"


@dataclass
class _Handed:
    """The secrets :func:`setup` handed to this process."""

    credentials: dict[tuple[str, str | None], dict[str, Any]]
    transform_options: dict[str, dict[str, Any]]


_handed = _Handed({}, {})
_opened: dict[bytes, Any] = {}
_lock = threading.Lock()


def chosen_settings(settings: Config) -> tuple[tuple[str, str, str], ...]:
    """The non-secret settings the user chose (file, environment, ``set``), to travel with a recipe."""
    chosen = []
    for section in settings.sections():
        for key, value in settings.section(section).items():
            if settings.is_set(section, key) and not is_secret(key, section):
                chosen.append((section, key, value))
    return tuple(chosen)


def rebuild_interface(recipe: InterfaceRecipe) -> RemoteInterface:
    """Unpickle an interface: a :class:`RemoteInterface` that opens it on first use (never fails)."""
    return RemoteInterface(recipe)


class RemoteInterface:
    """An interface unpickled in some process; it is opened on first use, once per process.

    Attribute access is passed to the opened :class:`~cc_core.interface.CCInterface`. It pickles
    as the same recipe, so a worker passes it on as it received it.
    """

    def __init__(self, recipe: InterfaceRecipe) -> None:
        self._recipe = recipe

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        value = getattr(open_shared(self._recipe), name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return value(*args, **kwargs)
            except (PermissionError, ConfigError, BucketNotFoundError) as exc:
                _add_advice(exc)
                raise

        return call

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return rebuild_interface, (self._recipe,)

    def __repr__(self) -> str:
        return f"<cottoncandy interface {self._recipe.describe()}, opened on first use in this process>"


def _add_advice(exc: BaseException) -> None:
    if ADVICE not in getattr(exc, "__notes__", ()):
        exc.add_note(ADVICE)


def open_shared(recipe: InterfaceRecipe) -> Any:
    """This process's interface for ``recipe``, opened with the secrets handed to it (once)."""
    key = pickle.dumps(recipe)
    with _lock:
        interface = _opened.get(key)
        if interface is None:
            try:
                interface = _open(recipe)
            except Exception as exc:
                _add_advice(exc)
                raise
            _opened[key] = interface
        return interface


def _open(recipe: InterfaceRecipe) -> Any:
    from .interface import CCInterface

    settings = load_config(create=False)  # this process's own config folder and environment
    for section, key, value in recipe.settings:
        settings.set(section, key, value)
    # a key is made only by the user's own interface, never by one rebuilt from a pickle
    settings.set("encryption", "generate_key", "False")
    credentials = _handed.credentials.get((recipe.backend, recipe.endpoint), {})
    interface = CCInterface(recipe.bucket, url=recipe.endpoint, backend=recipe.backend, settings=settings,
                            transforms=recipe.transforms, verbose=False, **{**dict(recipe.options), **credentials})
    for name, options in _handed.transform_options.items():
        interface.pipeline.configure_transform(name, **options)
    return interface


def secrets_of(*interfaces: Any, credentials: bool = True, keys: bool = True) -> _Handed:
    """What :func:`setup` hands over for these interfaces."""
    handed = _Handed({}, {})
    for interface in interfaces:
        if credentials:
            secret = {k: v for k, v in interface._backend_options.items() if is_secret(k) and v is not None}
            handed.credentials[(interface.backend_name, interface._backend_options.get("endpoint_url"))] = secret
        if keys:
            for name in interface.pipeline.always:
                options = interface.pipeline.transform(name).worker_options()
                if options:
                    handed.transform_options[name.strip().lower()] = options
    return handed


def install(handed: _Handed) -> None:
    """Make ``handed`` this process's secrets (interfaces opened before are opened again)."""
    global _handed
    with _lock:
        _handed = handed
        _opened.clear()


def setup(client: Any, *interfaces: Any, credentials: bool = True, keys: bool = True) -> None:
    """Hand the credentials and encryption keys of ``interfaces`` to every worker of ``client``.

    Installs a dask ``WorkerPlugin`` (named ``cottoncandy-secrets``) on the workers there are and
    on those that join later; it replaces what an earlier call installed, so pass every interface
    the workers need at once. Interfaces in tasks then open with these secrets.

    Parameters
    ----------
    client : distributed.Client
        The client of the cluster.
    *interfaces : CCInterface
        Interfaces whose credentials (the secret options given to ``get_interface`` or read from
        ``[login]``) and master keys (every key of their encryption transforms, the one that
        encrypts first) the workers get. A key that does not exist yet is generated here, on the
        client, as the first upload would have.
    credentials, keys : bool
        Hand over credentials, master keys.
    """
    from .worker_plugin import SecretsPlugin

    client.register_plugin(SecretsPlugin(secrets_of(*interfaces, credentials=credentials, keys=keys)),
                           name=PLUGIN_NAME)


def teardown(client: Any) -> None:
    """Take back what :func:`setup` handed to the workers of ``client`` and forget their interfaces."""
    if client.run_on_scheduler(_installed_on_scheduler):
        client.unregister_worker_plugin(PLUGIN_NAME)
    client.run(install, _Handed({}, {}))


def _installed_on_scheduler(dask_scheduler: Any) -> bool:
    return PLUGIN_NAME in dask_scheduler.worker_plugins
