"""The ``zstd-seekable`` transform: zstd in independent frames with a seek table, for random access.

The format is zstd's contrib *seekable format* (version 0.1.0): the input cut into frames of
``frame_size`` decoded bytes (the last one shorter; one empty frame for empty input), each an
ordinary zstd frame with its content size and content checksum, followed by the seek table in a
skippable frame::

    frame 0 | frame 1 | ... | 0x184D2A5E  table size | entries | frames  descriptor  0x8F92EAB1
                              (skippable frame)         (12 bytes each) (footer: 9 bytes)

Each entry is the frame's compressed size, its decoded size and its checksum (the low 32 bits of
the XXH64 of its decoded bytes, which is the checksum zstd writes at the frame's end: the table
copies it, and the checksum flag, bit 7 of the descriptor, is set). All fields are little-endian.

The stream is a valid concatenation of zstd frames: ``zstd -d``, ``zstandard`` and any zstd
decoder that skips skippable frames decode it whole. cottoncandy 0.4 cannot (numcodecs decodes
one frame): objects written with it are refused by 0.4, never misread.

Reading a range (:meth:`SeekableZstdTransform.open_ranges`) reads the footer and the table once,
then for each range only the frames it lies in (one read), each checked against the table (its
size, its content size and its checksum) and by zstd (its checksum). Reading the whole stream
(:meth:`SeekableZstdTransform.decode`) walks the frames in order without the table, then checks the
table against the frames it has seen.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from cc_core.builtin.compression import LeveledCompression
from cc_core.errors import ConfigError, IntegrityError
from cc_core.payload import Buffer
from cc_core.transform import DecodeReader, RangeDecoder

from .compression import ZSTD_MAX_RATIO, _ChunkReader

ZSTD_MAGIC = 0xFD2FB528
SKIPPABLE_MAGIC = 0x184D2A5E  # the seek table's skippable frame
SEEKABLE_MAGIC = 0x8F92EAB1  # the last 4 bytes of a seekable stream
FOOTER_SIZE = 9
CHECKSUM_FLAG = 0x80
RESERVED_BITS = 0x7C
DEFAULT_FRAME_SIZE = 1 << 20
#: zstd's largest block: every block of a frame decodes to at most this many bytes.
BLOCK_MAX = 128 << 10
#: The seekable format's own limit on a frame's decoded size.
FRAME_SIZE_LIMIT = 1 << 30
MIN_FRAME_SIZE = 1 << 10
#: Bytes read from a stream's end to open it: the footer and, in the same read, a seek table of up
#: to about 1,360 frames (1.3 GiB in 1 MiB frames); a larger table costs a second read.
TAIL_GUESS = 16 << 10

_ENTRY = np.dtype([("compressed", "<u4"), ("decompressed", "<u4"), ("checksum", "<u4")])
_ENTRY_NO_CHECKSUM = np.dtype([("compressed", "<u4"), ("decompressed", "<u4")])


def _corrupt(detail: str) -> IntegrityError:
    return IntegrityError(f"The zstd-seekable stream is damaged or truncated: {detail}")


class SeekableZstdTransform(LeveledCompression):
    """zstd in independent frames of ``frame_size`` decoded bytes with a seek table (random access).

    Parameters
    ----------
    level : int, optional
        zstd's level (default ``[compression] zstd_level``, else 1).
    frame_size : int
        Decoded bytes per frame (default ``[compression] seekable_frame_size``, else 1 MiB): a
        slice decompresses whole frames, so smaller frames read less per slice and compress a
        little worse.
    """

    name = "zstd-seekable"
    decodes_ranges = True
    default_level = 1

    def __init__(self, level: int | None = None, frame_size: int = DEFAULT_FRAME_SIZE) -> None:
        super().__init__(level)
        if not MIN_FRAME_SIZE <= frame_size <= FRAME_SIZE_LIMIT:
            raise ConfigError(
                f"[compression] seekable_frame_size must be between {MIN_FRAME_SIZE} bytes and 1GiB, not {frame_size}"
            )
        self.frame_size = int(frame_size)

    @classmethod
    def from_config(cls, config: Any, **options: Any) -> SeekableZstdTransform:
        """Level from ``[compression] zstd_level``, frame size from ``[compression] seekable_frame_size``."""
        if config is not None:
            if "level" not in options and config.get("compression", "zstd_level", fallback=""):
                options["level"] = config.getint("compression", "zstd_level")
            if "frame_size" not in options:
                options["frame_size"] = config.getsize("compression", "seekable_frame_size",
                                                       fallback=DEFAULT_FRAME_SIZE)
        return cls(**options)

    # -- writing ---------------------------------------------------------------------------------
    def encode(self, chunks: Iterable[Buffer]) -> Iterator[Buffer]:
        import zstandard

        compressor = zstandard.ZstdCompressor(level=self.default_level if self.level is None else self.level,
                                              write_content_size=True, write_checksum=True)
        entries: list[tuple[int, int, bytes]] = []
        for frame in _cut(chunks, self.frame_size):
            compressed = compressor.compress(frame)
            entries.append((len(compressed), len(frame), compressed[-4:]))
            yield compressed
        yield seek_table(entries)

    # -- reading the whole stream ----------------------------------------------------------------
    def decode(self, chunks: Iterable[Buffer]) -> DecodeReader:
        return SeekableZstdReader(chunks, None)

    def decode_limited(self, chunks: Iterable[Buffer], limit: int) -> DecodeReader:
        """Each frame's content size is checked against what is left of ``limit`` before it is decompressed."""
        return SeekableZstdReader(chunks, limit)

    def decoded_size_bound(self, size: int) -> int:
        return ZSTD_MAX_RATIO * size

    # -- reading ranges --------------------------------------------------------------------------
    def open_ranges(self, read: Callable[[int, int], Any], size: int) -> RangeDecoder:
        """The decoded bytes a range at a time: the footer and the seek table are read now (one read
        of the stream's last :data:`TAIL_GUESS` bytes, two for a larger table), checked against
        ``size``; each range then reads the frames it lies in (one read)."""
        return SeekableRanges(read, size)


def _cut(chunks: Iterable[Buffer], frame_size: int) -> Iterator[memoryview]:
    """The stream ``chunks`` in pieces of ``frame_size`` bytes (the last shorter; one empty piece
    for an empty stream), as views of the input where a piece lies in one chunk."""
    pending = bytearray()
    produced = False
    for chunk in chunks:
        view = memoryview(chunk).cast("B")
        if pending:
            taken = view[: frame_size - len(pending)]
            pending += taken
            view = view[len(taken):]
            if len(pending) < frame_size:
                continue
            yield memoryview(pending)
            produced, pending = True, bytearray()
        whole = len(view) - len(view) % frame_size
        for start in range(0, whole, frame_size):
            yield view[start : start + frame_size]
            produced = True
        pending = bytearray(view[whole:])
    if pending or not produced:
        yield memoryview(pending)


def seek_table(entries: list[tuple[int, int, bytes]]) -> bytes:
    """The seek table's skippable frame for frames of ``(compressed size, decoded size, checksum)``."""
    body = b"".join(struct.pack("<II", compressed, decoded) + checksum for compressed, decoded, checksum in entries)
    footer = struct.pack("<IBI", len(entries), CHECKSUM_FLAG, SEEKABLE_MAGIC)
    return struct.pack("<II", SKIPPABLE_MAGIC, len(body) + FOOTER_SIZE) + body + footer


@dataclass(frozen=True)
class SeekTable:
    """A parsed seek table: per frame its compressed size, decoded size and checksum (or None)."""

    entries: np.ndarray
    has_checksums: bool

    @property
    def frame_count(self) -> int:
        return len(self.entries)

    @classmethod
    def parse(cls, frame: memoryview | bytes) -> SeekTable:
        """The table in ``frame``: the whole skippable frame, from its magic number to the footer."""
        frame = memoryview(frame).cast("B")
        if len(frame) < 8 + FOOTER_SIZE:
            raise _corrupt("its seek table is shorter than a footer")
        magic, body_size = struct.unpack_from("<II", frame)
        count, descriptor, seekable_magic = struct.unpack_from("<IBI", frame, len(frame) - FOOTER_SIZE)
        if magic != SKIPPABLE_MAGIC or seekable_magic != SEEKABLE_MAGIC:
            raise _corrupt("its seek table has wrong magic numbers (not a zstd-seekable stream)")
        if descriptor & RESERVED_BITS:
            raise _corrupt(f"its seek table descriptor {descriptor:#04x} sets reserved bits")
        checksums = bool(descriptor & CHECKSUM_FLAG)
        dtype = _ENTRY if checksums else _ENTRY_NO_CHECKSUM
        if body_size != len(frame) - 8 or body_size != count * dtype.itemsize + FOOTER_SIZE:
            raise _corrupt(f"its seek table's size ({body_size} bytes) does not fit {count} frames")
        return cls(np.frombuffer(frame[8 : 8 + count * dtype.itemsize], dtype=dtype), checksums)

    def checksum(self, index: int) -> bytes | None:
        return struct.pack("<I", int(self.entries["checksum"][index])) if self.has_checksums else None


def _frame_header(header: bytes) -> tuple[int, int | None, bool]:
    """A zstd frame's header length, content size (None: not recorded) and checksum flag, from
    its first bytes (the magic number, the descriptor, and the rest when given)."""
    if len(header) < 5 or struct.unpack_from("<I", header)[0] != ZSTD_MAGIC:
        raise _corrupt("a frame does not start with zstd's magic number")
    descriptor = header[4]
    if descriptor & 0x08:
        raise _corrupt("a frame header sets zstd's reserved bit")
    single_segment = bool(descriptor & 0x20)
    content_bytes = (1 if single_segment else 0, 2, 4, 8)[descriptor >> 6]
    length = 5 + (0 if single_segment else 1) + (0, 1, 2, 4)[descriptor & 3] + content_bytes
    content: int | None = None
    if content_bytes and len(header) >= length:
        content = int.from_bytes(header[length - content_bytes : length], "little") + (256 if content_bytes == 2 else 0)
    return length, content, bool(descriptor & 0x04)


def _decompress_frame(frame: memoryview, decoded_size: int, checksum: bytes | None) -> bytes:
    """One whole zstd frame, decompressed; it must decode to ``decoded_size`` bytes (its header
    says so before anything is decompressed) and carry ``checksum`` when the table has one."""
    import zstandard

    _, content, has_checksum = _frame_header(bytes(frame[:18]))
    if content is None:
        raise _corrupt("a frame does not record its content size (not written by zstd-seekable)")
    if content != decoded_size:
        raise _corrupt(f"a frame's header says it holds {content} bytes, its seek table {decoded_size}")
    if decoded_size > ZSTD_MAX_RATIO * len(frame):
        raise _corrupt(f"a frame of {len(frame)} bytes claims {decoded_size} decoded bytes, more than zstd can hold")
    if checksum is not None and has_checksum and bytes(frame[-4:]) != checksum:
        raise _corrupt("a frame's checksum differs from its seek table's")
    try:  # the output is allocated for the header's content size: zstd refuses to write past it
        out = zstandard.ZstdDecompressor().decompress(frame, allow_extra_data=False)
    except zstandard.ZstdError as exc:
        raise _corrupt(f"a frame does not decompress ({exc})") from None
    if len(out) != decoded_size:
        raise _corrupt(f"a frame decodes to {len(out)} bytes, its header says {decoded_size}")
    return out


class SeekableRanges(RangeDecoder):
    """The decoded bytes of a zstd-seekable stream, a range at a time (see the module's documentation).

    Opening reads the 9-byte footer and the table (one read for most tables), and checks them: the
    frames' compressed sizes and the table add up to the stream's size, every frame but the last
    decodes to the first one's size and the last to no more. A range then reads its frames in one ``read`` and checks
    each (:func:`_decompress_frame`).
    """

    def __init__(self, read: Callable[[int, int], Any], size: int) -> None:
        self._read = read
        if size < FOOTER_SIZE:
            raise _corrupt(f"it holds {size} bytes, fewer than a seek table's footer")
        tail = bytes(self._exact(size - min(size, TAIL_GUESS), size))  # the footer, and most tables with it
        footer = tail[-FOOTER_SIZE:]
        count = struct.unpack_from("<I", footer)[0]
        entry = _ENTRY if footer[4] & CHECKSUM_FLAG else _ENTRY_NO_CHECKSUM
        table_size = 8 + count * entry.itemsize + FOOTER_SIZE
        if table_size > size:
            raise _corrupt(f"its footer describes a seek table of {table_size} bytes in a stream of {size}")
        if table_size > len(tail):  # a table of more frames than the guess holds: one more read
            tail = bytes(self._exact(size - table_size, size - len(tail))) + tail
        table = SeekTable.parse(tail[len(tail) - table_size:])
        compressed = table.entries["compressed"].astype(np.int64)
        decoded = table.entries["decompressed"].astype(np.int64)
        self._starts = np.concatenate(([0], np.cumsum(compressed)))
        if self._starts[-1] + table_size != size:
            raise _corrupt(f"its seek table's frames hold {self._starts[-1]} bytes, the stream {size - table_size}")
        self.frame_size = int(decoded[0]) if count else 0
        last = int(decoded[-1]) if count else 0
        if np.any(decoded[:-1] != self.frame_size) or last > self.frame_size or (count > 1 and last == 0):
            raise _corrupt("its seek table's frames are not all of one decoded size (the last no larger)")
        if np.any(decoded > ZSTD_MAX_RATIO * compressed):
            raise _corrupt("its seek table claims frames that decode to more than zstd can hold")
        self._table = table
        self.size = self.frame_size * (count - 1) + last if count else 0
        self.granularity = max(self.frame_size, 1)

    def _exact(self, first: int, end: int) -> memoryview:
        data = memoryview(self._read(first, end)).cast("B")
        if len(data) != end - first:
            raise _corrupt(f"it ends inside bytes [{first}, {end}) its seek table locates")
        return data

    def read(self, start: int, stop: int) -> memoryview:
        buffer = memoryview(bytearray(max(0, min(stop, self.size) - start)))
        return buffer[: self.readinto(start, buffer)]

    def readinto(self, start: int, buffer: memoryview) -> int:
        stop = min(start + len(buffer), self.size)
        if stop <= start:
            return 0
        first, final = start // self.frame_size, (stop - 1) // self.frame_size
        base = int(self._starts[first])
        stored = self._exact(base, int(self._starts[final + 1]))
        decoded = self._table.entries["decompressed"]
        for index in range(first, final + 1):
            frame = stored[int(self._starts[index]) - base : int(self._starts[index + 1]) - base]
            out = _decompress_frame(frame, int(decoded[index]), self._table.checksum(index))
            frame_start = index * self.frame_size
            piece = out[max(start - frame_start, 0) : stop - frame_start]
            at = max(frame_start - start, 0)
            buffer[at : at + len(piece)] = piece
        return stop - start


class SeekableZstdReader(DecodeReader):
    """A whole zstd-seekable stream decoded in order, frame by frame, into the caller's buffer.

    Frames are found by their block headers (no decompression needed to find where one ends); each
    frame's content size is checked against ``limit`` (what the object's metadata promises) before
    it is decompressed. At the end the seek table must be there, and describe the frames read.
    """

    def __init__(self, chunks: Iterable[Buffer], limit: int | None) -> None:
        self._input = _ChunkReader(chunks)
        self._limit = limit
        self._produced = 0
        self._pending = memoryview(b"")
        self._seen: list[tuple[int, int, bytes | None]] = []  # per frame: compressed, decoded, checksum
        self._done = False

    def readinto(self, buffer: memoryview) -> int:
        filled = 0
        while filled < len(buffer):
            if not len(self._pending):
                if self._done:
                    break
                self._next_frame()
                continue
            count = min(len(self._pending), len(buffer) - filled)
            buffer[filled : filled + count] = self._pending[:count]
            self._pending = self._pending[count:]
            filled += count
        return filled

    def _take(self, size: int) -> bytes:
        parts: list[bytes] = []
        got = 0
        while got < size:
            piece = self._input.read(size - got)
            if not len(piece):
                raise _corrupt("it ends inside a frame or before its seek table")
            parts.append(bytes(piece))
            got += len(piece)
        return b"".join(parts)

    def _next_frame(self) -> None:
        start = self._take(4)
        magic = struct.unpack("<I", start)[0]
        if magic == SKIPPABLE_MAGIC:
            self._finish(start)
            return
        head = start + self._take(1)
        length, _, _ = _frame_header(head)
        head += self._take(length - 5)
        length, content, has_checksum = _frame_header(head)
        if content is None:
            raise _corrupt("a frame does not record its content size (not written by zstd-seekable)")
        if self._limit is not None and self._produced + content > self._limit:
            raise IntegrityError(
                f"The zstd-seekable stream decodes to more than the {self._limit} bytes its object's metadata "
                "describes: the object or its metadata is damaged"
            )
        parts = [head]
        size = len(head)
        bound = content + (content >> 7) + 1024  # zstd's compress bound, with room
        last = False
        while not last:
            block_header = self._take(3)
            value = int.from_bytes(block_header, "little")
            last, kind, block_size = bool(value & 1), (value >> 1) & 3, value >> 3
            if kind == 3 or block_size > BLOCK_MAX:
                raise _corrupt("a frame has an invalid block header")
            parts += [block_header, self._take(1 if kind == 1 else block_size)]
            size += 3 + len(parts[-1])
            if size > bound:
                raise _corrupt(f"a frame of {content} decoded bytes is longer than zstd writes")
        if has_checksum:
            parts.append(self._take(4))
        frame = memoryview(b"".join(parts))
        checksum = bytes(frame[-4:]) if has_checksum else None
        self._pending = memoryview(_decompress_frame(frame, content, checksum))
        self._seen.append((len(frame), content, checksum))
        self._produced += content

    def _finish(self, magic: bytes) -> None:
        size_field = self._take(4)
        table = SeekTable.parse(magic + size_field + self._take(struct.unpack("<I", size_field)[0]))
        if len(self._input.read(1)):
            raise _corrupt("it has bytes after its seek table")
        if table.frame_count != len(self._seen):
            raise _corrupt(f"its seek table lists {table.frame_count} frames, the stream holds {len(self._seen)}")
        for index, (compressed, decoded, checksum) in enumerate(self._seen):
            entry = table.entries[index]
            listed = table.checksum(index)
            if (int(entry["compressed"]), int(entry["decompressed"])) != (compressed, decoded) or (
                    listed is not None and checksum is not None and listed != checksum):
                raise _corrupt(f"its seek table's entry for frame {index} does not describe the frame")
        self._done = True
