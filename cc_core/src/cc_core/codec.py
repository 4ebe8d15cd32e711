"""The array codec interfaces.

An :class:`ObjectCodec` turns one value into the bytes and metadata of one object and back (raw
arrays, npy, json). A :class:`LayoutCodec` stores one value as several objects under a prefix
(dask arrays as chunk objects, sparse matrices as one object per attribute, groups of arrays),
writing each part through a :class:`LayoutStore` so that every part gets the transform chain and
backend of the interface. Both kinds are used by name: ``cci.put_value(name, value, codec)`` and
``cci.get_value(name, codec)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from .backend import ObjectInfo, Prefix
from .byteranges import ByteRequest
from .payload import Payload


@dataclass
class Encoded:
    """One object's bytes (as a zero-copy payload) and the codec's metadata (all strings)."""

    payload: Payload
    metadata: dict[str, str] = field(default_factory=dict)


class ByteSource(Protocol):
    """The decoded bytes of an object, offered to :meth:`ObjectCodec.decode`.

    ``size`` is the decoded size when known without reading (no transforms), else None.
    ``readinto(buffer)`` fills ``buffer`` as far as the data goes and returns the count; the
    pipeline writes straight into the caller's buffer when no transform is in the way.
    ``read()`` returns all remaining bytes. ``name`` is the object's name, for messages.
    ``expect(size, what)`` says, before a codec allocates memory for what the metadata (or a
    header in the data) claims, how many bytes it will read: it raises a MetadataError naming the
    object when the stored object cannot hold that many, and has decoding stop at that size.
    """

    name: str
    size: int | None

    def expect(self, size: int, what: str = "") -> None: ...

    def readinto(self, buffer: memoryview) -> int: ...

    def read(self) -> bytes: ...


class ObjectCodec(ABC):
    """Base class of codecs that map one value to one object."""

    name: ClassVar[str] = ""

    @abstractmethod
    def encode(self, value: Any, **options: Any) -> Encoded:
        """Return the object's payload and metadata; do not copy large buffers."""

    @abstractmethod
    def decode(self, metadata: Mapping[str, str], source: ByteSource, **options: Any) -> Any:
        """Rebuild the value from ``metadata`` and the decoded bytes in ``source``."""


class LayoutStore(Protocol):
    """What a :class:`LayoutCodec` may do with the store it writes to: the interface's bucket,
    backend and transform chain, narrowed to what a layout needs (zarr's ``ByteGetter`` idea).

    Names are object names in the interface's bucket. The object passed is picklable (dask workers
    receive it) and thread-safe.
    """

    #: The interface's :class:`cc_core.config.Config` (a layout reads its own settings from it).
    settings: Any

    def describe(self) -> str:
        """Where the objects are, for messages (``s3://bucket``); never a secret."""
        ...

    def put_value(self, name: str, value: Any, codec: str, **options: Any) -> Any:
        """Store one value with a registered codec (as :meth:`CCInterface.put_value`)."""
        ...

    def get_value(self, name: str, codec: str, **options: Any) -> Any:
        """Read one value with a registered codec (as :meth:`CCInterface.get_value`)."""
        ...

    def upload_raw_array(self, name: str, array: Any, compression: Any = None, acl: str | None = None,
                         threads: int | None = None, **metadata: Any) -> ObjectInfo:
        """One array as one object, with the user's ``compression=`` choice applied."""
        ...

    def download_raw_array(self, name: str) -> Any:
        """One array written by :meth:`upload_raw_array`."""
        ...

    def upload_json(self, name: str, value: Any, **metadata: Any) -> ObjectInfo:
        """A JSON document (the layout's own description of its parts)."""
        ...

    def download_json(self, name: str) -> Any:
        """A JSON document written by :meth:`upload_json`."""
        ...

    def list(self, prefix: str = "", delimiter: str | None = None) -> Iterator[ObjectInfo | Prefix]:
        """Objects under ``prefix`` (sorted); with ``delimiter="/"`` deeper names roll up into :class:`Prefix`."""
        ...

    def exists(self, name: str) -> bool:
        ...

    def head(self, name: str) -> ObjectInfo:
        """Size, metadata and version of one object; ObjectNotFoundError when missing."""
        ...

    def read_into(self, name: str, buffer: memoryview, byte_range: ByteRequest) -> int:
        """Stored bytes of ``byte_range`` into ``buffer`` (not decoded: for objects without transforms)."""
        ...


class LayoutCodec(ABC):
    """Base class of codecs that store one value as several objects under ``name/``.

    Used through ``cci.put_value(name, value, codec_name, **options)`` (which calls :meth:`upload`
    with the interface's :class:`LayoutStore` and the options) and ``cci.get_value(name,
    codec_name, **options)`` (:meth:`download`).
    """

    name: ClassVar[str] = ""

    @abstractmethod
    def upload(self, store: LayoutStore, /, name: str, value: Any, **options: Any) -> Any:
        """Store ``value`` under the prefix ``name`` through ``store``."""

    @abstractmethod
    def download(self, store: LayoutStore, /, name: str, **options: Any) -> Any:
        """Read back what :meth:`upload` stored under ``name``."""
