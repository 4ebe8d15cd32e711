"""The byte transform interface: bytes in, bytes out (compression, encryption, ...).

Transforms stream: :meth:`Transform.encode` and :meth:`Transform.decode` take an iterable of
buffers and yield buffers, so a transform never needs the whole object in one piece unless its
format demands it. A chain of transforms is applied in write order on upload (compression first,
then encryption) and in reverse on download; the chain's names are stored with the object.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from .payload import Buffer

COMPRESSION = "compression"
ENCRYPTION = "encryption"
OTHER = "other"


class Transform(ABC):
    """Base class of byte transforms.

    Class attributes
    ----------------
    name : str
        Registered name (lower-case), written to the object's ``cc-transforms`` metadata.
    kind : str
        ``"compression"``, ``"encryption"`` or ``"other"``; the pipeline refuses compression
        after encryption (encrypted bytes do not compress, and the order leaks information).
    aliases : tuple of str
        Other names that select this transform, e.g. the codec id cottoncandy 0.4 wrote.
    legacy_name : str or None
        The ``compression`` metadata value cottoncandy 0.4 writes for this transform, when 0.4 can
        read it back (``"gzip"``, ``"Zstd"``); None when 0.4 cannot.
    """

    name: ClassVar[str] = ""
    kind: ClassVar[str] = OTHER
    aliases: ClassVar[tuple[str, ...]] = ()
    legacy_name: ClassVar[str | None] = None

    @classmethod
    def from_config(cls, config: Any, **options: Any) -> "Transform":
        """Build the transform for an interface with ``config``; override to read settings."""
        return cls(**options)

    def encoded_size(self, size: int) -> int | None:
        """The encoded length of ``size`` input bytes, when the format fixes it; else None.

        A transform that knows it lets the pipeline stream its output to the backend as a sized
        stream instead of holding the whole encoded object in memory.
        """
        return None

    @abstractmethod
    def encode(self, chunks: Iterable[Buffer]) -> Iterator[Buffer]:
        """Yield the transformed bytes of the stream ``chunks``."""

    def encode_sized(self, chunks: Iterable[Buffer], size: int | None) -> Iterator[Buffer]:
        """:meth:`encode` for a stream whose total length ``size`` is known (None when not).

        The pipeline calls this one. Override it when the format records the input's length up
        front (a zstd frame's content size), so that it need not gather the input first.
        """
        return self.encode(chunks)

    @abstractmethod
    def decode(self, chunks: Iterable[Buffer]) -> Iterator[Buffer]:
        """Yield the original bytes of the transformed stream ``chunks``.

        Raise :class:`cc_core.errors.IntegrityError` when the input is corrupt or truncated.
        """

    def __repr__(self) -> str:
        return f"<transform {self.name}>"
