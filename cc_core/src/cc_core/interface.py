"""The object users hold: cottoncandy 0.4's interface, on any backend.

Method names and signatures are those of cottoncandy 0.4's ``DefaultInterface``, so existing
scripts run unchanged; every method works through the stage interfaces (backend, codec, transforms)
and so on every backend a plugin provides. Methods for formats that live in plugins (npy, dask,
sparse, groups, HDF5) find their codec by name and say what to install when it is missing.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from . import copying, names, targets
from .backend import Backend, ObjectInfo, Prefix
from .caller import warn
from .codec import Encoded, LayoutCodec
from .config import Config, is_secret, load_config
from .errors import CottonCandyError, MetadataError, ObjectExistsError, ObjectNotFoundError
from .layout_store import InterfaceLayoutStore
from .metadata import CODEC_KEY, PICKLE_CODEC, RESERVED_PREFIX, codec_name, user_metadata
from .patterns import has_magic, literal_prefix, matches
from .payload import Payload
from .pipeline import DirectSource, Pipeline, SourceReader, TransformSpec
from .plugins import PluginManager, get_plugin_manager
from .progress import NO_PROGRESS, Progress
from .progressbar import ShareOfTotal, automatic_progress, progress_for
from .targets import Location

#: Parameters of cottoncandy's (and dask's) upload and download methods. Upload methods keep 0.4's
#: ``**metadata``, but a keyword argument under one of these names is a mistake (an option given to
#: the wrong method, such as ``compute=False`` to ``upload_raw_array``), never metadata.
NOT_METADATA = frozenset({
    "acl", "axis", "buffersize", "bucket_name", "codec", "compression", "compute", "dask_name", "ExtraArgs",
    "keys", "lazy", "like", "lock", "overwrite", "progress", "recursive", "scheduler", "threads", "transforms",
})


def check_metadata_names(method: str, metadata: Mapping[str, Any]) -> None:
    """Refuse keyword arguments of ``method`` that are parameters of another method (see NOT_METADATA)."""
    wrong = sorted(set(metadata) & NOT_METADATA)
    if wrong:
        raise TypeError(
            f"{method}() got keyword argument(s) {', '.join(wrong)}, which it does not take; they are parameters "
            f"of other cottoncandy or dask methods, not metadata. Other keyword arguments are stored as metadata"
        )


class CloudStream:
    """An object's content as a file object plus its metadata (as in cottoncandy 0.4)."""

    def __init__(self, content: BinaryIO, metadata: Mapping[str, str]) -> None:
        self.content = content
        self.metadata = dict(metadata)


def same_parameter(function: str, name: str, value: Any, alias: str, alias_value: Any) -> Any:
    """The value of a parameter that cottoncandy 0.4 spelled two ways (``url``/``endpoint_url``,
    ``ACCESS_KEY``/``access_key``): either name works; both with different values is an error."""
    if value is None or value == "":
        return alias_value
    if alias_value is None or alias_value == "" or alias_value == value:
        return value
    raise TypeError(
        f"{function}() got both {name}= and {alias}= with different values; they are the same "
        f"parameter under two names: pass only one"
    )


def _is_local_path(bucket_name: str) -> bool:
    """S3 bucket names never contain '/', so a path-like name means the local backend."""
    return bucket_name.startswith(("/", "./", "../", "~")) or os.sep in bucket_name


class CCInterface:
    """Store and read arrays, objects and files in one bucket of one backend.

    Parameters
    ----------
    bucket_name : str
        The bucket (S3), root folder (local) or URL such as ``s3://bucket`` / ``file:///data``.
    ACCESS_KEY, SECRET_KEY : str, optional
        Credentials for backends that need them; default from config, then the environment.
    url : str, optional
        Endpoint URL (S3-compatible servers); ``endpoint_url=`` (get_interface's name) works too.
    force_bucket_creation : bool
        Create the bucket (folder) if it does not exist.
    verbose : bool
        Print progress of long operations.
    backend : str, optional
        A registered backend name; default: ``local`` for a filesystem path, else
        ``[basic] default_backend`` (``s3``).
    settings : Config, optional
        Configuration; default: the user's config file.
    transforms : list of str, optional
        Transforms appended to every object's chain (the encrypted interface passes its cipher).
    **kwargs
        Passed to the backend (e.g. ``config=botocore.client.Config(...)`` for S3).
    """

    def __init__(
        self,
        bucket_name: str | None = None,
        ACCESS_KEY: str | None = None,
        SECRET_KEY: str | None = None,
        url: str | None = None,
        force_bucket_creation: bool = False,
        verbose: bool = True,
        backend: str | None = None,
        *,
        settings: Config | None = None,
        transforms: Sequence[str] = (),
        plugin_manager: PluginManager | None = None,
        **kwargs: Any,
    ) -> None:
        url = same_parameter("CCInterface", "url", url, "endpoint_url", kwargs.pop("endpoint_url", None))
        ACCESS_KEY = same_parameter("CCInterface", "ACCESS_KEY", ACCESS_KEY, "access_key",
                                    kwargs.pop("access_key", None))
        SECRET_KEY = same_parameter("CCInterface", "SECRET_KEY", SECRET_KEY, "secret_key",
                                    kwargs.pop("secret_key", None))
        self.settings = settings or load_config()
        self.plugins = plugin_manager or get_plugin_manager()
        self.plugins.check_config(self.settings)  # bad values fail here, before any work; typos warn once
        bucket_name = bucket_name or None
        if bucket_name and "://" in bucket_name:
            backend = backend or self.plugins.backend_for_url(bucket_name)
            scheme, bucket, key = names.split_url(bucket_name)
            bucket_name = "/" + key if scheme == "file" else bucket
            if not backend:
                raise CottonCandyError(f"No installed backend serves {scheme}:// URLs")
        if backend is None:
            backend = "local" if bucket_name and _is_local_path(bucket_name) else (
                self.settings.get("basic", "default_backend", fallback="s3") or "s3"
            )
        self.verbose = verbose
        self.backend_name = backend.lower()
        self.plugins.registry.resolve("backend", self.backend_name)  # a missing or conflicting backend fails here
        # only what the user set: a backend that takes no credentials is opened without them
        given = {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "endpoint_url": url}
        self._backend_options = {**{k: v for k, v in given.items() if v}, **kwargs}
        self.backend: Backend = self._open_backend(bucket_name, force_bucket_creation)
        self.pipeline = Pipeline(self.plugins.registry, self.settings, always=transforms)
        self._codecs: dict[str, Any] = {}
        self._other_buckets: dict[str, Backend] = {}

    #: Seconds cottoncandy 0.4's test suites sleep after each write (``time.sleep(cci.wait_time)``)
    #: to let an eventually consistent store catch up. cottoncandy never waits on it: every backend
    #: here reads its own writes (S3 has been strongly consistent since December 2020).
    wait_time: float = 0.0

    @property
    def backend_interface(self) -> Backend:
        """The backend object, under cottoncandy 0.4's name: ``.path`` of the local backend
        (``cottoncandy.localclient.LocalClient``), ``.bucket_name`` and ``.url`` of S3's.

        Returns
        -------
        Backend
            The same object as :attr:`backend`.
        """
        return self.backend

    def _open_backend(self, bucket: str | None, force_bucket_creation: bool = False) -> Backend:
        create = {"force_bucket_creation": True} if force_bucket_creation else {}
        return self.plugins.registry.create(
            "backend", self.backend_name,
            lambda cls: cls(bucket, settings=self.settings, **create, **self._backend_options))

    def _bucket(self, bucket: str | None) -> Backend:
        """This interface's backend, or the same backend on another bucket (opened once)."""
        if bucket is None or bucket == self.backend.bucket:
            return self.backend
        if bucket not in self._other_buckets:
            self._other_buckets[bucket] = self._open_backend(bucket)
        return self._other_buckets[bucket]

    def locate(self, name: str, bucket_name: str | None = None, *, folder: bool = False) -> Location:
        """What ``name`` points at: the store (backend object), the key in it, and the base that
        listings show names after. See :func:`cc_core.targets.locate`.

        Parameters
        ----------
        name : str
            A name in this bucket (or in ``bucket_name``), or a URL on this interface's backend
            (``s3://other-bucket/key``, ``file:///root/folder/key``).
        bucket_name : str, optional
            Another bucket of this backend, for a plain name.
        folder : bool
            Accept prefixes and patterns, not only object names.

        Returns
        -------
        Location
            ``(store, key, base)``.

        Raises
        ------
        InvalidNameError
            The name is not valid, or the URL is served by another backend or lies outside the root.
        """
        return targets.locate(self, name, bucket_name, folder=folder)

    def __repr__(self) -> str:
        chain = f" transforms={self.pipeline.always}" if self.pipeline.always else ""
        return f"<cottoncandy interface {self.backend.describe()}{chain}>"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle without secrets; unpickled, the interface opens on first use in that process,
        with the credentials and keys :func:`cc_core.distributed.setup` handed to it or its own
        (see :mod:`cc_core.distributed`)."""
        from .distributed import InterfaceRecipe, chosen_settings, rebuild_interface

        options = {k: v for k, v in self._backend_options.items() if not is_secret(k)}
        endpoint = options.pop("endpoint_url", None)
        options.update(self.backend.pickle_options())
        recipe = InterfaceRecipe(self.backend_name, self.backend.bucket, endpoint, tuple(self.pipeline.always),
                                 tuple(sorted(options.items())), chosen_settings(self.settings))
        return rebuild_interface, (recipe,)

    # -- components ----------------------------------------------------------------------------
    def _codec(self, name: str) -> Any:
        if name not in self._codecs:
            self._codecs[name] = self.plugins.registry.create("codec", name)
        return self._codecs[name]

    @property
    def _layout_store(self) -> InterfaceLayoutStore:
        """What layout codecs receive: this interface, narrowed to the LayoutStore protocol."""
        return InterfaceLayoutStore(self)

    def _layout(self, name: str) -> LayoutCodec:
        codec = self._codec(name)
        if not isinstance(codec, LayoutCodec):
            raise TypeError(f"Codec {name!r} stores single objects, not layouts")
        return codec

    @staticmethod
    def _put_options(acl: str | None, threads: int | None) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if acl is not None:
            options["acl"] = acl
        if threads is not None:
            options["threads"] = threads
        return options

    def put_value(
        self,
        name: str,
        value: Any,
        codec: str,
        *,
        transforms: TransformSpec = None,
        metadata: Mapping[str, Any] | None = None,
        acl: str | None = None,
        threads: int | None = None,
        progress: Progress = NO_PROGRESS,
        **codec_options: Any,
    ) -> ObjectInfo:
        """Encode ``value`` with a registered codec and store it as ``name``.

        Parameters
        ----------
        name : str
            The object's name or URL.
        value : object
            What to store.
        codec : str
            A registered object codec (``'raw'``, ``'npy'``, ...).
        transforms : str or list of str or bool, optional
            The transform chain: None = ``[pipeline] transforms``, False = none, ``'zstd,aes-gcm'``.
        metadata : dict, optional
            User metadata stored with the object.
        acl : str, optional
            Canned ACL of the new object (S3); default ``[basic] default_acl``.
        threads : int, optional
            Parallel parts for a large upload; default ``[basic] threads``.
        progress : Progress or bool, optional
            Told the size and the bytes as they move; default: a bar for a large transfer in a terminal.
        **codec_options
            Passed to the codec's ``encode``.

        Returns
        -------
        ObjectInfo
            The stored object's ``name``, ``size``, ``metadata`` and ``version`` (ETag, Drive file id,
            local inode:size) as :meth:`get_object` gives it. A layout codec
            (:class:`~cc_core.codec.LayoutCodec`) stores the value as several objects under
            ``name/`` and returns what its ``upload`` returns; it receives ``codec_options``, the
            ``metadata`` items as keywords and ``acl``/``threads`` when given.
        """
        codec_object = self._codec(codec)
        if isinstance(codec_object, LayoutCodec):
            given = {k: v for k, v in (("acl", acl), ("threads", threads), ("transforms", transforms)) if v is not None}
            return codec_object.upload(self._layout_store, name, value, **given, **(metadata or {}), **codec_options)
        return self._put_encoded(name, codec_object.encode(value, **codec_options), codec, transforms, metadata or {},
                                 acl, threads, progress)

    def _put_encoded(self, name: str, encoded: Encoded, codec: str | None, transforms: TransformSpec,
                     metadata: Mapping[str, Any], acl: str | None, threads: int | None,
                     progress: Progress) -> ObjectInfo:
        """Store ``encoded`` as ``name``, recording ``codec`` (None: plain bytes) with it; returns its info."""
        check_metadata_names("upload", metadata)
        backend, name, _ = self.locate(name)
        chain = self.pipeline.chain(transforms)
        extra = user_metadata(metadata, encoded.metadata)
        with self._progress(progress, f"upload {name}") as progress:
            return self.pipeline.write(backend, name, encoded, chain, codec, extra, progress=progress,
                                       **self._put_options(acl, threads))

    def get_value(self, name: str, codec: str, *, progress: Progress = NO_PROGRESS, **codec_options: Any) -> Any:
        """Read ``name`` with ``codec`` (the codec the object names must agree).

        Parameters
        ----------
        name : str
            The object's name or URL.
        codec : str
            A registered object codec (``'raw'``, ``'npy'``, ...).
        progress : Progress or bool, optional
            Told the size and the bytes as they move; default: a bar for a large transfer in a terminal.
        **codec_options
            Passed to the codec's ``decode``.

        Returns
        -------
        object
            The decoded value.

        Raises
        ------
        MetadataError
            The object was written by another codec.
        ObjectNotFoundError
            There is no such object.
        """
        codec_object = self._codec(codec)
        if isinstance(codec_object, LayoutCodec):
            return codec_object.download(self._layout_store, name, **codec_options)

        def decode(info: ObjectInfo, source: Any) -> Any:
            written_by = codec_name(info.metadata)
            if written_by is not None and written_by != codec:
                raise MetadataError(
                    f"Object {info.name!r} was written by the {written_by!r} codec, not {codec!r}; "
                    f"read it with the matching download method"
                )
            return self._codec(codec).decode(info.metadata, source, **codec_options)

        return self._read(name, decode, progress)

    def _read(self, name: str, consume: Callable[[ObjectInfo, Any], Any], progress: Progress = NO_PROGRESS) -> Any:
        """``consume(info, source)`` of object ``name`` through :meth:`Pipeline.read`, with a
        progress bar for a large object."""
        backend, name, _ = self.locate(name)
        with self._progress(progress, f"download {name}") as progress:
            return self.pipeline.read(backend, name, consume, progress=progress)

    def _progress(self, progress: Progress | bool | None, description: str) -> Any:
        """The caller's progress object, or a bar for a large transfer in an interactive session
        (see :mod:`cc_core.progressbar`), as a context that closes the bar."""
        return progress_for(progress, settings=self.settings, verbose=self.verbose, description=description)

    # -- buckets -------------------------------------------------------------------------------
    @property
    def bucket_name(self) -> str | None:
        """The current bucket (S3), root folder (local) or Drive folder; None without one.
        """
        return self.backend.bucket

    def set_bucket(self, bucket_name: str) -> None:
        """Work in another bucket of the same backend from now on.

        Parameters
        ----------
        bucket_name : str
            The bucket (root folder, Drive folder) to use.

        Raises
        ------
        BucketNotFoundError
            It does not exist.
        """
        self.backend = self._open_backend(bucket_name)

    def get_bucket(self) -> str | None:
        """The current bucket's name (as :attr:`bucket_name`).

        Returns
        -------
        str or None
        """
        return self.backend.bucket

    def exists_bucket(self, bucket_name: str) -> bool:
        """Whether a bucket of this backend exists.

        Parameters
        ----------
        bucket_name : str

        Returns
        -------
        bool
        """
        if not self.backend.capabilities.buckets:  # one bucket: the one this backend was opened on
            return bucket_name == self.backend.bucket
        return self.backend.bucket_exists(bucket_name)

    def create_bucket(self, bucket_name: str, acl: str | None = None) -> None:
        """Create a bucket and make it the current one (as 0.4 did).

        Parameters
        ----------
        bucket_name : str
            Must start with ``[basic] mandatory_bucket_prefix`` when that is set.
        acl : str, optional
            Canned ACL of the bucket (S3).

        Raises
        ------
        CottonCandyError
            The name lacks the mandatory prefix.
        """
        prefix = self.settings.get("basic", "mandatory_bucket_prefix", fallback="") or ""
        if prefix and not bucket_name.startswith(prefix):
            raise CottonCandyError(f"Bucket names must start with {prefix!r} ([basic] mandatory_bucket_prefix)")
        options = {"acl": acl} if acl else {}
        self.backend.create_bucket(bucket_name, **options)
        self.set_bucket(bucket_name)

    def rm_bucket(self, bucket_name: str) -> None:
        """Remove an empty bucket.

        Parameters
        ----------
        bucket_name : str
        """
        self.backend.delete_bucket(bucket_name)

    def show_buckets(self) -> list[str]:
        """Print the buckets this backend can see, one a line.

        Returns
        -------
        list of str
            Their names.
        """
        buckets = self.backend.list_buckets() if self.backend.capabilities.buckets else [str(self.backend.bucket)]
        for bucket in buckets:
            print(bucket)
        return buckets

    def get_objects(self, prefix: str = "", **kwargs: Any) -> list[ObjectInfo]:
        """Every object under ``prefix`` (or 0.4's ``filter={'Prefix': ...}``), no page limit.

        Parameters
        ----------
        prefix : str
            Names starting with this; ``""`` = the whole bucket.
        **kwargs
            ``filter={'Prefix': ...}`` as boto3 took it in 0.4; other keywords are ignored.

        Returns
        -------
        list of ObjectInfo
        """
        prefix = kwargs.get("filter", {}).get("Prefix", prefix)
        return [e for e in self.backend.list(names.prefix_name(prefix)) if isinstance(e, ObjectInfo)]

    def get_bucket_objects(self, **kwargs: Any) -> list[ObjectInfo]:
        """Deprecated alias of :meth:`get_objects` (cottoncandy 0.4).

        Parameters
        ----------
        **kwargs
            As :meth:`get_objects`.

        Returns
        -------
        list of ObjectInfo
        """
        warn("Deprecated. Use get_objects() instead", DeprecationWarning)
        return self.get_objects(**kwargs)

    def get_size(self) -> int:
        """Total bytes of the objects in the bucket.

        Returns
        -------
        int
        """
        return sum(info.size for info in self.get_objects())

    def get_bucket_size(self, limit: int | None = None, page_size: int | None = None) -> int:
        """Deprecated alias of :meth:`get_size` (cottoncandy 0.4).

        Parameters
        ----------
        limit, page_size : int, optional
            Ignored; kept for cottoncandy 0.4 code.

        Returns
        -------
        int
        """
        warn("Deprecated, use get_size() instead", DeprecationWarning)
        return self.get_size()

    def show_objects(self, limit: int | None = None, page_size: int | None = None) -> None:
        """Print each object's name and size in MB.

        Parameters
        ----------
        limit : int, optional
            Print at most this many.
        page_size : int, optional
            Ignored; kept for cottoncandy 0.4 code.
        """
        for info in self.get_objects()[:limit]:
            print(f"{info.name:<60} {info.size / 2**20:10.2f}MB")

    # -- plain objects -------------------------------------------------------------------------
    def exists_object(self, object_name: str, bucket_name: str | None = None, raise_err: bool = False) -> bool:
        """Whether an object exists.

        Parameters
        ----------
        object_name : str
            The object's name in this bucket, or a URL on this backend (``s3://bucket/key``).
        bucket_name : str, optional
            Another bucket of this backend.
        raise_err : bool
            Raise instead of returning False.

        Returns
        -------
        bool

        Raises
        ------
        ObjectNotFoundError
            The object is missing and ``raise_err`` is True.
        """
        backend, name, _ = self.locate(object_name, bucket_name)
        found = backend.exists(name)
        if raise_err and not found:
            raise ObjectNotFoundError(name, backend.describe())
        return found

    def upload_object(
        self,
        object_name: str,
        body: Any,
        acl: str | None = None,
        threads: int | None = None,
        *,
        transforms: TransformSpec = None,
        progress: Progress = NO_PROGRESS,
        **metadata: Any,
    ) -> ObjectInfo:
        """Store bytes, an array's buffer or a file object's content as one object.

        Parameters
        ----------
        object_name : str
            The object's name in this bucket, or a URL on this backend (``s3://bucket/key``).
        body : bytes, buffer, file object or Payload
            The content; a file object is streamed, never read whole.
        acl : str, optional
            Canned ACL of the new object (S3); default ``[basic] default_acl``.
        threads : int, optional
            Parallel parts for a large upload; default ``[basic] threads``.
        transforms : str or list of str or bool, optional
            The transform chain (see :meth:`put_value`).
        progress : Progress or bool, optional
            Told the size and the bytes as they move; default: a bar for a large transfer in a terminal.
        **metadata
            User metadata stored with the object (strings).

        Returns
        -------
        ObjectInfo
            The stored object's ``name``, ``size``, ``metadata`` and ``version``.
        """
        return self._put_encoded(object_name, Encoded(Payload.of(body)), None, transforms, metadata, acl, threads,
                                 progress)

    upload_stream = upload_object

    def download_stream(self, object_name: str, threads: int | None = None, *,
                        progress: Progress = NO_PROGRESS) -> CloudStream:
        """The object's content as a readable file object (decoded, streamed) and its metadata.

        Opened through :meth:`Pipeline.read <cc_core.pipeline.Pipeline.read>`: a replaced object is read
        again before the stream is handed out; the checksum is checked when the stream reaches its end.

        Parameters
        ----------
        object_name : str
            The object's name in this bucket, or a URL on this backend (``s3://bucket/key``).
        threads : int, optional
            Ignored; kept for cottoncandy 0.4 code (reads use ``[basic] threads``).
        progress : Progress or bool, optional
            Told the size and the bytes as they move; default: a bar for a large transfer in a terminal.

        Returns
        -------
        CloudStream
            ``.content`` (a buffered file object) and ``.metadata``.

        Raises
        ------
        ObjectNotFoundError
            There is no such object.
        IntegrityError
            The stored bytes fail their checksum (or, on an encrypted interface, are not encrypted).
        """
        backend, name, _ = self.locate(object_name)
        progress = automatic_progress(progress, settings=self.settings, verbose=self.verbose,
                                      description=f"download {name}")
        return self.pipeline.read(backend, name, _open_stream, progress=progress, streamed=True)

    def download_object(self, object_name: str, threads: int | None = None, *,
                        progress: Progress = NO_PROGRESS) -> bytes:
        """The object's content, decoded, as bytes.

        Parameters
        ----------
        object_name : str
            The object's name in this bucket, or a URL on this backend (``s3://bucket/key``).
        threads : int, optional
            Ignored; kept for cottoncandy 0.4 code (reads use ``[basic] threads``).
        progress : Progress or bool, optional
            Told the size and the bytes as they move; default: a bar for a large transfer in a terminal.

        Returns
        -------
        bytes

        Raises
        ------
        ObjectNotFoundError
            There is no such object.
        IntegrityError
            The stored bytes fail their checksum (or, on an encrypted interface, are not encrypted).
        """
        return self._read(object_name, lambda info, source: source.read(), progress)

    def get_object(self, object_name: str, bucket_name: str | None = None) -> ObjectInfo:
        """Size, metadata and time of an object (0.4 returned a boto3 object; this works everywhere).

        Parameters
        ----------
        object_name : str
            The object's name in this bucket, or a URL on this backend (``s3://bucket/key``).
        bucket_name : str, optional
            Another bucket of this backend.

        Returns
        -------
        ObjectInfo

        Raises
        ------
        ObjectNotFoundError
            There is no such object.
        """
        backend, name, _ = self.locate(object_name, bucket_name)
        return backend.head(name)

    def upload_json(self, object_name: str, ddict: Any, acl: str | None = None, threads: int | None = 1, *,
                    progress: Progress = NO_PROGRESS, **metadata: Any) -> ObjectInfo:
        """Store ``ddict`` as JSON text.

        Parameters
        ----------
        object_name : str
            The object's name in this bucket, or a URL on this backend (``s3://bucket/key``).
        ddict : object
            Anything ``json.dumps`` takes.
        acl : str, optional
            Canned ACL of the new object (S3); default ``[basic] default_acl``.
        threads : int, optional
            Parallel parts for a large upload; default ``[basic] threads``.
        progress : Progress or bool, optional
            Told the size and the bytes as they move; default: a bar for a large transfer in a terminal.
        **metadata
            User metadata stored with the object (strings).

        Returns
        -------
        ObjectInfo
            The stored object's ``name``, ``size``, ``metadata`` and ``version``.
        """
        return self.upload_object(object_name, json.dumps(ddict).encode("utf-8"), acl, threads, progress=progress,
                                  **metadata)

    def download_json(self, object_name: str, threads: int | None = 1, *, progress: Progress = NO_PROGRESS) -> Any:
        """Read an object as JSON.

        Parameters
        ----------
        object_name : str
            The object's name in this bucket, or a URL on this backend (``s3://bucket/key``).
        threads : int, optional
            Ignored; kept for cottoncandy 0.4 code (reads use ``[basic] threads``).
        progress : Progress or bool, optional
            Told the size and the bytes as they move; default: a bar for a large transfer in a terminal.

        Returns
        -------
        object
            The parsed JSON.

        Raises
        ------
        MetadataError
            The object is not UTF-8 JSON.
        ObjectNotFoundError
            There is no such object.
        """
        data = self.download_object(object_name, progress=progress)
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MetadataError(f"Object {object_name!r} is not JSON: {exc}") from None

    def upload_pickle(self, object_name: str, data_object: Any, acl: str | None = None, threads: int | None = None, *,
                      progress: Progress = NO_PROGRESS, **metadata: Any) -> ObjectInfo:
        """Store ``pickle.dumps(data_object)``, marked ``cc-codec: pickle`` (0.4 reads it as a pickle too).

        Parameters
        ----------
        object_name : str
            The object's name in this bucket, or a URL on this backend (``s3://bucket/key``).
        data_object : object
            Anything picklable.
        acl : str, optional
            Canned ACL of the new object (S3); default ``[basic] default_acl``.
        threads : int, optional
            Parallel parts for a large upload; default ``[basic] threads``.
        progress : Progress or bool, optional
            Told the size and the bytes as they move; default: a bar for a large transfer in a terminal.
        **metadata
            User metadata stored with the object (strings).

        Returns
        -------
        ObjectInfo
            The stored object's ``name``, ``size``, ``metadata`` and ``version``.
        """
        encoded = Encoded(Payload([pickle.dumps(data_object, protocol=pickle.HIGHEST_PROTOCOL)]))
        return self._put_encoded(object_name, encoded, PICKLE_CODEC, None, metadata, acl, threads, progress)

    def download_pickle(self, object_name: str, threads: int | None = None, *, progress: Progress = NO_PROGRESS) -> Any:
        """Unpickle an object written by :meth:`upload_pickle`. Unpickling runs code: only read
        pickles you wrote yourself.

        Objects that record another codec, or none (bytes written by ``upload_object`` or
        ``upload_from_file``, which someone else may have chosen), are refused before unpickling;
        so are objects without any metadata, as cottoncandy 0.4 wrote pickles, except on a plain
        interface. ``[basic] allow_pickle = False`` refuses every pickle; nothing else in
        cottoncandy ever unpickles.

        Parameters
        ----------
        object_name : str
            The object's name in this bucket, or a URL on this backend (``s3://bucket/key``).
        threads : int, optional
            Ignored; kept for cottoncandy 0.4 code (reads use ``[basic] threads``).
        progress : Progress or bool, optional
            Told the size and the bytes as they move; default: a bar for a large transfer in a terminal.

        Returns
        -------
        object

        Raises
        ------
        MetadataError
            The object was not written by ``upload_pickle``.
        CottonCandyError
            ``[basic] allow_pickle`` is False.
        """
        if not self.settings.getboolean("basic", "allow_pickle", fallback=True):
            raise CottonCandyError(
                "download_pickle is switched off ([basic] allow_pickle = False): unpickling runs code"
            )

        def unpickle(info: ObjectInfo, source: Any) -> Any:
            written_by = info.metadata.get(CODEC_KEY)
            from_04 = not self.pipeline.always and not any(k.lower().startswith(RESERVED_PREFIX) for k in info.metadata)
            if written_by != PICKLE_CODEC and not from_04:
                encrypted_note = ("; pickles without metadata are read only by an unencrypted interface"
                                  if self.pipeline.always else "")
                raise MetadataError(
                    f"Object {info.name!r} was not written by upload_pickle "
                    f"(its codec: {written_by or 'none, plain bytes'}{encrypted_note}). "
                    "Unpickling runs code, so download_pickle reads only pickles; read this object with "
                    "download_object or the download method that wrote it"
                )
            return pickle.loads(source.read())

        return self._read(object_name, unpickle, progress)

    # -- files and folders ---------------------------------------------------------------------
    def upload_from_file(
        self,
        flname: str | os.PathLike[str],
        object_name: str | None = None,
        ExtraArgs: Mapping[str, Any] | None = None,
        threads: int | None = None,
        *,
        progress: Progress = NO_PROGRESS,
        **metadata: Any,
    ) -> ObjectInfo:
        """Upload a file from disk (streamed, never read whole into memory).

        Parameters
        ----------
        flname : str or path
            The file.
        object_name : str, optional
            The object's name; default: the file's path.
        ExtraArgs : dict, optional
            boto3's upload options as 0.4 took them; only ``ACL`` is used.
        threads : int, optional
            Parallel parts for a large upload; default ``[basic] threads``.
        progress : Progress or bool, optional
            Told the size and the bytes as they move; default: a bar for a large transfer in a terminal.
        **metadata
            User metadata stored with the object (strings).

        Returns
        -------
        ObjectInfo
            The stored object's ``name``, ``size``, ``metadata`` and ``version``.
        """
        acl = (ExtraArgs or {}).get("ACL")
        with open(flname, "rb") as file:
            payload = Payload(stream=file, size=os.fstat(file.fileno()).st_size)
            return self.upload_object(object_name or os.fspath(flname), payload, acl, threads, progress=progress,
                                      **metadata)

    def upload_from_directory(
        self,
        disk_path: str | os.PathLike[str],
        cloud_path: str | None = None,
        recursive: bool = False,
        ExtraArgs: Mapping[str, Any] | None = None,
        threads: int | None = None,
        *,
        progress: Progress = NO_PROGRESS,
    ) -> list[str]:
        """Upload the files of a folder (and its subfolders if ``recursive``).

        Parameters
        ----------
        disk_path : str or path
            The folder.
        cloud_path : str, optional
            The folder's name in the bucket; default: ``disk_path``.
        recursive : bool
            Include subfolders.
        ExtraArgs : dict, optional
            boto3's upload options as 0.4 took them; only ``ACL`` is used.
        threads : int, optional
            Parallel parts for a large upload; default ``[basic] threads``.
        progress : Progress or bool, optional
            Follows the bytes of all the files together; default: a bar for a large upload.

        Returns
        -------
        list of str
            The names written.
        """
        disk_path = Path(disk_path)
        cloud_path = cloud_path if cloud_path is not None else os.fspath(disk_path)
        files: list[tuple[Path, str]] = []

        def collect(folder: Path, target: str) -> None:
            for entry in sorted(folder.iterdir()):
                if entry.is_file():
                    files.append((entry, names.join(target, entry.name)))
                elif entry.is_dir() and recursive:
                    collect(entry, names.join(target, entry.name))

        collect(disk_path, cloud_path)
        sizes = [file.stat().st_size for file, _ in files]
        with self._progress(progress, f"upload {disk_path.name or disk_path}") as progress:
            progress.set_size(sum(sizes))
            for (file, target), size in zip(files, sizes, strict=True):
                share = ShareOfTotal(progress, size)
                self.upload_from_file(file, target, ExtraArgs, threads, progress=share)
                share.finish()
        return [names.object_name(target) for _, target in files]

    def download_to_file(
        self, object_name: str, file_name: str | os.PathLike[str], threads: int | None = None, *,
        progress: Progress = NO_PROGRESS,
    ) -> str:
        """Write an object's (decoded) content to a file; a failure leaves no partial file.

        Parameters
        ----------
        object_name : str
            The object's name in this bucket, or a URL on this backend (``s3://bucket/key``).
        file_name : str or path
            The file to write (its folder is created); replaced atomically.
        threads : int, optional
            Ignored; kept for cottoncandy 0.4 code (reads use ``[basic] threads``).
        progress : Progress or bool, optional
            Told the size and the bytes as they move; default: a bar for a large transfer in a terminal.

        Returns
        -------
        str
            The file's absolute path.

        Raises
        ------
        ObjectNotFoundError
            There is no such object.
        IntegrityError
            The stored bytes fail their checksum (or, on an encrypted interface, are not encrypted).
        """
        destination = Path(file_name).expanduser().absolute()
        destination.parent.mkdir(parents=True, exist_ok=True)

        def write_file(info: ObjectInfo, source: Any) -> None:
            descriptor, temp = _temporary_file(destination)
            try:
                try:
                    _write_source(source, descriptor)
                finally:
                    os.close(descriptor)
                os.replace(temp, destination)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise

        self._read(object_name, write_file, progress)
        return str(destination)

    def download_directory(
        self, directory: str, disk_name: str | os.PathLike[str], *, progress: Progress = NO_PROGRESS
    ) -> list[str]:
        """Download every object under ``directory`` into the folder ``disk_name``.

        Parameters
        ----------
        directory : str
            A folder in the bucket.
        disk_name : str or path
            The local folder; objects keep their names below it.
        progress : Progress or bool, optional
            Follows the bytes of all the objects together; default: a bar for a large download.

        Returns
        -------
        list of str
            The files written.
        """
        prefix = names.prefix_name(directory)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        written = []
        objects = self.get_objects(prefix)
        with self._progress(progress, f"download {prefix or self.backend.describe()}") as progress:
            progress.set_size(sum(info.size for info in objects))
            for info in objects:
                share = ShareOfTotal(progress, info.size)
                target = Path(disk_name, *info.name[len(prefix):].split("/"))
                written.append(self.download_to_file(info.name, target, progress=share))
                share.finish()
        return written

    download_to_directory = download_directory

    # -- raw arrays ----------------------------------------------------------------------------
    def upload_raw_array(
        self,
        object_name: str,
        array: np.ndarray,
        compression: TransformSpec = None,
        acl: str | None = None,
        threads: int | None = None,
        *,
        transforms: TransformSpec = None,
        progress: Progress = NO_PROGRESS,
        **metadata: Any,
    ) -> ObjectInfo:
        """Upload an array's raw bytes (optionally compressed) with dtype/shape/order metadata.

        Parameters
        ----------
        object_name : str
            The object's name in this bucket, or a URL on this backend (``s3://bucket/key``).
        array : numpy.ndarray
            Any numeric or structured dtype, any memory order; object dtypes and masked arrays
            are refused.
        compression : bool or str, optional
            ``True`` = the configured compression for the array's size, ``False`` = none, or a
            name (``'zstd'``, ``'gzip'``, ``'lz4'``, ...). Default: ``[compression] do_compression``
            unless ``[pipeline] transforms`` sets a chain.
        acl : str, optional
            Canned ACL of the new object (S3); default ``[basic] default_acl``.
        threads : int, optional
            Parallel parts for a large upload; default ``[basic] threads``.
        transforms : str or list of str, optional
            A full transform chain, overriding ``compression``.
        progress : Progress or bool, optional
            Told the size and the bytes as they move; default: a bar for a large transfer in a terminal.
        **metadata
            User metadata stored with the object (strings); 0.4's ``gzip=True`` is deprecated
            (``compression='gzip'``).

        Returns
        -------
        ObjectInfo
            The stored object's ``name``, ``size``, ``metadata`` and ``version``.

        Raises
        ------
        InvalidArrayError
            The array cannot be stored (object dtype, masked array).
        """
        if "gzip" in metadata:
            warn("gzip= is deprecated; use compression='gzip'", DeprecationWarning)
            compression = "gzip" if metadata.pop("gzip") else False
        if transforms is None and isinstance(array, np.ndarray):
            transforms = self.pipeline.compression_for(compression, array.nbytes)
        return self.put_value(object_name, array, "raw", transforms=transforms, metadata=metadata, acl=acl,
                              threads=threads, progress=progress)

    def download_raw_array(
        self, object_name: str, buffersize: int | None = None, threads: int | None = None, *,
        progress: Progress = NO_PROGRESS, **kwargs: Any
    ) -> np.ndarray:
        """Read an array written by :meth:`upload_raw_array` (or by cottoncandy 0.4).

        The result is writable and in the memory order it was stored in; uncompressed data is read
        straight into it.

        Parameters
        ----------
        object_name : str
            The object's name in this bucket, or a URL on this backend (``s3://bucket/key``).
        buffersize : int, optional
            Ignored; kept for cottoncandy 0.4 code.
        threads : int, optional
            Ignored; kept for cottoncandy 0.4 code (reads use ``[basic] threads``).
        progress : Progress or bool, optional
            Told the size and the bytes as they move; default: a bar for a large transfer in a terminal.
        **kwargs
            Ignored; kept for cottoncandy 0.4 code.

        Returns
        -------
        numpy.ndarray

        Raises
        ------
        ObjectNotFoundError
            There is no such object.
        IntegrityError
            The stored bytes fail their checksum (or, on an encrypted interface, are not encrypted).
        """
        return self.get_value(object_name, "raw", progress=progress)

    def open_array(self, object_name: str, *, threads: int | None = None, gap: int | None = None,
                   part_size: int | None = None) -> Any:
        """A lazy, read-only view of a stored array: indexing reads only the bytes it selects.

        Nothing but the object's metadata (and an npy header, a seek table, an encryption header)
        is read here. ``a[10:20]``, ``a[:, 3]``, ``a[..., ::-2]``, ``a[()]`` (numpy basic indexing)
        read the byte ranges that hold the selection, near ranges merged, in parallel; encrypted
        objects read and authenticate only the segments those ranges lie in, ``zstd-seekable``
        objects decompress only the frames they lie in (encrypted or not). Objects without random
        access (whole-object compression: ``zstd``, ``gzip``, ..., cottoncandy 0.4's compressed
        arrays) are read whole on first use and sliced in memory: ``seekable`` is False and the
        repr says so.

        Parameters
        ----------
        object_name : str
            An array written by :meth:`upload_raw_array` or :meth:`upload_npy_array`, or a URL on this backend.
        threads : int, optional
            Ranges read at once; default ``[basic] threads``.
        gap : int, optional
            Parts of a selection at most this many bytes apart are read in one request (the bytes
            between are read and dropped); default 256 KiB.
        part_size : int, optional
            Longer ranges are read in parts of this size, in parallel; default 16 MiB.

        Returns
        -------
        cc_core.lazy_array.LazyArray
            ``shape``, ``dtype``, ``ndim``, ``size``, ``nbytes``, ``len()``, ``np.asarray(a)``,
            indexing, and ``to_dask(chunks)``.

        Raises
        ------
        ObjectNotFoundError
            There is no such object.
        MetadataError
            The object is not an array stored in one object.
        IntegrityError
            On an encrypted interface, the object is not encrypted.

        Examples
        --------
        >>> a = cci.open_array("recordings/big")        # doctest: +SKIP
        >>> a[1000:1010].shape                          # doctest: +SKIP
        (10, 4096)
        """
        from .lazy_array import LazyArray

        return LazyArray.open(self, object_name, threads=threads, gap=gap, part_size=part_size)

    # -- formats provided by codec plugins -----------------------------------------------------
    def upload_npy_array(self, object_name: str, array: np.ndarray, acl: str | None = None, threads: int | None = None,
                         *, progress: Progress = NO_PROGRESS, **metadata: Any) -> ObjectInfo:
        """Store an array as standard ``.npy`` bytes (``np.load`` reads the object as it is).

        Parameters
        ----------
        object_name : str
            The object's name in this bucket, or a URL on this backend (``s3://bucket/key``).
        array : numpy.ndarray
        acl : str, optional
            Canned ACL of the new object (S3); default ``[basic] default_acl``.
        threads : int, optional
            Parallel parts for a large upload; default ``[basic] threads``.
        progress : Progress or bool, optional
            Told the size and the bytes as they move; default: a bar for a large transfer in a terminal.
        **metadata
            User metadata stored with the object (strings).

        Returns
        -------
        ObjectInfo
            The stored object's ``name``, ``size``, ``metadata`` and ``version``.
        """
        return self.put_value(object_name, array, "npy", metadata=metadata, acl=acl, threads=threads, progress=progress)

    def download_npy_array(self, object_name: str, threads: int | None = None, *,
                           progress: Progress = NO_PROGRESS) -> np.ndarray:
        """Read an array written by :meth:`upload_npy_array`.

        Parameters
        ----------
        object_name : str
            The object's name in this bucket, or a URL on this backend (``s3://bucket/key``).
        threads : int, optional
            Ignored; kept for cottoncandy 0.4 code (reads use ``[basic] threads``).
        progress : Progress or bool, optional
            Told the size and the bytes as they move; default: a bar for a large transfer in a terminal.

        Returns
        -------
        numpy.ndarray

        Raises
        ------
        ObjectNotFoundError
            There is no such object.
        IntegrityError
            The stored bytes fail their checksum (or, on an encrypted interface, are not encrypted).
        """
        return self.get_value(object_name, "npy", progress=progress)

    def upload_dask_array(self, object_name: str, arr: Any, axis: int | None = -1, buffersize: int | None = None,
                          threads: int | None = None, *, compression: TransformSpec = None, compute: bool = True,
                          **metakwargs: Any) -> Any:
        """Store a dask (or numpy) array as one object per chunk plus ``metadata.json`` (0.4's layout).

        A dask array is computed on the active dask scheduler: with a ``dask.distributed`` Client,
        each worker computes and stores its own chunks (hand them credentials and keys with
        :func:`cc_core.distributed.setup`) and this process writes only ``metadata.json``.

        Parameters
        ----------
        object_name : str
            The array's folder.
        arr : dask.array.Array or numpy.ndarray
        axis : int, optional
            For a numpy array: the axis to chunk along (0.4's convention); None = one chunk.
        buffersize : int, optional
            For a numpy array: bytes per chunk; default ``[upload_settings] dask_chunksize`` MB.
        threads : int, optional
            Chunks uploaded at once when no dask scheduler is active; default ``[basic] threads``.
        compression : bool or str, optional
            Compression of each chunk, as for :meth:`upload_raw_array`.
        compute : bool
            False: return a ``dask.delayed.Delayed`` that stores everything when computed.
        **metakwargs
            User metadata of ``metadata.json`` (names of other methods' parameters are refused).

        Returns
        -------
        None, or dask.delayed.Delayed with ``compute=False``
        """
        check_metadata_names("upload_dask_array", metakwargs)
        return self._layout("dask").upload(self._layout_store, object_name, arr, axis=axis, buffersize=buffersize,
                                           threads=threads, compression=compression, compute=compute, **metakwargs)

    def dask_target(self, object_name: str, like: Any, *, compression: TransformSpec = None, **metadata: Any) -> Any:
        """A target for ``da.store(x, target)`` storing ``x`` in :meth:`upload_dask_array`'s layout.

        ``like`` is a dask array with the shape, dtype and chunks that will be stored;
        ``metadata.json`` is written now and each chunk as ``da.store`` computes it (on the
        workers of a ``dask.distributed`` Client). Regions must be whole chunks of ``like``.

        Parameters
        ----------
        object_name : str
            The array's folder.
        like : dask.array.Array
            An array with the shape, dtype and chunks of what will be stored.
        compression : bool or str, optional
            Compression of each chunk.
        **metadata
            User metadata of ``metadata.json``.

        Returns
        -------
        object
            A target with ``__setitem__``, for ``da.store``.
        """
        check_metadata_names("dask_target", metadata)
        return self._layout("dask").target(self._layout_store, object_name, like, compression=compression, **metadata)

    def download_dask_array(self, object_name: str, dask_name: str = "array", threads: int | None = None) -> Any:
        """A lazy dask array over an array stored by :meth:`upload_dask_array`.

        Parameters
        ----------
        object_name : str
            The array's folder.
        dask_name : str
            The dask graph's name.
        threads : int, optional
            Ignored; kept for cottoncandy 0.4 code (dask schedules the reads).

        Returns
        -------
        dask.array.Array
        """
        return self._layout("dask").download(self._layout_store, object_name, dask_name=dask_name, threads=threads)

    def upload_sparse_array(self, object_name: str, arr: Any, threads: int | None = None, **metadata: Any) -> Any:
        """Store a 2-d scipy.sparse array as one raw array per attribute (data, indices, ...).

        Parameters
        ----------
        object_name : str
            The array's folder.
        arr : scipy.sparse matrix or array
        threads : int, optional
            Attributes uploaded at once; default ``[basic] threads``.
        **metadata
            User metadata stored with the array.

        Returns
        -------
        object
            What the sparse codec returns.
        """
        check_metadata_names("upload_sparse_array", {k: v for k, v in metadata.items() if k != "compression"})
        return self._layout("sparse").upload(self._layout_store, object_name, arr, threads=threads, **metadata)

    def download_sparse_array(self, object_name: str, threads: int | None = None) -> Any:
        """Read an array written by :meth:`upload_sparse_array`.

        Parameters
        ----------
        object_name : str
            The array's folder.
        threads : int, optional
            Attributes read at once; default ``[basic] threads``.

        Returns
        -------
        scipy.sparse matrix or array
        """
        return self._layout("sparse").download(self._layout_store, object_name, threads=threads)

    def dict2cloud(self, object_name: str, array_dict: Mapping[str, Any], acl: str | None = None, verbose: bool = True,
                   threads: int | None = None, **metadata: Any) -> Any:
        """Store a (nested) dict of arrays as a group: one raw array per leaf, in parallel.

        Parameters
        ----------
        object_name : str
            The group's folder (0.4's convention: a name ending in ``.grp``).
        array_dict : dict
            Arrays, and dicts of them, to any depth.
        acl : str, optional
            Canned ACL of the new objects (S3).
        verbose : bool
            Print when done (as 0.4 did).
        threads : int, optional
            Arrays uploaded at once; default ``[basic] threads``.
        **metadata
            User metadata stored with every array.

        Returns
        -------
        object
            What the group codec returns.
        """
        check_metadata_names("dict2cloud", {k: v for k, v in metadata.items() if k != "compression"})
        return self._layout("group").upload(self._layout_store, object_name, array_dict, acl=acl, verbose=verbose,
                                             threads=threads, **metadata)

    def cloud2dict(self, object_root: str, verbose: bool = True, keys: Iterable[str] | str | None = None,
                   threads: int | None = None, **metadata: Any) -> Any:
        """Read a group written by :meth:`dict2cloud` back into a (nested) dict of arrays.

        Parameters
        ----------
        object_root : str
            The group's folder.
        verbose : bool
            Print when done (as 0.4 did).
        keys : str or list of str, optional
            Read only these leaves.
        threads : int, optional
            Arrays read at once; default ``[basic] threads``.
        **metadata
            Ignored; kept for cottoncandy 0.4 code.

        Returns
        -------
        dict
        """
        return self._layout("group").download(self._layout_store, object_root, verbose=verbose, keys=keys,
                                              threads=threads)

    def cloud2dataset(self, object_root: str, verbose: bool = True, **kwargs: Any) -> Any:
        """A lazy, h5py-like view of a group: nothing is downloaded until asked for.

        Row slices of an uncompressed dataset read only those rows (through
        :meth:`Pipeline.read_range <cc_core.pipeline.Pipeline.read_range>`).

        Parameters
        ----------
        object_root : str
            The group's folder.
        verbose : bool
            Ignored; kept for cottoncandy 0.4 code.
        **kwargs
            Passed to the group codec.

        Returns
        -------
        cc_codec_npy.group.Group
        """
        return self._layout("group").download(self._layout_store, object_root, lazy=True, verbose=verbose, **kwargs)

    def upload_hdf5(self, object_name: str, file_name: str | os.PathLike[str], **options: Any) -> Any:
        """Store the datasets of an HDF5 file as a group, with a sidecar for its attributes.

        Parameters
        ----------
        object_name : str
            The group's folder.
        file_name : str or path
            The HDF5 file.
        **options
            Passed to the HDF5 codec (``threads=``, ``compression=``).

        Returns
        -------
        object
            What the HDF5 codec returns.
        """
        return self._layout("hdf5").upload(self._layout_store, object_name, file_name, **options)

    def download_hdf5(self, object_name: str, file_name: str | os.PathLike[str], **options: Any) -> Any:
        """Write a group stored by :meth:`upload_hdf5` back to an HDF5 file.

        Parameters
        ----------
        object_name : str
            The group's folder.
        file_name : str or path
            The HDF5 file to write.
        **options
            Passed to the HDF5 codec.

        Returns
        -------
        object
            What the HDF5 codec returns.
        """
        return self._layout("hdf5").download(self._layout_store, object_name, file_name=file_name, **options)

    # -- listing -------------------------------------------------------------------------------
    def lsdir(self, path: str = "/", limit: int | None = None) -> list[str]:
        """The direct children of ``path`` (objects and "folders"), as full names, sorted.

        Parameters
        ----------
        path : str
            A folder (not a pattern); ``"/"`` = the top of the bucket.
        limit : int, optional
            Keep the first this many.

        Returns
        -------
        list of str

        Raises
        ------
        ValueError
            ``path`` is a pattern: use :meth:`ls` or :meth:`glob`.
        """
        if has_magic(path.rstrip("*").rstrip("/")):
            raise ValueError(f"lsdir takes a folder, not a pattern ({path!r}); use ls() or glob()")
        backend, prefix, shown = self.locate(path.rstrip("*"), folder=True)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        found = [shown + entry.name.rstrip("/") for entry in backend.list(prefix, delimiter="/")]
        return sorted(found)[:limit]

    def ls(self, pattern: str = "", page_size: int | None = None, limit: int | None = None,
           verbose: bool = False) -> list[str]:
        """Like the shell's ``ls``: a folder's children, or the names at a pattern's depth.

        A pattern matches objects and "folders" alike: ``ls('exp/*/run?')`` gives the names at
        the third level, and with ``**`` names at any depth.

        Parameters
        ----------
        pattern : str
            A folder or a pattern.
        page_size : int, optional
            Ignored; kept for cottoncandy 0.4 code.
        limit : int, optional
            Keep the first this many.
        verbose : bool
            Also print them.

        Returns
        -------
        list of str
            Sorted.
        """
        if pattern.endswith("/*") and not has_magic(pattern[:-2]):
            pattern = pattern[:-2]
        if not has_magic(pattern):
            found = self.lsdir(pattern, limit)
        else:
            backend, pattern, shown = self.locate(pattern, folder=True)
            pattern = pattern.rstrip("/")
            depth = pattern.count("/") + 1
            found = set()
            for entry in backend.list(literal_prefix(pattern)):
                parts = entry.name.split("/")
                for cut in range(1, len(parts) + 1) if "**" in pattern else (depth,):
                    candidate = "/".join(parts[:cut])
                    if matches(pattern, candidate):
                        found.add(shown + candidate)
            found = sorted(found)[:limit]
        if verbose:
            print("\n".join(found))
        return found

    def glob(self, pattern: str, **kwargs: Any) -> list[str]:
        """Sorted names of the objects matching ``pattern``.

        ``*`` stays within a path segment, ``**`` spans any depth; a pattern without wildcards
        gives every object under it (as in cottoncandy 0.4). Only names under the pattern's
        literal prefix are listed.

        Parameters
        ----------
        pattern : str
            A pattern, a folder, or a URL on this backend.
        **kwargs
            ``limit=`` keeps the first so many; ``verbose=True`` prints them; others are ignored
            (cottoncandy 0.4's ``page_size``).

        Returns
        -------
        list of str
        """
        backend, pattern, shown = self.locate(pattern, folder=True)
        if not has_magic(pattern):
            folder = pattern.rstrip("/")
            found = [shown + e.name for e in backend.list(folder) if isinstance(e, ObjectInfo)
                     and (e.name == folder or e.name.startswith(folder + "/") or not folder)]
        else:
            found = [shown + e.name for e in backend.list(literal_prefix(pattern))
                     if isinstance(e, ObjectInfo) and matches(pattern, e.name)]
        limit = kwargs.get("limit")
        result = sorted(found)[:limit]
        if kwargs.get("verbose"):
            print("\n".join(result))
            print(f'Found {len(result)} objects matching "{pattern}"')
        return result

    def search(self, pattern: str, **kwargs: Any) -> list[str]:
        """:meth:`glob` that prints what it found.

        Parameters
        ----------
        pattern : str
        **kwargs
            As :meth:`glob`.

        Returns
        -------
        list of str
        """
        return self.glob(pattern, verbose=True, **kwargs)

    def get_browser(self, path: str = "") -> Any:
        """An object that tab-completes through the bucket like a filesystem (see :mod:`cc_core.browser`).

        Parameters
        ----------
        path : str
            The folder to start in.

        Returns
        -------
        cc_core.browser.Browser
        """
        from .browser import Browser

        return Browser(self, path)

    # -- copy, move, remove --------------------------------------------------------------------
    def cp(self, source_name: str, dest_name: str, source_bucket: str | None = None, dest_bucket: str | None = None,
           overwrite: bool = False) -> list[str]:
        """Copy an object, or every object under a folder, keeping metadata (server-side where possible).

        The objects of a folder are copied in parallel (``[basic] threads``). Copying an object
        onto itself does nothing; a folder into itself is refused. See :mod:`cc_core.copying`.

        Parameters
        ----------
        source_name : str
            An object, or a folder whose objects are copied; a name or a URL on this backend.
        dest_name : str
            The copy's name (for a folder, the new folder: objects keep their names below it).
        source_bucket, dest_bucket : str, optional
            Other buckets (S3) or root folders (local) of this backend; default: this bucket.
        overwrite : bool
            Replace objects that exist; without it nothing is written if any exists.

        Returns
        -------
        list of str
            The names written.

        Raises
        ------
        ObjectNotFoundError
            Nothing is at ``source_name``.
        ObjectExistsError
            A destination object exists and ``overwrite`` is False.
        CottonCandyError
            The destination is inside the source folder.
        """
        return copying.copy(self._selection(source_name, source_bucket), self._place(dest_name, dest_bucket),
                            overwrite=overwrite, rebind=self._rebind())

    def mv(self, source_name: str, dest_name: str, source_bucket: str | None = None, dest_bucket: str | None = None,
           overwrite: bool = False) -> list[str]:
        """Move an object or a folder: :meth:`cp`, then delete the objects copied.

        The source is listed once, before anything is written, and its objects are deleted only
        after every copy succeeded; an object written under the source meanwhile stays.

        Parameters
        ----------
        source_name : str
            An object, or a folder whose objects are moved; a name or a URL on this backend.
        dest_name : str
            The new name (for a folder, the new folder).
        source_bucket, dest_bucket : str, optional
            Other buckets (S3) or root folders (local) of this backend; default: this bucket.
        overwrite : bool
            Replace objects that exist; without it nothing is written if any exists.

        Returns
        -------
        list of str
            The names written.

        Raises
        ------
        ObjectNotFoundError
            Nothing is at ``source_name``.
        ObjectExistsError
            A destination object exists and ``overwrite`` is False.
        CottonCandyError
            The destination is inside the source folder.
        """
        return copying.move(self._selection(source_name, source_bucket), self._place(dest_name, dest_bucket),
                            overwrite=overwrite, rebind=self._rebind())

    def rm(self, object_name: str, recursive: bool = False, delete: bool = True) -> list[str]:
        """Remove an object, or with ``recursive=True`` everything under a folder.

        Parameters
        ----------
        object_name : str
            An object or a folder; a name or a URL on this backend.
        recursive : bool
            Remove a folder and every object under it. When nothing is under the name, warn
            (as cottoncandy 0.4 printed "nothing found under ...") and return ``[]``.
        delete : bool
            Ignored; kept for cottoncandy 0.4 code.

        Returns
        -------
        list of str
            The names removed.

        Raises
        ------
        ObjectNotFoundError
            No object has the name, and ``recursive`` is False.
        CottonCandyError
            The name is a folder, and ``recursive`` is False.
        """
        return copying.remove(self._selection(object_name), recursive=recursive)

    def _rebind(self) -> copying.Rebind | None:
        """What re-seals copies for their new names (encrypted interfaces), else None."""
        return self.pipeline.rebind if self.pipeline.binds_places else None

    def _place(self, name: str, bucket_name: str | None = None) -> copying.Place:
        backend, key, _ = self.locate(name, bucket_name)
        return copying.Place(backend, key)

    def _selection(self, name: str, bucket_name: str | None = None) -> copying.Selection:
        return copying.select(self._place(name, bucket_name))


def _temporary_file(destination: Path) -> tuple[int, str]:
    """A new file beside ``destination`` to write it in, with the mode any tool gives a new file
    (0666 less the umask; ``tempfile.mkstemp`` would make it 0600): ``(descriptor, path)``,
    open for reading too (the checksum is computed from what was written)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        path = destination.parent / f".{destination.name}.{secrets.token_hex(4)}.cc-part"
        try:
            return os.open(path, flags, 0o666), str(path)
        except FileExistsError:
            continue
    raise FileExistsError(f"No free temporary name beside {destination}")


def _write_source(source: Any, descriptor: int) -> None:
    """Write a pipeline source's bytes to the empty file open as ``descriptor``.

    Stored bytes that need no decoding are written by the backend as it reads them (parallel
    ranges on S3, each through a reused buffer and ``os.pwrite``; see
    :meth:`Backend.get_into_file`); decoded bytes are written as the chain produces them.
    """
    if isinstance(source, DirectSource):
        source.write_to(descriptor)
        return
    while (chunk := source.next_chunk()) is not None:
        source.consume(os.write(descriptor, chunk))


def _open_stream(info: ObjectInfo, source: Any) -> CloudStream:
    return CloudStream(io.BufferedReader(SourceReader(source), 1 << 20), info.metadata)  # type: ignore[arg-type]


__all__ = ["CCInterface", "CloudStream", "ObjectExistsError", "Prefix"]
