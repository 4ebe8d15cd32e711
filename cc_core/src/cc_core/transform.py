"""The byte transform interface: bytes in, bytes out (compression, encryption, ...).

Transforms stream: :meth:`Transform.encode` and :meth:`Transform.decode` take an iterable of
buffers and yield buffers, so a transform never needs the whole object in one piece unless its
format demands it. A chain of transforms is applied in write order on upload (compression first,
then encryption) and in reverse on download; the chain's names are stored with the object.

A transform whose format allows it returns a :class:`DecodeReader` from ``decode``: the pipeline
then has it write the decoded bytes straight into the codec's buffer (an array's own memory), so
a download through the chain writes every byte once.

A transform may depend on the object it runs for: :meth:`Transform.for_writing` and
:meth:`Transform.for_reading` give it the object's metadata and place before its bytes pass, and
:meth:`Transform.rebind` lets it re-seal a copy for its new place (an encryption transform that
authenticates what decides the value, and the name, uses all three). Transforms that do not care
inherit defaults that return themselves, and copies keep their metadata.

A transform whose format has offsets into its output (encryption in segments, compression in
independent frames) may also decode a range of it: it sets :attr:`Transform.decodes_ranges` and
implements :meth:`Transform.open_ranges`, which returns a :class:`RangeDecoder`. The pipeline
composes the decoders of a chain whose every transform decodes ranges (see
:meth:`cc_core.pipeline.Pipeline.open_ranges`), so a slice of a compressed and encrypted object
reads only the stored bytes under the frames it needs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .errors import IntegrityError
from .payload import Buffer

COMPRESSION = "compression"
ENCRYPTION = "encryption"
OTHER = "other"


@dataclass(frozen=True)
class ObjectPlace:
    """Where an object is, as a transform that binds objects to their place sees it.

    Attributes
    ----------
    bucket : str
        The bucket of a backend that has buckets (S3, memory), the absolute path of a local root
        folder; ``""`` for backends without buckets. ``str(place)`` (``bucket/name``) is the same
        for every way of opening the store (a local folder opened as the root, or its parent).
    name : str
        The object's name in the bucket.
    location : str
        The object as a command-line target (``s3://bucket/name``, ``file:///root/name``), for
        messages; not part of the place.
    """

    bucket: str
    name: str
    location: str = field(default="", compare=False)

    @classmethod
    def of(cls, backend: Any, name: str) -> ObjectPlace:
        """The place of ``name`` on ``backend`` (a :class:`cc_core.backend.Backend`)."""
        store = backend.describe().rstrip("/")
        if store.startswith("file://"):  # a local root: its absolute path, whichever folder was opened as root
            bucket = store[len("file://"):]
        else:
            bucket = str(backend.bucket) if backend.capabilities.buckets and backend.bucket else ""
        return cls(bucket, name, f"{store}/{name}")

    def __str__(self) -> str:
        return f"{self.bucket}/{self.name}" if self.bucket else self.name


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
    #: Whether :meth:`open_ranges` is implemented. The core reads a range of an object only through
    #: a chain whose every transform sets it (a declared capability, never looked up with ``hasattr``).
    decodes_ranges: ClassVar[bool] = False
    #: Whether :meth:`rebind` gives copies new metadata: copies then read each object's metadata
    #: first (one HEAD per object). An instance may turn it off (a setting).
    binds_places: bool = False

    @classmethod
    def from_config(cls, config: Any, **options: Any) -> Transform:
        """Build the transform for an interface with ``config``; override to read settings."""
        return cls(**options)

    def worker_options(self) -> dict[str, Any]:
        """``from_config`` options that make this transform work in another process as it does
        here (e.g. the master keys), handed over by :func:`cc_core.distributed.setup`; none by default."""
        return {}

    def encoded_size(self, size: int) -> int | None:
        """The encoded length of ``size`` input bytes, when the format fixes it; else None.

        A transform that knows it lets the pipeline stream its output to the backend as a sized
        stream instead of holding the whole encoded object in memory.
        """
        return None

    def for_writing(self, metadata: MutableMapping[str, str], place: ObjectPlace) -> Transform:
        """The transform that encodes one object, stored at ``place`` with ``metadata``.

        The pipeline calls it once per object before any byte is encoded, in chain order, with the
        metadata as it will be stored: codec, chain, the codec's fields, user metadata; only
        ``cc-checksum`` and ``cc-digest`` are added after. The transform may add keys of its own
        (``cc-*``) to ``metadata``. The default returns ``self``.
        """
        return self

    def for_reading(self, metadata: Mapping[str, str], place: ObjectPlace) -> Transform:
        """The transform that decodes one object, found at ``place`` with ``metadata`` (as stored).

        The pipeline calls it once per object before decoding. A transform that authenticated the
        metadata or the place when writing checks them in ``decode``, before it yields a byte.
        The default returns ``self``.
        """
        return self

    def rebind(self, metadata: Mapping[str, str], source: ObjectPlace, destination: ObjectPlace,
               read: Callable[[int, int], bytes]) -> dict[str, str] | None:
        """The metadata a copy of the object at ``source`` gets at ``destination``, or None to keep it.

        Called by :func:`cc_core.copying.copy` (and ``move``) for the transforms an interface always
        applies, when :attr:`binds_places` is set, with the source object's stored metadata;
        ``read(start, stop)`` returns a range of its stored bytes (a header), one request each. A new
        mapping makes the copy a server-side copy that replaces the metadata (no bytes move where
        the backend can, see :meth:`cc_core.backend.Backend.copy_with_metadata`); the pipeline then
        records a new ``cc-digest``. The default keeps the metadata.
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
        Return a :class:`DecodeReader` when the format can decode into a caller's buffer.
        """

    def decoded_size_bound(self, size: int) -> int | None:
        """The most bytes ``size`` encoded bytes can decode to (a format's largest ratio), or None
        when the format sets no useful bound.

        The pipeline compares what an object's metadata claims with this bound, through the whole
        chain, before a codec allocates memory for the claim.
        """
        return None

    def decode_limited(self, chunks: Iterable[Buffer], limit: int) -> Iterator[Buffer]:
        """:meth:`decode` for a stream that must decode to ``limit`` bytes, what the object's
        metadata promises: raise :class:`cc_core.errors.IntegrityError` once the output exceeds it.

        The pipeline calls this one for the last transform it decodes when the codec has said how
        many bytes it expects. This default counts the output (so a stream that decodes in bounded
        steps stops one step past the limit); override it when the format records its decoded size
        up front (check it before decoding anything) or decodes in one piece.
        """
        return limit_output(self.decode(chunks), limit, self.name)

    def open_ranges(self, read: Callable[[int, int], Buffer], size: int) -> RangeDecoder:
        """The decoded bytes of one stored object, read a range at a time (optional part of the contract).

        A transform that implements it sets :attr:`decodes_ranges`. The pipeline calls it on the
        transform :meth:`for_reading` returned for the object, once per opened object; the
        decoder's reads may then come from several threads at once.

        Parameters
        ----------
        read : callable
            ``read(first, end)`` returns the encoded bytes ``[first, end)`` (a buffer), fewer only
            where they end first. Each call is one ranged request of the stored object, or a range
            decoded by the next transform of the chain: read what the range needs, in few calls.
            The decoder may read its own index here (a header, a seek table), before it returns.
        size : int
            The encoded length (the stored object's size, or the decoded size of the next
            transform of the chain).

        Returns
        -------
        RangeDecoder

        Raises
        ------
        cc_core.errors.IntegrityError
            The index is damaged or does not fit ``size``.
        NotImplementedError
            The transform cannot decode ranges (this default).
        """
        raise NotImplementedError(
            f"The {self.name} transform cannot decode a range of its output (its decodes_ranges is False); "
            "read the object whole"
        )

    def plaintext_range(self, read: Callable[[int, int], Buffer], object_size: int, start: int,
                        stop: int | None = None) -> bytes:
        """Decoded bytes ``[start, stop)`` of a stored object, through :meth:`open_ranges`.

        ``start`` and ``stop`` are clipped like a slice's against the decoded length (negative:
        from the end; ``stop`` None: to the end). ``read`` and ``object_size`` as for :meth:`open_ranges`.
        """
        decoder = self.open_ranges(read, object_size)
        first, end, _ = slice(start, stop).indices(decoder.size)
        return bytes(decoder.read(first, max(first, end)))

    def __repr__(self) -> str:
        return f"<transform {self.name}>"


class RangeDecoder(ABC):
    """The decoded bytes of one stored object, read a range at a time: what
    :meth:`Transform.open_ranges` returns.

    Implement :meth:`read`; :meth:`readinto` copies from it unless overridden. Both are called
    from several threads at once (a lazy array reads its parts in parallel): keep per-call state
    local.

    Attributes
    ----------
    size : int
        The decoded length.
    granularity : int
        The decoded bytes are decoded in aligned blocks of this many (a segment, a frame; 1: any
        byte on its own). Readers merge ranges closer than this into one read, so that no block
        is fetched and decoded twice.
    """

    size: int
    granularity: int = 1

    @abstractmethod
    def read(self, start: int, stop: int) -> Buffer:
        """The decoded bytes ``[start, stop)``, ``0 <= start <= stop``; fewer where the decoded
        bytes end first (``stop`` past :attr:`size`).

        Raise :class:`cc_core.errors.IntegrityError` when the encoded bytes read for the range are
        corrupt, truncated or disagree with the index; never return bytes that were not checked
        as far as the format allows.
        """

    def readinto(self, start: int, buffer: memoryview) -> int:
        """Fill ``buffer`` (flat bytes) with the decoded bytes from ``start``; return the count
        (fewer than ``len(buffer)`` where the decoded bytes end first)."""
        data = memoryview(self.read(start, start + len(buffer))).cast("B")
        buffer[: len(data)] = data
        return len(data)


class DecodeReader(ABC):
    """Decoded bytes written straight into the caller's buffer: what ``decode`` may return.

    The pipeline fills a codec's destination with :meth:`readinto`, so the decoded bytes land in
    the array once instead of passing through chunks. Iterating yields the same bytes in chunks of
    at most :attr:`chunk_size` (for the next transform of a chain, or any caller that wants
    buffers); implement :meth:`readinto` only.
    """

    #: Bytes per chunk when the reader is iterated.
    chunk_size: ClassVar[int] = 8 << 20

    @abstractmethod
    def readinto(self, buffer: memoryview) -> int:
        """Fill ``buffer`` (flat bytes) with the next decoded bytes; return the count.

        Fewer than ``len(buffer)`` bytes means the stream has ended (0: nothing was left). Raise
        :class:`cc_core.errors.IntegrityError` when the input is corrupt or truncated; the buffer's
        contents are then undefined.
        """

    def __iter__(self) -> DecodeReader:
        return self

    def __next__(self) -> memoryview:
        chunk = np.empty(self.chunk_size, dtype=np.uint8).data  # no zero-fill: readinto writes it
        count = self.readinto(chunk)
        if not count:
            raise StopIteration
        return chunk[:count]


def _too_long(name: str, limit: int) -> IntegrityError:
    return IntegrityError(f"The {name} stream decodes to more than the {limit} bytes its object's metadata "
                          "describes: the object or its metadata is damaged")


class _LimitedReader(DecodeReader):
    """A :class:`DecodeReader` that refuses to produce more than ``limit`` bytes."""

    def __init__(self, reader: DecodeReader, limit: int, name: str) -> None:
        self._reader = reader
        self._left = limit
        self._limit = limit
        self._name = name

    def readinto(self, buffer: memoryview) -> int:
        count = self._reader.readinto(buffer[: self._left + 1])
        self._left -= count
        if self._left < 0:
            raise _too_long(self._name, self._limit)
        return count


def limit_output(decoded: Iterator[Buffer], limit: int, name: str) -> Iterator[Buffer]:
    """``decoded`` (chunks or a :class:`DecodeReader`), stopped with IntegrityError past ``limit`` bytes."""
    if isinstance(decoded, DecodeReader):
        return _LimitedReader(decoded, limit, name)
    return _limited_chunks(decoded, limit, name)


def _limited_chunks(decoded: Iterable[Buffer], limit: int, name: str) -> Iterator[Buffer]:
    produced = 0
    for chunk in decoded:
        produced += memoryview(chunk).nbytes
        if produced > limit:
            raise _too_long(name, limit)
        yield chunk
