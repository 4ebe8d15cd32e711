"""What a command-line argument points at: an interface (backend + bucket) and a name in it.

Targets are written as URLs, ``scheme://bucket/name`` (``s3://``, ``gdrive://``, ``memory://`` or
any scheme a plugin registers), or as local paths: ``file:///abs/path`` or a plain path. A local
path is served by the local backend whose root is the deepest existing folder above the path, so
``/data/store/exp/run1`` works whether or not ``exp`` exists yet, and output names are plain
paths again. Names are shown the way they were given: URLs as URLs, paths as absolute paths.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from . import names
from .backend import Backend
from .config import Config
from .errors import BucketNotFoundError, InvalidNameError
from .patterns import literal_prefix

if TYPE_CHECKING:
    from .interface import CCInterface


class Location(NamedTuple):
    """Where a name or URL points: ``store`` (the backend object), ``key`` in it, and ``base``,
    what names in that bucket are shown after (``"s3://bucket/"``, ``"file:///root/"``, or ``""``
    for a plain name)."""

    store: Backend
    key: str
    base: str


def locate(interface: CCInterface, name: str, bucket_name: str | None = None, *, folder: bool = False) -> Location:
    """The one place a name or URL becomes a store and a key, for the interface and the CLI.

    Parameters
    ----------
    interface : CCInterface
        Names resolve in its bucket (or in its backend's ``bucket_name``); URLs must be served by
        its backend: ``s3://other-bucket/key``, or ``file:///root/folder/key`` under its root folder.
    name : str
        A name or a URL.
    bucket_name : str, optional
        Another bucket of the interface's backend, for a plain name.
    folder : bool
        Accept prefixes and patterns (checked by :func:`names.prefix_name`), not only object names.

    Returns
    -------
    Location

    Raises
    ------
    InvalidNameError
        The name is not valid; the URL is served by another backend, or lies outside the root.
    """
    check = names.prefix_name if folder else names.object_name
    if "://" not in name:
        return Location(interface._bucket(bucket_name), check(name), "")
    scheme, bucket, key = names.split_url(name)
    serving = interface.plugins.backend_for_url(name)
    if serving != interface.backend_name:
        raise InvalidNameError(
            f"{name!r} is served by the {serving or 'no installed'} backend, not by this interface's "
            f"{interface.backend_name!r} backend; open it with cc.get_interface('{scheme}://{bucket}')"
        )
    if scheme != "file":
        return Location(interface._bucket(bucket), check(key), f"{scheme}://{bucket}/")
    root = os.path.abspath(os.path.expanduser(interface.backend.bucket or "/"))
    relative = os.path.relpath(os.path.normpath("/" + key), root)
    if relative == ".." or relative.startswith("../"):
        raise InvalidNameError(f"{name!r} lies outside this interface's root folder {root}")
    return Location(interface.backend, check("" if relative == "." else relative), f"file://{root}/")


@dataclass(frozen=True)
class Target:
    """A name (object, folder or pattern) in one bucket.

    Attributes
    ----------
    interface : CCInterface
        The interface on the target's backend and bucket.
    key : str
        The name in the bucket, without a leading or trailing ``/`` (``""`` is the top).
    base : str
        What names in this bucket are shown after: ``"s3://bucket/"`` or ``"/data/root/"``.
    folder_hint : bool
        The user wrote a trailing ``/``: the target is meant as a folder.
    """

    interface: CCInterface
    key: str
    base: str
    folder_hint: bool = False

    def show(self, name: str) -> str:
        """A name in this bucket as the user would write it."""
        return self.base + name

    @property
    def shown(self) -> str:
        return self.show(self.key)

    def child(self, name: str) -> Target:
        """The target ``name`` below this one."""
        return replace(self, key=names.join(self.key, name), folder_hint=False)

    def is_object(self) -> bool:
        return bool(self.key) and self.interface.backend.exists(names.object_name(self.key))

    def is_folder(self) -> bool:
        """Whether any object is stored below the key (the top always counts as a folder)."""
        if not self.key:
            return True
        return next(iter(self.interface.backend.list(self.key + "/")), None) is not None


def is_local_path(text: str) -> bool:
    """Whether a command-line target is a plain local path (no ``scheme://``; ``file:///`` is a URL).

    ``cp``/``mv`` write plain files to one, as ``download`` does, and a local store (objects with
    their metadata beside them) to a ``file://`` URL.
    """
    return not names.split_url(text)[0]


class TargetResolver:
    """Opens targets, reusing one interface per backend and bucket.

    Parameters
    ----------
    settings : Config
        The configuration every interface uses.
    verbose : bool
        Passed to the interfaces: large transfers show progress bars in a terminal.
    endpoint_url : str, optional
        For S3-compatible servers.
    """

    def __init__(self, settings: Config, *, verbose: bool = True, endpoint_url: str | None = None) -> None:
        self.settings = settings
        self.verbose = verbose
        self.endpoint_url = endpoint_url
        self._interfaces: dict[str, CCInterface] = {}

    def _interface(self, location: str, backend: str | None = None, *, create: bool = False) -> CCInterface:
        from .interface import CCInterface

        if location not in self._interfaces:
            try:
                self._interfaces[location] = CCInterface(location, url=self.endpoint_url, verbose=self.verbose,
                                                         backend=backend, settings=self.settings,
                                                         force_bucket_creation=create)
            except BucketNotFoundError as exc:
                raise BucketNotFoundError(exc.bucket, f"create it with: cottoncandy mb {location}") from None
        return self._interfaces[location]

    def store(self, text: str) -> CCInterface:
        """An interface on a store without a bucket (``s3://``), for listing and making buckets."""
        scheme, bucket, key = names.split_url(text)
        if not scheme or bucket or key:
            raise InvalidNameError(f"{text!r} is not a store: write it as SCHEME:// (e.g. s3://)")
        location = f"{scheme}://"
        if location not in self._interfaces:
            from .interface import CCInterface

            self._interfaces[location] = CCInterface(None, url=self.endpoint_url, verbose=self.verbose,
                                                     backend=self._backend_for(text), settings=self.settings)
        return self._interfaces[location]

    def make_bucket(self, text: str) -> CCInterface:
        """Open the bucket a ``scheme://bucket`` URL names, creating it if it does not exist."""
        scheme, bucket, key = names.split_url(text)
        if not scheme or not bucket or key.strip("/"):
            raise InvalidNameError(f"{text!r} names no bucket: write SCHEME://BUCKET (e.g. s3://my-bucket)")
        return self._interface(f"{scheme}://{bucket}", create=True)

    def _backend_for(self, url: str) -> str:
        from .plugins import get_plugin_manager

        backend = get_plugin_manager().backend_for_url(url)
        if backend is None:
            raise InvalidNameError(f"No installed backend serves {url!r}; `cottoncandy plugins` lists the backends")
        return backend

    def open(self, text: str) -> Target:
        """The target a command-line argument names (a URL or a local path, maybe a pattern)."""
        if not text:
            raise InvalidNameError("An empty target: give a URL such as s3://bucket/name or a local path")
        scheme, bucket, key = names.split_url(text)
        if scheme == "file":
            if bucket not in ("", "localhost"):
                raise InvalidNameError(f"{text!r}: file URLs name a local path, file:///path (three slashes)")
            return self._open_local("/" + key, text.endswith("/"))
        if is_local_path(text):
            return self._open_local(text, text.endswith(("/", os.sep)))
        if not bucket:
            raise InvalidNameError(f"{text!r} names no bucket: write {scheme}://BUCKET/name")
        interface = self._interface(f"{scheme}://{bucket}")
        location = locate(interface, text, folder=True)
        return Target(interface, location.key.rstrip("/"), location.base, key.endswith("/"))

    def _open_local(self, text: str, folder_hint: bool) -> Target:
        path = os.path.abspath(os.path.expanduser(text))
        literal = literal_prefix(path)
        if literal == path:  # the root is above the path, so that a folder has a name to copy or remove
            root = Path(path).parent
        else:  # a pattern: the root is at most the folder its literal text ends in
            root = Path(literal if literal.endswith(os.sep) else os.path.dirname(literal))
        while not root.is_dir():
            root = root.parent
        key = path[len(str(root)):].replace(os.sep, "/").strip("/")
        interface = self._interface(str(root), backend="local")
        return Target(interface, names.prefix_name(key), str(root).rstrip("/") + "/", folder_hint)

    def close(self) -> None:
        for interface in self._interfaces.values():
            interface.backend.close()


__all__ = ["Location", "Target", "TargetResolver", "is_local_path", "locate"]
