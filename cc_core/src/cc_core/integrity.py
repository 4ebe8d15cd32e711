"""Object checksums: a digest of the stored bytes, written with the object and checked on reading.

The pipeline records ``cc-checksum = "xxh3-64:<16 hex digits>"`` in an object's metadata: the
64-bit XXH3 digest of the bytes as stored (after compression and encryption). XXH3 runs at tens of
GB/s, so hashing costs a few milliseconds per hundred MiB; it detects damage (flipped, missing or
extra bytes), it is not a cryptographic signature (encryption authenticates its own objects).

Coverage: the digest is computed before the bytes are sent when the stored bytes are in memory
(arrays, npy, json, pickles, bytes, compressed objects), and while they pass for streamed uploads
(:class:`ChecksumReader`): backends that store the metadata after the data
(``Capabilities.metadata_after_data``: local, memory) find it in the metadata at the end; those
that send the metadata first record it afterwards (S3: a self-copy, Drive: a properties update).
An encrypted object carries none: its cipher authenticates every segment, ranged reads too. Every
read that reaches the end of an object with a checksum verifies it; objects without one (written
by cottoncandy 0.4) are read as they are.

The checksum covers the bytes only; ``cc-digest = "xxh3-64:<16 hex digits>"`` covers how they
become a value: the XXH3-64 of a canonical encoding (sorted, compact JSON) of the object's
deciding metadata (:func:`cc_core.metadata.deciding_metadata`: codec, transform chain, dtype,
shape, order, the codecs' own ``cc-*`` fields) *including* ``cc-checksum``, so the digest is bound
to the bytes through it. Every object written gets one, encrypted objects too (they have no
checksum; the digest then binds the deciding fields to each other). It is checked from the
metadata alone, before any byte is read (:func:`check_metadata`). An object without ``cc-digest``
(0.4's, or written before the digest existed) is read as before. Like the checksum, it detects
edits and damage, not a forger, who can recompute it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any, BinaryIO

import xxhash

from .errors import IntegrityError, MetadataError
from .metadata import CHECKSUM_KEY, DIGEST_KEY, deciding_metadata
from .payload import DEFAULT_CHUNK_SIZE, Buffer, Payload

ALGORITHM = "xxh3-64"
#: Bytes the checksum and the digest add to an object's metadata (keys plus values), for limits.
CHECKSUM_METADATA_SIZE = len(CHECKSUM_KEY) + len(DIGEST_KEY) + 2 * (len(ALGORITHM) + 1 + 16)
#: Prefixed to the canonical metadata before hashing: a new encoding gets a new label.
_DIGEST_DOMAIN = b"cottoncandy/metadata-digest/v1\n"


def _label(digest: Any) -> str:
    return f"{ALGORITHM}:{digest.hexdigest()}"


def checksum_of(buffers: Iterable[Buffer]) -> str:
    """The ``cc-checksum`` value of the bytes ``buffers`` hold, in order."""
    digest = xxhash.xxh3_64()
    for buffer in buffers:
        digest.update(buffer)
    return _label(digest)


def metadata_digest(metadata: Mapping[str, str]) -> str:
    """The ``cc-digest`` value of ``metadata``: XXH3-64 of its deciding keys as sorted, compact JSON."""
    canonical = json.dumps(deciding_metadata(metadata), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{ALGORITHM}:{xxhash.xxh3_64_hexdigest(_DIGEST_DOMAIN + canonical.encode('ascii'))}"


def seal(metadata: MutableMapping[str, str], checksum: str | None = None) -> None:
    """Record ``checksum`` (when the bytes have one) and then the digest of the deciding metadata.

    Call it last, once every deciding key is in ``metadata``: the digest covers them as they are.
    """
    if checksum is not None:
        metadata[CHECKSUM_KEY] = checksum
    metadata[DIGEST_KEY] = metadata_digest(metadata)


def check_metadata(name: str, metadata: Mapping[str, str]) -> None:
    """Refuse an object whose deciding metadata is not what was written, before reading its bytes.

    Raises
    ------
    IntegrityError
        The metadata was edited (or damaged) since the object was written.
    MetadataError
        The digest is of an algorithm this version does not know.
    """
    recorded = next((v for k, v in metadata.items() if k.lower() == DIGEST_KEY), None)
    if recorded is None:
        return  # written by cottoncandy 0.4, or by this project before the digest existed
    algorithm, _, value = recorded.strip().lower().partition(":")
    if algorithm != ALGORITHM or len(value) != 16:
        raise MetadataError(
            f"Object {name!r} records metadata digest {recorded!r}, which this cottoncandy cannot check "
            f"(it knows {ALGORITHM}); upgrade cc-core to read it"
        )
    computed = metadata_digest(metadata)
    if computed != f"{algorithm}:{value}":
        fields = ", ".join(sorted(deciding_metadata(metadata)))
        raise IntegrityError(
            f"Object {name!r} has metadata that is not what was written with it (digest {recorded} recorded, "
            f"{computed} computed over {fields}): a field that decides how its bytes are read (dtype, shape, "
            "order, codec, transforms, checksum) was changed or damaged. Restore the object or its metadata "
            "from a good copy; cottoncandy will not guess"
        )


class ChecksummedPayload(Payload):
    """Buffers whose checksum is recorded in ``metadata`` once :meth:`chunks` has yielded them all.

    Each chunk is digested just before the backend writes it, while it is in cache: no separate
    pass over a large array (for backends with ``Capabilities.metadata_after_data``).
    """

    def __init__(self, payload: Payload, metadata: MutableMapping[str, str]) -> None:
        super().__init__(payload.buffers)
        self._metadata = metadata

    def chunks(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[memoryview]:
        digest = xxhash.xxh3_64()
        for chunk in super().chunks(chunk_size):
            digest.update(chunk)
            yield chunk
        seal(self._metadata, _label(digest))


class ChecksumReader(io.RawIOBase):
    """A stream that digests what is read through it and, at its end, records the checksum.

    Parameters
    ----------
    stream : binary file object
        Read sequentially; when it is seekable, so is this reader (a backend may read it again
        from the start, to resend it: each complete pass from the start records the checksum).
    metadata : mutable mapping
        Receives ``cc-checksum`` and ``cc-digest`` when ``stream`` is exhausted (the backend reads
        the metadata after the data, see ``Capabilities.metadata_after_data``, or records it
        afterwards).
    size : int, optional
        The bytes the stream holds: reaching them records the checksum without a further read.
    """

    def __init__(self, stream: BinaryIO, metadata: MutableMapping[str, str], size: int | None = None) -> None:
        self._stream = stream
        self._metadata = metadata
        self._size = size
        self._seekable = _seekable(stream)
        self._origin = stream.tell() if self._seekable else 0
        self._position = 0
        self._digest: Any = xxhash.xxh3_64()
        self._digested = 0  # bytes from the start digested in order; the digest is void if -1

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("seek")
        if whence == io.SEEK_CUR:
            offset += self._position
        elif whence == io.SEEK_END:
            offset += self._stream.seek(0, io.SEEK_END) - self._origin
        self._position = self._stream.seek(self._origin + offset) - self._origin
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        if self._seekable:
            self._stream.seek(self._origin + self._position)
        block = self._stream.read(-1 if size is None else size)
        if self._position == 0:  # a pass from the start: digest afresh
            self._digest, self._digested = xxhash.xxh3_64(), 0
        if self._digested == self._position and block:
            self._digest.update(block)
            self._digested += len(block)
        elif block:
            self._digested = -1  # read out of order: this pass does not count
        self._position += len(block)
        at_end = (not block and size != 0) or (self._size is not None and self._position >= self._size)
        if at_end and self._digested == self._position:
            seal(self._metadata, _label(self._digest))
        return block

    def readinto(self, buffer: Any) -> int:
        block = self.read(len(memoryview(buffer).cast("B")))
        memoryview(buffer).cast("B")[: len(block)] = block
        return len(block)

    def digest_ahead(self) -> None:
        """Read a seekable stream through once now, recording its checksum, and rewind it: for a
        backend that must send the metadata before the bytes, when that one pass costs less than
        recording the checksum afterwards (S3: a single PUT of a file, against a server-side copy)."""
        self.seek(0)
        while self.read(1 << 20):
            pass
        self.seek(0)


def _seekable(stream: Any) -> bool:
    try:
        return bool(stream.seekable()) and stream.tell() >= 0
    except (AttributeError, OSError, ValueError):
        return False


class Verifier:
    """Checks the bytes of one object, read in order from the start, against its checksum.

    Parameters
    ----------
    name : str
        The object, for messages.
    metadata : mapping
        The object's metadata; without ``cc-checksum`` every check passes.
    size : int
        The stored size (from ``head``): fewer or more bytes are an error too.
    """

    def __init__(self, name: str, metadata: Mapping[str, str], size: int) -> None:
        self.name = name
        self.size = size
        self.expected = metadata.get(CHECKSUM_KEY)
        self._digest: Any = None
        if self.expected is not None:
            algorithm, _, value = self.expected.partition(":")
            if algorithm.strip().lower() != ALGORITHM or len(value) != 16:
                raise MetadataError(
                    f"Object {name!r} records checksum {self.expected!r}, which this cottoncandy cannot "
                    f"check (it knows {ALGORITHM}); upgrade cc-core to read it"
                )
            self._digest = xxhash.xxh3_64()
        self.received = 0
        self.done = False

    def update(self, data: Buffer) -> None:
        """Digest the next ``data`` (a chunk or the part of a buffer just filled)."""
        self.received += len(data)
        if self._digest is not None:
            self._digest.update(data)

    def finish(self) -> None:
        """All bytes have been read: raise :class:`IntegrityError` unless they are the ones written."""
        if self.done:
            return
        self.done = True
        if self.received != self.size:
            raise IntegrityError(
                f"Object {self.name!r} delivered {self.received} bytes where {self.size} are stored; "
                "the transfer was cut or the object changed: read it again"
            )
        if self.expected is not None and _label(self._digest) != self.expected.strip().lower():
            raise IntegrityError(
                f"Object {self.name!r} fails its checksum ({self.expected} recorded, "
                f"{_label(self._digest)} read): the stored bytes are damaged. Read it again; if it "
                "persists, restore the object from a good copy"
            )

    def chunks(self, chunks: Iterable[Any]) -> Iterator[Any]:
        """Pass ``chunks`` through, checking them; the check runs when they end."""
        for chunk in chunks:
            self.update(chunk)
            yield chunk
        self.finish()
