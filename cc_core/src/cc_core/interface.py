"""The object users hold: cottoncandy 0.4's interface, on any backend.

Method names and signatures are those of cottoncandy 0.4's ``DefaultInterface``, so existing
scripts run unchanged; every method works through the stage interfaces (backend, codec, transforms)
and so on every backend a plugin provides. Methods for formats that live in plugins (npy, dask,
sparse, groups, HDF5) find their codec by name and say what to install when it is missing.
"""

from __future__ import annotations

import io
import json
import mmap
import os
import pickle
import secrets
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .backend import Backend, ObjectInfo, Prefix
from .codec import Encoded, LayoutCodec
from .layout_store import InterfaceLayoutStore
from .config import Config, is_secret, load_config
from .errors import (CottonCandyError, IntegrityError, InvalidNameError, MetadataError, ObjectChangedError,
                     ObjectExistsError, ObjectNotFoundError)
from .metadata import CODEC_KEY, PICKLE_CODEC, RESERVED_PREFIX, codec_name, user_metadata
from . import copying, names
from .patterns import has_magic, literal_prefix, matches
from .payload import Payload
from .pipeline import Pipeline, TransformSpec
from .plugins import PluginManager, get_plugin_manager
from .progress import NO_PROGRESS, Progress
from .progressbar import ShareOfTotal, automatic_progress, progress_for


_READ_ATTEMPTS = 5


class CloudStream:
    """An object's content as a file object plus its metadata (as in cottoncandy 0.4)."""

    def __init__(self, content: BinaryIO, metadata: Mapping[str, str]) -> None:
        self.content = content
        self.metadata = dict(metadata)


class _SourceReader(io.RawIOBase):
    """A raw file object over a pipeline source (read whole, it is read in one go)."""

    def __init__(self, source: Any) -> None:
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:  # type: ignore[override]
        return self._source.readinto(memoryview(buffer).cast("B"))

    def readall(self) -> bytes:
        return self._source.read()


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
        ACCESS_KEY = same_parameter("CCInterface", "ACCESS_KEY", ACCESS_KEY, "access_key", kwargs.pop("access_key", None))
        SECRET_KEY = same_parameter("CCInterface", "SECRET_KEY", SECRET_KEY, "secret_key", kwargs.pop("secret_key", None))
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
        (``cottoncandy.localclient.LocalClient``), ``.bucket_name`` and ``.url`` of S3's."""
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

    def _locate(self, name: str, bucket_name: str | None = None, *, folder: bool = False) -> tuple[Backend, str, str]:
        """What ``name`` points at: ``(backend, key, shown_base)``.

        ``name`` is a name in this bucket (or in ``bucket_name``), or a URL on this interface's
        backend: ``s3://other-bucket/key``, ``file:///root/folder/key`` under the root folder.
        ``shown_base`` is what listings put before keys so that they read as the caller wrote
        them (the URL's ``scheme://bucket/``, else ``""``). ``folder`` accepts prefixes and patterns.
        """
        check = names.prefix_name if folder else names.object_name
        if "://" not in name:
            return self._bucket(bucket_name), check(name), ""
        scheme, bucket, key = names.split_url(name)
        serving = self.plugins.backend_for_url(name)
        if serving != self.backend_name:
            raise InvalidNameError(
                f"{name!r} is served by the {serving or 'no installed'} backend, not by this interface's "
                f"{self.backend_name!r} backend; open it with cc.get_interface('{scheme}://{bucket}')"
            )
        if scheme != "file":
            return self._bucket(bucket), check(key), f"{scheme}://{bucket}/"
        root = os.path.abspath(os.path.expanduser(self.backend.bucket or "/"))
        relative = os.path.relpath(os.path.normpath("/" + key), root)
        if relative == ".." or relative.startswith("../"):
            raise InvalidNameError(f"{name!r} lies outside this interface's root folder {root}")
        return self.backend, check("" if relative == "." else relative), f"file://{root}/"

    def __repr__(self) -> str:
        chain = f" transforms={self.pipeline.always}" if self.pipeline.always else ""
        return f"<cottoncandy interface {self.backend.describe()}{chain}>"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle without secrets: a worker resolves credentials again from its config/env."""
        public = {k: v for k, v in self._backend_options.items() if not is_secret(k)}
        endpoint = public.pop("endpoint_url", None)
        return (
            _rebuild_interface,
            (self.backend.bucket, endpoint, self.backend_name, tuple(self.pipeline.always),
             self.settings.path, public, self.backend.pickle_options()),
        )

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

        Returns the stored object's info: ``name``, ``size`` (bytes stored), ``metadata``,
        ``version`` (ETag, Drive file id, local inode:size) as :meth:`get_object` gives it.

        A layout codec (:class:`~cc_core.codec.LayoutCodec`) stores the value as several objects
        under ``name/`` and returns what its ``upload`` returns; it receives ``codec_options``, the
        ``metadata`` items as keywords and ``acl``/``threads`` when given.
        """
        codec_object = self._codec(codec)
        if isinstance(codec_object, LayoutCodec):
            given = {k: v for k, v in (("acl", acl), ("threads", threads), ("transforms", transforms)) if v is not None}
            return codec_object.upload(self._layout_store, name, value, **given, **(metadata or {}), **codec_options)
        return self._put_encoded(name, codec_object.encode(value, **codec_options), codec, transforms, metadata or {},
                                 acl, threads, progress)

    def _put_encoded(self, name: str, encoded: Encoded, codec: str | None, transforms: TransformSpec,
                     metadata: Mapping[str, Any], acl: str | None, threads: int | None, progress: Progress) -> ObjectInfo:
        """Store ``encoded`` as ``name``, recording ``codec`` (None: plain bytes) with it; returns its info."""
        backend, name, _ = self._locate(name)
        chain = self.pipeline.chain(transforms)
        extra = user_metadata(metadata, encoded.metadata)
        with self._progress(progress, f"upload {name}") as progress:
            return self.pipeline.write(backend, name, encoded, chain, codec, extra, progress=progress,
                                       **self._put_options(acl, threads))

    def get_value(self, name: str, codec: str, *, progress: Progress = NO_PROGRESS, **codec_options: Any) -> Any:
        """Read ``name`` with ``codec`` (the codec the object names must agree); a layout codec
        reads back what it stored under ``name/`` (``codec_options`` go to its ``download``)."""
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
        """Head the object and let ``consume(info, source)`` read it; again if a writer replaced
        the object in between, so the result is always one whole version."""
        backend, name, _ = self._locate(name)
        with self._progress(progress, f"download {name}") as progress:
            for attempt in range(_READ_ATTEMPTS):
                info = backend.head(name)
                try:
                    source = self.pipeline.source(backend, info, progress=progress)
                    result = consume(info, source)
                    source.verify()  # a consumer that stopped short of the end is checked too
                    return result
                except ObjectChangedError:
                    if attempt == _READ_ATTEMPTS - 1:
                        raise
                except IntegrityError:
                    # bytes of a newer version under this version's metadata (a local file's inode
                    # reused by a fast writer) fail the checksum: read again if the object changed
                    if attempt == _READ_ATTEMPTS - 1 or not _replaced(backend, info):
                        raise

    def _progress(self, progress: Progress | bool | None, description: str) -> Any:
        """The caller's progress object, or a bar for a large transfer in an interactive session
        (see :mod:`cc_core.progressbar`), as a context that closes the bar."""
        return progress_for(progress, settings=self.settings, verbose=self.verbose, description=description)

    # -- buckets -------------------------------------------------------------------------------
    @property
    def bucket_name(self) -> str | None:
        return self.backend.bucket

    def set_bucket(self, bucket_name: str) -> None:
        """Work in another bucket from now on."""
        self.backend = self._open_backend(bucket_name)

    def get_bucket(self) -> str | None:
        return self.backend.bucket

    def exists_bucket(self, bucket_name: str) -> bool:
        if not self.backend.capabilities.buckets:  # one bucket: the one this backend was opened on
            return bucket_name == self.backend.bucket
        return self.backend.bucket_exists(bucket_name)

    def create_bucket(self, bucket_name: str, acl: str | None = None) -> None:
        """Create a bucket and make it the current one (as 0.4 did)."""
        prefix = self.settings.get("basic", "mandatory_bucket_prefix", fallback="") or ""
        if prefix and not bucket_name.startswith(prefix):
            raise CottonCandyError(f"Bucket names must start with {prefix!r} ([basic] mandatory_bucket_prefix)")
        options = {"acl": acl} if acl else {}
        self.backend.create_bucket(bucket_name, **options)
        self.set_bucket(bucket_name)

    def rm_bucket(self, bucket_name: str) -> None:
        """Remove an empty bucket."""
        self.backend.delete_bucket(bucket_name)

    def show_buckets(self) -> list[str]:
        buckets = self.backend.list_buckets() if self.backend.capabilities.buckets else [str(self.backend.bucket)]
        for bucket in buckets:
            print(bucket)
        return buckets

    def get_objects(self, prefix: str = "", **kwargs: Any) -> list[ObjectInfo]:
        """Every object under ``prefix`` (or 0.4's ``filter={'Prefix': ...}``), no page limit."""
        prefix = kwargs.get("filter", {}).get("Prefix", prefix)
        return [e for e in self.backend.list(names.prefix_name(prefix)) if isinstance(e, ObjectInfo)]

    def get_bucket_objects(self, **kwargs: Any) -> list[ObjectInfo]:
        warnings.warn("Deprecated. Use get_objects() instead", DeprecationWarning, stacklevel=2)
        return self.get_objects(**kwargs)

    def get_size(self) -> int:
        """Total bytes of the objects in the bucket."""
        return sum(info.size for info in self.get_objects())

    def get_bucket_size(self, limit: int | None = None, page_size: int | None = None) -> int:
        warnings.warn("Deprecated, use get_size() instead", DeprecationWarning, stacklevel=2)
        return self.get_size()

    def show_objects(self, limit: int | None = None, page_size: int | None = None) -> None:
        for info in self.get_objects()[:limit]:
            print(f"{info.name:<60} {info.size / 2**20:10.2f}MB")

    # -- plain objects -------------------------------------------------------------------------
    def exists_object(self, object_name: str, bucket_name: str | None = None, raise_err: bool = False) -> bool:
        backend, name, _ = self._locate(object_name, bucket_name)
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
        """Store bytes, an array's buffer or a file object's content as one object; returns its
        info (see :meth:`put_value`)."""
        return self._put_encoded(object_name, Encoded(Payload.of(body)), None, transforms, metadata, acl, threads,
                                 progress)

    upload_stream = upload_object

    def download_stream(self, object_name: str, threads: int | None = None, *, progress: Progress = NO_PROGRESS) -> CloudStream:
        """The object's content as a readable file object (decoded, streamed) and its metadata."""
        backend, name, _ = self._locate(object_name)
        info = backend.head(name)
        progress = automatic_progress(progress, settings=self.settings, verbose=self.verbose, description=f"download {name}")
        source = self.pipeline.source(backend, info, progress=progress, streamed=True)
        return CloudStream(io.BufferedReader(_SourceReader(source), 1 << 20), info.metadata)  # type: ignore[arg-type]

    def download_object(self, object_name: str, threads: int | None = None, *, progress: Progress = NO_PROGRESS) -> bytes:
        return self._read(object_name, lambda info, source: source.read(), progress)

    def get_object(self, object_name: str, bucket_name: str | None = None) -> ObjectInfo:
        """Size, metadata and time of an object (0.4 returned a boto3 object; this works everywhere)."""
        backend, name, _ = self._locate(object_name, bucket_name)
        return backend.head(name)

    def upload_json(self, object_name: str, ddict: Any, acl: str | None = None, threads: int | None = 1, *, progress: Progress = NO_PROGRESS, **metadata: Any) -> ObjectInfo:
        return self.upload_object(object_name, json.dumps(ddict).encode("utf-8"), acl, threads, progress=progress, **metadata)

    def download_json(self, object_name: str, threads: int | None = 1, *, progress: Progress = NO_PROGRESS) -> Any:
        data = self.download_object(object_name, progress=progress)
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MetadataError(f"Object {object_name!r} is not JSON: {exc}") from None

    def upload_pickle(self, object_name: str, data_object: Any, acl: str | None = None, threads: int | None = None, *, progress: Progress = NO_PROGRESS, **metadata: Any) -> ObjectInfo:
        """Store ``pickle.dumps(data_object)``, marked ``cc-codec: pickle`` (0.4 reads it as a pickle too)."""
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
        """
        if not self.settings.getboolean("basic", "allow_pickle", fallback=True):
            raise CottonCandyError(
                "download_pickle is switched off ([basic] allow_pickle = False): unpickling runs code"
            )

        def unpickle(info: ObjectInfo, source: Any) -> Any:
            written_by = info.metadata.get(CODEC_KEY)
            from_04 = not self.pipeline.always and not any(k.lower().startswith(RESERVED_PREFIX) for k in info.metadata)
            if written_by != PICKLE_CODEC and not from_04:
                raise MetadataError(
                    f"Object {info.name!r} was not written by upload_pickle (its codec: {written_by or 'none, plain bytes'}"
                    f"{'; pickles without metadata are read only by an unencrypted interface' if self.pipeline.always else ''}). "
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
        """Upload a file from disk (streamed, never read whole into memory); returns its info."""
        acl = (ExtraArgs or {}).get("ACL")
        with open(flname, "rb") as file:
            return self.upload_object(object_name or os.fspath(flname), Payload(stream=file, size=os.fstat(file.fileno()).st_size),
                               acl, threads, progress=progress, **metadata)

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
        """Upload the files of a folder (and its subfolders if ``recursive``); returns the names.

        ``progress`` (or the automatic bar) follows the bytes of all the files together.
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
            for (file, target), size in zip(files, sizes):
                share = ShareOfTotal(progress, size)
                self.upload_from_file(file, target, ExtraArgs, threads, progress=share)
                share.finish()
        return [names.object_name(target) for _, target in files]

    def download_to_file(
        self, object_name: str, file_name: str | os.PathLike[str], threads: int | None = None, *, progress: Progress = NO_PROGRESS
    ) -> str:
        """Write an object's (decoded) content to a file; a failure leaves no partial file."""
        destination = Path(file_name).expanduser().absolute()
        destination.parent.mkdir(parents=True, exist_ok=True)

        def write_file(info: ObjectInfo, source: Any) -> None:
            descriptor, temp = _temporary_file(destination)
            try:
                with os.fdopen(descriptor, "wb") as file:
                    _write_source(source, file)
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

        ``progress`` (or the automatic bar) follows the bytes of all the objects together.
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

        Returns the stored object's info (see :meth:`put_value`).

        Parameters
        ----------
        compression : bool or str, optional
            ``True`` = the configured compression for the array's size, ``False`` = none, or a
            name (``'zstd'``, ``'gzip'``, ``'lz4'``, ...). Default: ``[compression] do_compression``
            unless ``[pipeline] transforms`` sets a chain.
        transforms : str or list of str, optional
            A full transform chain, overriding ``compression``.
        """
        if "gzip" in metadata:
            warnings.warn("gzip= is deprecated; use compression='gzip'", DeprecationWarning, stacklevel=2)
            compression = "gzip" if metadata.pop("gzip") else False
        if transforms is None and isinstance(array, np.ndarray):
            transforms = self.pipeline.compression_for(compression, array.nbytes)
        return self.put_value(object_name, array, "raw", transforms=transforms, metadata=metadata, acl=acl,
                              threads=threads, progress=progress)

    def download_raw_array(
        self, object_name: str, buffersize: int | None = None, threads: int | None = None, *, progress: Progress = NO_PROGRESS, **kwargs: Any
    ) -> np.ndarray:
        """Read an array written by :meth:`upload_raw_array` (or by cottoncandy 0.4).

        The result is writable and in the memory order it was stored in; uncompressed data is read
        straight into it.
        """
        return self.get_value(object_name, "raw", progress=progress)

    # -- formats provided by codec plugins -----------------------------------------------------
    def upload_npy_array(self, object_name: str, array: np.ndarray, acl: str | None = None, threads: int | None = None, *, progress: Progress = NO_PROGRESS, **metadata: Any) -> ObjectInfo:
        return self.put_value(object_name, array, "npy", metadata=metadata, acl=acl, threads=threads, progress=progress)

    def download_npy_array(self, object_name: str, threads: int | None = None, *, progress: Progress = NO_PROGRESS) -> np.ndarray:
        return self.get_value(object_name, "npy", progress=progress)

    def upload_dask_array(self, object_name: str, arr: Any, axis: int | None = -1, buffersize: int | None = None, threads: int | None = None, **metakwargs: Any) -> Any:
        return self._layout("dask").upload(self._layout_store, object_name, arr, axis=axis, buffersize=buffersize, threads=threads, **metakwargs)

    def download_dask_array(self, object_name: str, dask_name: str = "array", threads: int | None = None) -> Any:
        return self._layout("dask").download(self._layout_store, object_name, dask_name=dask_name, threads=threads)

    def upload_sparse_array(self, object_name: str, arr: Any, threads: int | None = None, **metadata: Any) -> Any:
        return self._layout("sparse").upload(self._layout_store, object_name, arr, threads=threads, **metadata)

    def download_sparse_array(self, object_name: str, threads: int | None = None) -> Any:
        return self._layout("sparse").download(self._layout_store, object_name, threads=threads)

    def dict2cloud(self, object_name: str, array_dict: Mapping[str, Any], acl: str | None = None, verbose: bool = True, threads: int | None = None, **metadata: Any) -> Any:
        return self._layout("group").upload(self._layout_store, object_name, array_dict, acl=acl, verbose=verbose, threads=threads, **metadata)

    def cloud2dict(self, object_root: str, verbose: bool = True, keys: Iterable[str] | str | None = None, threads: int | None = None, **metadata: Any) -> Any:
        return self._layout("group").download(self._layout_store, object_root, verbose=verbose, keys=keys, threads=threads)

    def cloud2dataset(self, object_root: str, verbose: bool = True, **kwargs: Any) -> Any:
        """A lazy, h5py-like view of a group: nothing is downloaded until asked for."""
        return self._layout("group").download(self._layout_store, object_root, lazy=True, verbose=verbose, **kwargs)

    def upload_hdf5(self, object_name: str, file_name: str | os.PathLike[str], **options: Any) -> Any:
        return self._layout("hdf5").upload(self._layout_store, object_name, file_name, **options)

    def download_hdf5(self, object_name: str, file_name: str | os.PathLike[str], **options: Any) -> Any:
        return self._layout("hdf5").download(self._layout_store, object_name, file_name=file_name, **options)

    # -- listing -------------------------------------------------------------------------------
    def lsdir(self, path: str = "/", limit: int | None = None) -> list[str]:
        """The direct children of ``path`` (objects and "folders"), as full names, sorted."""
        if has_magic(path.rstrip("*").rstrip("/")):
            raise ValueError(f"lsdir takes a folder, not a pattern ({path!r}); use ls() or glob()")
        backend, prefix, shown = self._locate(path.rstrip("*"), folder=True)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        found = [shown + entry.name.rstrip("/") for entry in backend.list(prefix, delimiter="/")]
        return sorted(found)[:limit]

    def ls(self, pattern: str = "", page_size: int | None = None, limit: int | None = None, verbose: bool = False) -> list[str]:
        """Like the shell's ``ls``: a folder's children, or the names at a pattern's depth.

        A pattern matches objects and "folders" alike: ``ls('exp/*/run?')`` gives the names at
        the third level, and with ``**`` names at any depth. Sorted; ``limit`` keeps the first.
        """
        if pattern.endswith("/*") and not has_magic(pattern[:-2]):
            pattern = pattern[:-2]
        if not has_magic(pattern):
            found = self.lsdir(pattern, limit)
        else:
            backend, pattern, shown = self._locate(pattern, folder=True)
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
        """
        backend, pattern, shown = self._locate(pattern, folder=True)
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
        """glob that prints what it found."""
        return self.glob(pattern, verbose=True, **kwargs)

    def get_browser(self, path: str = "") -> Any:
        """An object that tab-completes through the bucket like a filesystem (see :mod:`cc_core.browser`)."""
        from .browser import Browser

        return Browser(self, path)

    # -- copy, move, remove --------------------------------------------------------------------
    def cp(self, source_name: str, dest_name: str, source_bucket: str | None = None, dest_bucket: str | None = None, overwrite: bool = False) -> list[str]:
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
                            overwrite=overwrite)

    def mv(self, source_name: str, dest_name: str, source_bucket: str | None = None, dest_bucket: str | None = None, overwrite: bool = False) -> list[str]:
        """Move an object or a folder: :meth:`cp`, then delete the objects copied.

        The source is listed once, before anything is written, and its objects are deleted only
        after every copy succeeded; an object written under the source meanwhile stays.
        Parameters, returns and errors as :meth:`cp`.
        """
        return copying.move(self._selection(source_name, source_bucket), self._place(dest_name, dest_bucket),
                            overwrite=overwrite)

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

    def _place(self, name: str, bucket_name: str | None = None) -> copying.Place:
        backend, key, _ = self._locate(name, bucket_name)
        return copying.Place(backend, key)

    def _selection(self, name: str, bucket_name: str | None = None) -> copying.Selection:
        return copying.select(self._place(name, bucket_name))


def _temporary_file(destination: Path) -> tuple[int, str]:
    """A new file beside ``destination`` to write it in, with the mode any tool gives a new file
    (0666 less the umask; ``tempfile.mkstemp`` would make it 0600): ``(descriptor, path)``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        path = destination.parent / f".{destination.name}.{secrets.token_hex(4)}.cc-part"
        try:
            return os.open(path, flags, 0o666), str(path)
        except FileExistsError:
            continue
    raise FileExistsError(f"No free temporary name beside {destination}")


def _write_source(source: Any, file: BinaryIO) -> None:
    """Write a pipeline source's bytes to an empty ``file``.

    Stored bytes that need no decoding (a source of known size) land in the file's pages through
    a memory map, in one ``readinto``: the backend reads them as it reads an array (parallel
    ranges, straight from the socket). Decoded bytes are written as the chain produces them.
    """
    if source.size is None:
        while (chunk := source.next_chunk()) is not None:
            file.write(chunk)
            source.consume(len(chunk))
        return
    if not source.size:
        return
    try:
        os.ftruncate(file.fileno(), source.size)
        mapped = mmap.mmap(file.fileno(), source.size)
    except (OSError, ValueError):  # a file system without shared mappings: write from a buffer
        os.ftruncate(file.fileno(), 0)
        buffer = memoryview(bytearray(min(source.size, 64 << 20)))
        while count := source.readinto(buffer):
            file.write(buffer[:count])
        return
    view = memoryview(mapped)
    try:
        filled = 0
        while filled < len(view) and (count := source.readinto(view[filled:])):
            filled += count
    finally:
        try:
            view.release()
            mapped.close()
        except BufferError:  # parts of it are still held by a failure's traceback: closed with them
            pass


def _replaced(backend: Backend, info: ObjectInfo) -> bool:
    """Whether the object ``info`` described has been replaced since."""
    try:
        current = backend.head(info.name)
    except ObjectNotFoundError:
        return False
    return (current.version, current.size, dict(current.metadata)) != (info.version, info.size, dict(info.metadata))


def _rebuild_interface(bucket, endpoint, backend, transforms, settings_path, options, backend_options):
    settings = load_config(Path(settings_path), create=False) if settings_path else None
    # an interface that was itself unpickled has the backend's options among its own options too
    return CCInterface(bucket, url=endpoint, backend=backend, settings=settings, transforms=transforms,
                       verbose=False, **{**options, **backend_options})


__all__ = ["CCInterface", "CloudStream", "ObjectExistsError", "Prefix"]
