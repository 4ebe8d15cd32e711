"""The hooks a cottoncandy plugin can implement.

A plugin is a module (named by an entry point in the ``cottoncandy`` group) that defines functions
decorated with :data:`hookimpl`. Each registration hook receives a ``register`` callback; call it
once per component the plugin offers. Register a class or an import string (``"pkg.mod:Class"``),
never an instance: import strings let ``cottoncandy plugins`` list a plugin without importing its
heavy dependencies, and the class is imported the first time a user asks for the component.

Example
-------
>>> from cc_core.hookspecs import RegisterBackend, hookimpl
>>> @hookimpl
... def cc_register_backends(register: RegisterBackend) -> None:
...     register("ftp", "my_cc_ftp.backend:FTPBackend", schemes=("ftp",), install="pip install my-cc-ftp")

Each registration hook's ``register`` is typed by a protocol below (:class:`RegisterBackend`,
:class:`RegisterCodec`, :class:`RegisterTransform`, :class:`RegisterSetting`); a keyword that
protocol does not declare fails the plugin, with a message naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import pluggy

PROJECT_NAME = "cottoncandy"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class RegisterBackend(Protocol):
    """The ``register`` callback of :func:`cc_register_backends`.

    Any other keyword (a misspelt ``scheme=``) is refused with a TypeError naming the plugin.
    """

    def __call__(self, name: str, target: type | str, *, schemes: Sequence[str] = (), description: str = "",
                 install: str = "") -> None: ...


class RegisterCodec(Protocol):
    """The ``register`` callback of :func:`cc_register_codecs`."""

    def __call__(self, name: str, target: type | str, *, description: str = "", install: str = "") -> None: ...


class RegisterTransform(Protocol):
    """The ``register`` callback of :func:`cc_register_transforms`."""

    def __call__(self, name: str, target: type | str, *, aliases: Sequence[str] = (), description: str = "",
                 install: str = "") -> None: ...


class RegisterSetting(Protocol):
    """The ``register`` callback of :func:`cc_register_settings`."""

    def __call__(self, section: str, key: str, kind: str = "text", *, choices: Sequence[str] = (),
                 minimum: float | None = None, maximum: float | None = None, special: Sequence[str] = ()) -> None: ...


@hookspec
def cc_register_backends(register: RegisterBackend) -> None:
    """Register storage backends.

    Call ``register(name, target, *, schemes=(), description="", install="")`` for each backend.
    A name another installed plugin registers too is a conflict: using it raises an error naming
    both distributions until ``[plugins] prefer = NAME=PLUGIN`` settles it (see :func:`cc_register_codecs`).

    Parameters of ``register``
    --------------------------
    name : str
        The name users pass as ``backend=`` (``"s3"``, ``"local"``).
    target : type or str
        A :class:`cc_core.backend.Backend` subclass, or ``"module:attribute"`` naming one.
    schemes : tuple of str
        URL schemes this backend serves (``("s3",)`` serves ``s3://bucket/key``).
    description : str
        One line for ``cottoncandy plugins``.
    install : str
        What to run when importing ``target`` fails (``"pip install 'cottoncandy[s3]'"``).
    """


@hookspec
def cc_register_codecs(register: RegisterCodec) -> None:
    """Register array codecs.

    Call ``register(name, target, *, description="", install="")`` for each codec. ``target`` is
    (or names) a :class:`cc_core.codec.ObjectCodec` subclass, which turns one value into one
    object's bytes plus metadata, or a :class:`cc_core.codec.LayoutCodec` subclass, which stores
    one value as several objects under a prefix (dask arrays, sparse matrices, groups). Both are
    used by name through ``put_value(name, value, codec)`` / ``get_value(name, codec)``.

    Names are unique across plugins: when two installed plugins register one name (of one kind),
    neither is used silently. ``cottoncandy plugins`` lists the conflict, using the name raises
    :class:`~cc_core.errors.PluginConflictError` naming both distributions, and the user settles it
    in config: ``[plugins] prefer = zstd=my_plugin`` (entry-point or distribution name; a
    comma-separated list, ``transform:zstd=...`` to name the kind too).
    """


@hookspec
def cc_register_transforms(register: RegisterTransform) -> None:
    """Register byte transforms (compression, encryption, ...).

    Call ``register(name, target, *, description="", install="")`` for each transform; ``target``
    is (or names) a :class:`cc_core.transform.Transform` subclass. Names are matched without
    regard to case, and a transform class may declare ``aliases`` (such as cottoncandy 0.4's
    ``"Zstd"``) under which objects written by older versions find it.
    """


@hookspec
def cc_register_settings(register: RegisterSetting) -> None:
    """Declare the config settings a plugin reads, so that typos and bad values are reported.

    Call ``register(section, key, kind="text", *, choices=(), minimum=None, maximum=None,
    special=())`` once per setting. Before any work starts, cottoncandy reports a value a setting
    cannot take as a :class:`~cc_core.errors.ConfigError` naming file and line, and a section, key
    or ``CC_<SECTION>_<KEY>`` variable that no installed plugin declares as a warning with the
    nearest known name. The keys of the core's packaged ``defaults.cfg`` are known already; a plugin
    may add checks to them (the S3 plugin lists the ACLs ``[basic] default_acl`` takes).

    Parameters of ``register``
    --------------------------
    section, key : str
        ``[section] key`` in ``options.cfg``.
    kind : str
        ``"text"`` (anything), ``"bool"``, ``"int"``, ``"float"``, ``"size"`` (``8MB`` or a plain
        number), ``"choice"`` (one of ``choices``) or ``"names"`` (a comma-separated list).
    choices : tuple of str
        The values a ``"choice"`` takes.
    minimum, maximum : float, optional
        Bounds of a number.
    special : tuple of str
        Words a number setting accepts besides numbers (``("auto",)``).
    """


@hookspec(historic=True)
def cc_configure(config: Any) -> None:
    """Receive the loaded :class:`cc_core.config.Config`.

    Historic: a plugin registered after configuration was loaded is called too, with the same
    config. Use it to read a plugin's own section; do not keep mutable global state that two
    interfaces with different configs would share.
    """


@hookspec(firstresult=True)
def cc_backend_for_url(url: str) -> str | None:
    """Name the backend that serves ``url``, or return None to let other plugins answer.

    Needed only by plugins whose URLs a plain scheme cannot tell apart; a backend registered with
    ``schemes=`` is found without implementing this hook.
    """


@hookspec
def cc_register_commands(subparsers: Any) -> None:
    """Add subcommands to the ``cottoncandy`` command line.

    ``subparsers`` is the :mod:`argparse` sub-parser collection. Add a parser and give it a
    handler: ``parser.set_defaults(handler=function)``; the handler receives the parsed
    ``argparse.Namespace`` and returns the exit status (0 on success).
    """
