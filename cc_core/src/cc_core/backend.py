"""The storage backend interface.

A backend stores objects (bytes plus a flat ``str -> str`` metadata mapping) under names inside one
bucket (a bucket on S3, a root folder on local disk, a folder path on Drive). The user interface
(:class:`cc_core.interface.CCInterface`) talks to every backend through this class only.

Names passed to a backend are already validated by :func:`cc_core.names.object_name`: relative,
``/``-separated, no empty, ``.`` or ``..`` segments, no NUL, at most 1,024 UTF-8 bytes.

Write a backend by subclassing :class:`Backend`, implementing the abstract methods, setting
:attr:`Backend.capabilities`, registering it from a plugin (see :mod:`cc_core.hookspecs`), and
running :class:`cc_core.testing.BackendConformance` against it.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from .errors import ObjectNotFoundError, UnsupportedOperationError
from .payload import DEFAULT_CHUNK_SIZE, Payload
from .progress import NO_PROGRESS, Progress


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do; the interface adapts to these flags.

    Attributes
    ----------
    buckets : bool
        The store has several buckets that can be listed, created and removed.
    server_side_copy : bool
        ``copy`` runs in the store without moving bytes through the client.
    metadata_limit : int or None
        Largest total size in bytes of an object's metadata (keys plus values), if limited.
    lowercase_metadata_keys : bool
        Metadata keys come back lower-cased (S3); cottoncandy's own keys are lower-case already.
    metadata_after_data : bool
        ``put`` reads its ``metadata`` only after it has read the payload to its end, so the
        pipeline can add the checksum of a streamed payload as the bytes pass (local, memory).
        Such a backend reads the payload through :meth:`Payload.chunks` or its stream.
    read_callback : bool
        ``get_into`` takes ``on_read=``, a function it calls with each part of the buffer as soon
        as that part is filled, so that the reader digests it while it is in cache (local).
    """

    buckets: bool = False
    server_side_copy: bool = False
    metadata_limit: int | None = None
    lowercase_metadata_keys: bool = False
    metadata_after_data: bool = False
    read_callback: bool = False


#: How much of an object :meth:`Backend.get_into_file` moves through memory at a time, per range.
FILE_WINDOW = 8 << 20


def pwrite_all(descriptor: int, data: memoryview, offset: int) -> None:
    """``os.pwrite`` all of ``data`` at ``offset`` (a write may take less than it was given)."""
    while len(data):
        count = os.pwrite(descriptor, data, offset)
        data, offset = data[count:], offset + count


@dataclass(frozen=True)
class ObjectInfo:
    """What :meth:`Backend.head` and :meth:`Backend.list` know about an object."""

    name: str
    size: int
    metadata: Mapping[str, str] = field(default_factory=dict)
    modified: datetime | None = None
    #: A token of this version of the object (ETag, inode...), or None if the backend has none.
    #: When set, readers pass it back as ``version=`` to ``get_into``/``iter_chunks``, which raise
    #: :class:`cc_core.errors.ObjectChangedError` if the object was replaced in between.
    version: str | None = None

    @property
    def key(self) -> str:
        """The name, under the attribute boto3's objects (and cottoncandy 0.4 code) use."""
        return self.name


@dataclass(frozen=True)
class Prefix:
    """A "folder" that :meth:`Backend.list` rolls up when a delimiter is given."""

    name: str


class Backend(ABC):
    """Base class of storage backends.

    Parameters
    ----------
    bucket : str or None
        The bucket (root folder, Drive folder) this backend works in.
    settings : cc_core.config.Config
        The effective cottoncandy configuration; backends read their own section. (Named
        ``settings`` so that ``config=`` stays free for a client library's own config object,
        such as ``botocore.client.Config``.)
    **options
        Backend-specific options (credentials, endpoint, ...); a backend rejects unknown ones.
    """

    #: The registered name (set by the registry when the class is resolved).
    name: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, bucket: str | None, *, settings: Any = None, **options: Any) -> None:
        if options:
            unknown = ", ".join(sorted(options))
            raise TypeError(f"{type(self).__name__} does not take the option(s): {unknown}")
        self.bucket = bucket
        self.settings = settings

    # -- objects -------------------------------------------------------------------------------
    @abstractmethod
    def put(
        self,
        name: str,
        payload: Payload,
        metadata: Mapping[str, str],
        *,
        progress: Progress = NO_PROGRESS,
        **options: Any,
    ) -> ObjectInfo | None:
        """Store ``payload`` under ``name`` with ``metadata``, replacing any previous object.

        Must be atomic: a reader sees the complete old object or the complete new one, and a
        failure leaves the old object (or nothing) in place, never a partial object.
        ``options`` carries per-call settings a backend may honour (``acl=``, ``threads=``) and
        must ignore when it has no such notion. A streamed payload's ``cc-checksum`` appears in
        ``metadata`` once the stream has been read to its end: a backend that sent the metadata
        before then records it afterwards (S3 copies the object onto itself, Drive updates the
        file's properties).

        Returns the stored object's :class:`ObjectInfo` as :meth:`head` would give it right after
        (name, size, metadata, version), from what the write itself told the backend, without
        another request; ``modified`` may be None. A backend that cannot tell returns None and
        the caller asks :meth:`head`.
        """

    @abstractmethod
    def get_into(
        self,
        name: str,
        buffer: memoryview,
        *,
        offset: int = 0,
        progress: Progress = NO_PROGRESS,
    ) -> int:
        """Read the object's bytes ``[offset, offset + len(buffer))`` into ``buffer``.

        Returns the number of bytes written, which is less than ``len(buffer)`` only when the
        object ends first. ``buffer`` is a writable, flat byte memoryview (a numpy array's memory).
        """

    @abstractmethod
    def iter_chunks(
        self,
        name: str,
        *,
        byte_range: tuple[int, int] | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        progress: Progress = NO_PROGRESS,
    ) -> Iterator[memoryview | bytes]:
        """Yield the object's bytes (or ``byte_range = (start, stop)``) in order, chunk by chunk."""

    @abstractmethod
    def head(self, name: str) -> ObjectInfo:
        """Size and metadata of ``name``; raise :class:`ObjectNotFoundError` if it is missing."""

    @abstractmethod
    def list(self, prefix: str = "", delimiter: str | None = None) -> Iterator[ObjectInfo | Prefix]:
        """Every object whose name starts with ``prefix``, sorted by name, with no page limit.

        With ``delimiter="/"``, names that continue past the next ``/`` after ``prefix`` are
        rolled up into one :class:`Prefix` each (``"a/b/"``) instead.
        """

    @abstractmethod
    def copy(self, source: str, destination: str, *, source_bucket: str | None = None) -> None:
        """Copy an object with its metadata; ``source_bucket`` defaults to this bucket."""

    @abstractmethod
    def delete_many(self, names: Iterable[str]) -> None:
        """Delete the named objects; names that do not exist are ignored."""

    # -- conveniences built on the above --------------------------------------------------------
    def get(self, name: str, byte_range: tuple[int, int] | None = None) -> bytes:
        """The object's bytes (or a byte range) as one bytes object: for small objects."""
        return b"".join(bytes(chunk) for chunk in self.iter_chunks(name, byte_range=byte_range))

    def get_into_file(self, name: str, descriptor: int, size: int, *, progress: Progress = NO_PROGRESS,
                      **options: Any) -> int:
        """Write the object's first ``size`` bytes into the open file ``descriptor``, each at its
        own offset; returns the count (less only when the object ends first).

        This default reads 8 MiB at a time with :meth:`get_into` into one reused buffer and
        writes it with ``os.pwrite``; a backend that reads ranges in parallel (S3) overrides it to
        write each range as it arrives. ``options`` (``version=``) are passed to ``get_into``.
        Writing through reused memory is the point: mapping the new file and filling it faults in
        a fresh page per 4 KiB, which took 3x as long as reading the same bytes into an array.
        """
        buffer = memoryview(bytearray(min(size, FILE_WINDOW) or 1))
        written = 0
        while written < size:
            count = self.get_into(name, buffer[: min(len(buffer), size - written)], offset=written,
                                  progress=progress, **options)
            if not count:
                break
            pwrite_all(descriptor, buffer[:count], written)
            written += count
        return written

    def exists(self, name: str) -> bool:
        try:
            self.head(name)
        except ObjectNotFoundError:
            return False
        return True

    def delete(self, name: str) -> None:
        self.delete_many([name])

    def copy_listed(self, source: ObjectInfo, destination: str, *, source_bucket: str | None = None) -> None:
        """:meth:`copy` of an object that a listing or :meth:`head` has just described.

        A backend that must know the source's size before it can copy (S3: one request up to
        5 GiB, a multipart copy above) takes it from ``source`` instead of asking the store again,
        so that a folder copy sends one request per object. The default calls :meth:`copy`.
        """
        self.copy(source.name, destination, source_bucket=source_bucket)

    def copy_with_metadata(self, source: ObjectInfo, destination: str, metadata: Mapping[str, str], *,
                           source_bucket: str | None = None) -> None:
        """Copy the bytes of ``source`` (as :meth:`head` described it) to ``destination`` with ``metadata``
        instead of the source's: the copy an encrypted interface makes to re-seal an object for its
        new name. ``destination`` may be ``source.name`` (the object's metadata is replaced).

        Copy only the version ``source`` describes (refuse with
        :class:`cc_core.errors.ObjectChangedError` if it was replaced), server-side where the store
        allows (S3: CopyObject with ``MetadataDirective=REPLACE``). The default raises
        :class:`UnsupportedOperationError`: the caller then streams the bytes through the client.
        """
        raise UnsupportedOperationError(f"The {self.name} backend cannot replace metadata in a copy")

    def close(self) -> None:
        """Release connections and threads."""

    def pickle_options(self) -> dict[str, Any]:
        """Non-secret constructor options a pickled interface passes to the backend again."""
        return {}

    def describe(self) -> str:
        """A short location for messages and reprs, e.g. ``s3://bucket``; never a secret."""
        return f"{self.name}:{self.bucket}"

    # -- buckets (backends with ``capabilities.buckets``) ----------------------------------------
    def list_buckets(self) -> list[str]:
        raise UnsupportedOperationError(f"The {self.name} backend has no buckets to list")

    def bucket_exists(self, bucket: str) -> bool:
        raise UnsupportedOperationError(f"The {self.name} backend has no buckets")

    def create_bucket(self, bucket: str, **options: Any) -> None:
        raise UnsupportedOperationError(f"The {self.name} backend cannot create buckets")

    def delete_bucket(self, bucket: str) -> None:
        raise UnsupportedOperationError(f"The {self.name} backend cannot remove buckets")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"
