"""The array codec interfaces.

An :class:`ObjectCodec` turns one value into the bytes and metadata of one object and back (raw
arrays, npy, json). A :class:`LayoutCodec` stores one value as several objects under a prefix
(dask arrays as chunk objects, sparse matrices as one object per attribute, groups of arrays),
writing each part through the interface so that every part gets the transform chain and backend
of the interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from .payload import Payload

if TYPE_CHECKING:
    from .interface import CCInterface


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


class LayoutCodec(ABC):
    """Base class of codecs that store one value as several objects under ``name/``."""

    name: ClassVar[str] = ""

    @abstractmethod
    def upload(self, interface: "CCInterface", name: str, value: Any, **options: Any) -> Any:
        """Store ``value`` under the prefix ``name`` through ``interface``."""

    @abstractmethod
    def download(self, interface: "CCInterface", name: str, **options: Any) -> Any:
        """Read back what :meth:`upload` stored under ``name``."""
