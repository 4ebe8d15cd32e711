"""Compression transforms in the formats numcodecs writes: zstd, lz4 and blosc.

cottoncandy 0.4 compressed raw arrays with ``numcodecs.get_codec({"id": name.lower()}).encode``
and wrote ``name`` (``"Zstd"``, ``"LZ4"``, ``"Blosc"``) to the object's ``compression`` metadata.
These transforms write byte for byte what those codecs write, so 0.4 reads objects written here
and objects 0.4 wrote read back here.

- zstd streams in both directions (through the ``zstandard`` package). It writes a standard
  frame with the content size in its header, which numcodecs needs: byte for byte what numcodecs
  writes for inputs up to one zstd block, and for larger inputs a frame with a bounded window
  where numcodecs writes one segment; numcodecs decodes both, and a bounded window lets readers
  here decompress in bounded memory.
- lz4 and blosc are block formats whose header holds the total size: numcodecs compresses and
  decompresses them in one piece, so they need the whole object in memory (limit 2 GB).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Any

from cc_core.builtin.compression import OUTPUT_STEP, LeveledCompression
from cc_core.errors import IntegrityError, InvalidArrayError
from cc_core.payload import Buffer
from cc_core.transform import DecodeReader, limit_output

READ_STEP = 1 << 20
ZSTD_HEADER_MAX = 18  # ZSTD_FRAMEHEADERSIZE_MAX
#: zstd's largest ratio: an RLE block, 3 header bytes and 1 byte, decodes to at most 128 KiB.
ZSTD_MAX_RATIO = (128 << 10) // 4
#: LZ4's largest ratio (a block of one repeated byte), rounded up.
LZ4_MAX_RATIO = 256
BLOCK_FORMAT_LIMIT = 0x7E000000  # LZ4_MAX_INPUT_SIZE; blosc's limit is slightly larger


class NumcodecsCompression(LeveledCompression):
    """A compression in numcodecs' format; its level from ``[compression] <name>_level``."""


class _ChunkReader:
    """What ``zstandard`` reads from: ``read(size)`` over an iterator of buffers, in place."""

    def __init__(self, chunks: Iterable[Buffer]) -> None:
        self._chunks = iter(chunks)
        self._pending = memoryview(b"")

    def read(self, size: int) -> memoryview | bytes:
        """Up to ``size`` bytes, as a view of the input chunk they lie in (b"" at the end)."""
        while not len(self._pending):
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._pending = memoryview(chunk).cast("B")
        view, self._pending = self._pending[:size], self._pending[size:]
        return view

    def peek_header(self, size: int) -> bytes:
        """Up to ``size`` leading bytes, left in place for the next reads."""
        parts = [bytes(self._pending)]
        while sum(len(p) for p in parts) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            parts.append(bytes(chunk))
        joined = b"".join(parts)
        self._pending = memoryview(joined)
        return joined[:size]


def _joined(chunks: Iterable[Buffer], what: str) -> memoryview:
    """All input as one buffer: block formats compress in one piece."""
    parts = [memoryview(c).cast("B") for c in chunks]
    total = sum(len(p) for p in parts)
    if total > BLOCK_FORMAT_LIMIT:
        raise InvalidArrayError(
            f"{what} compresses at most {BLOCK_FORMAT_LIMIT} bytes per object, not {total}; "
            "use compression='zstd' for large arrays"
        )
    if len(parts) == 1:
        return parts[0]
    joined = bytearray(total)
    offset = 0
    for part in parts:
        joined[offset : offset + len(part)] = part
        offset += len(part)
    return memoryview(joined)


PARALLEL_FROM = 1 << 20


def _slices(data: Buffer) -> Iterator[memoryview]:
    view = memoryview(data).cast("B")
    for start in range(0, len(view), OUTPUT_STEP):
        yield view[start : start + OUTPUT_STEP]


class ZstdTransform(NumcodecsCompression):
    """Zstandard frames as numcodecs' ``Zstd`` writes them (level ``[compression] zstd_level``).

    Compresses as the data arrives and decompresses in bounded steps, so neither direction needs
    a second buffer the size of the object. The frame records the content size, which numcodecs
    (and so cottoncandy 0.4) needs to decode it; the pipeline passes the payload's size, and
    without one the input is gathered first.
    """

    name = "zstd"
    legacy_name = "Zstd"
    default_level = 1  # numcodecs.zstd.DEFAULT_CLEVEL

    def encode(self, chunks: Iterable[Buffer]) -> Iterator[Buffer]:
        return self.encode_sized(chunks, None)

    def encode_sized(self, chunks: Iterable[Buffer], size: int | None) -> Iterator[Buffer]:
        import zstandard

        if size is None:  # the frame header needs the size: gather the input (views, not copies)
            chunks = [memoryview(c).cast("B") for c in chunks]
            size = sum(len(c) for c in chunks)
        level = self.default_level if self.level is None else self.level
        # zstd's own worker threads compress one standard frame on every core (numcodecs and 0.4
        # read it as any other); below a few blocks the hand-off costs more than it saves
        threads = -1 if size >= PARALLEL_FROM else 0
        compressor = zstandard.ZstdCompressor(level=level, write_content_size=True,
                                              threads=threads).compressobj(size=size)
        try:
            for chunk in chunks:
                out = compressor.compress(chunk)
                if out:
                    yield out
            yield compressor.flush()
        except zstandard.ZstdError as exc:
            raise IntegrityError(f"zstd could not compress the input, announced as {size} bytes: {exc}") from None

    def decode(self, chunks: Iterable[Buffer]) -> ZstdReader:
        return ZstdReader(chunks)

    def decoded_size_bound(self, size: int) -> int:
        return ZSTD_MAX_RATIO * size

    def decode_limited(self, chunks: Iterable[Buffer], limit: int) -> DecodeReader:
        """Read the frame header now: a content size other than ``limit`` is refused before decoding."""
        reader = ZstdReader(chunks)
        reader.check_content_size(limit)
        return limit_output(reader, limit, self.name)  # type: ignore[return-value]


class ZstdReader(DecodeReader):
    """One zstd frame decompressed straight into the reader's buffer (an array's own memory).

    The input is read :data:`READ_STEP` at a time; the decoded size is checked against the frame
    header's content size at the end, so a truncated object is an error, not a short array.
    """

    def __init__(self, chunks: Iterable[Buffer]) -> None:
        self._input = _ChunkReader(chunks)
        self._reader: Any = None
        self._expected: int | None = None
        self._produced = 0

    def _start(self) -> None:
        import zstandard

        header = self._input.peek_header(ZSTD_HEADER_MAX)
        if not header:
            raise IntegrityError("The zstd stream is empty: the object is truncated")
        try:
            content_size = zstandard.get_frame_parameters(header).content_size
        except zstandard.ZstdError as exc:
            raise IntegrityError(f"The zstd stream is corrupt: {exc}") from None
        self._expected = None if content_size == zstandard.CONTENTSIZE_UNKNOWN else content_size
        self._reader = zstandard.ZstdDecompressor().stream_reader(
            self._input, read_size=READ_STEP)  # type: ignore[arg-type]  # any object with read(size), not only IO

    def check_content_size(self, promised: int) -> None:
        """Raise IntegrityError unless the frame header's content size (when it has one) is ``promised``."""
        if self._reader is None:
            self._start()
        if self._expected is not None and self._expected != promised:
            raise IntegrityError(
                f"The zstd frame header says it holds {self._expected} bytes, but the object's metadata "
                f"describes {promised}: the object or its metadata is damaged"
            )

    def readinto(self, buffer: memoryview) -> int:
        import zstandard

        if self._reader is None:
            self._start()
        filled = 0
        try:
            while filled < len(buffer):
                count = self._reader.readinto(buffer[filled:])
                if not count:
                    break
                filled += count
        except zstandard.ZstdError as exc:
            raise IntegrityError(f"The zstd stream is corrupt: {exc}") from None
        self._produced += filled
        if filled < len(buffer) and self._expected is not None and self._produced != self._expected:
            raise IntegrityError(
                f"The zstd stream decodes to {self._produced} bytes, but its header says {self._expected}: "
                "the object is truncated or damaged"
            )
        return filled


class LZ4Transform(NumcodecsCompression):
    """LZ4 blocks as numcodecs' ``LZ4`` writes them: a 4-byte little-endian size, then one block.

    ``level`` is LZ4's acceleration (1 = best compression, numcodecs' default). The block format
    holds the whole object, so both directions keep it in memory in one piece.
    """

    name = "lz4"
    legacy_name = "LZ4"

    def encode(self, chunks: Iterable[Buffer]) -> Iterator[Buffer]:
        from numcodecs import lz4

        data = _joined(chunks, "lz4")
        yield lz4.compress(data, 1 if self.level is None else self.level)

    def decode(self, chunks: Iterable[Buffer]) -> Iterator[Buffer]:
        yield from self.decode_limited(chunks, None)

    def decoded_size_bound(self, size: int) -> int:
        return LZ4_MAX_RATIO * size

    def decode_limited(self, chunks: Iterable[Buffer], limit: int | None) -> Iterator[Buffer]:
        """The block's header holds its decoded size: one other than ``limit`` is refused before
        the block is decompressed (in one piece, so the header's claim is memory)."""
        from numcodecs import lz4

        data = _joined(chunks, "lz4")
        if len(data) < 4:
            raise IntegrityError("The lz4 block is shorter than its 4-byte header: the object is truncated")
        (expected,) = struct.unpack("<I", data[:4])
        _check_header_size("lz4 block", expected, limit)
        if expected == 0:
            return iter(())
        try:
            out = lz4.decompress(data)
        except (RuntimeError, ValueError) as exc:
            raise IntegrityError(f"The lz4 block is truncated or corrupt: {exc}") from None
        if len(out) != expected:
            raise IntegrityError(f"The lz4 block decodes to {len(out)} bytes, but its header says {expected}")
        return _slices(out)


class BloscTransform(NumcodecsCompression):
    """Blosc frames as numcodecs' ``Blosc()`` writes them for bytes (lz4 inside, byte shuffle).

    ``level`` is blosc's clevel (numcodecs' default 5). Blosc frames hold the whole object, so
    both directions keep it in memory in one piece.
    """

    name = "blosc"
    legacy_name = "Blosc"
    header_size = 16

    def encode(self, chunks: Iterable[Buffer]) -> Iterator[Buffer]:
        from numcodecs import Blosc

        codec = Blosc() if self.level is None else Blosc(clevel=self.level)
        yield codec.encode(_joined(chunks, "blosc"))

    def decode(self, chunks: Iterable[Buffer]) -> Iterator[Buffer]:
        yield from self.decode_limited(chunks, None)

    def decode_limited(self, chunks: Iterable[Buffer], limit: int | None) -> Iterator[Buffer]:
        """The frame's header holds its decoded size: one other than ``limit`` is refused before
        the frame is decompressed (in one piece)."""
        from numcodecs import blosc

        data = _joined(chunks, "blosc")
        if len(data) < self.header_size:
            raise IntegrityError("The blosc frame is shorter than its header: the object is truncated")
        expected, compressed = struct.unpack("<I4xI", data[4:16])
        if compressed != len(data):
            raise IntegrityError(
                f"The blosc frame holds {len(data)} bytes, but its header says {compressed}: "
                "the object is truncated or damaged"
            )
        _check_header_size("blosc frame", expected, limit)
        if expected == 0:
            return iter(())
        try:
            out = blosc.decompress(data)
        except (RuntimeError, ValueError) as exc:
            raise IntegrityError(f"The blosc frame is corrupt: {exc}") from None
        return _slices(out)


def _check_header_size(what: str, header_size: int, promised: int | None) -> None:
    if promised is not None and header_size != promised:
        raise IntegrityError(
            f"The {what} says it holds {header_size} bytes, but the object's metadata describes {promised}: "
            "the object or its metadata is damaged"
        )
