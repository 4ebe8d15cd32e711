"""Compression transforms from the standard library: gzip, zlib, bz2, lzma.

Each streams in both directions and bounds the output of one decompression step, so a highly
compressed object never expands into one huge buffer. The formats are the plain standard streams
that cottoncandy 0.4 wrote (``gzip``) or that numcodecs writes for ``Zlib``, ``BZ2`` and ``LZMA``.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..errors import IntegrityError
from ..payload import Buffer
from ..transform import COMPRESSION, Transform, limit_output

OUTPUT_STEP = 8 * 1024 * 1024
DEFLATE_MAX_RATIO = 1032


class LeveledCompression(Transform):
    """A compression whose level comes from ``[compression] <name>_level`` in the config."""

    kind = COMPRESSION

    def __init__(self, level: int | None = None) -> None:
        self.level = level

    @classmethod
    def from_config(cls, config: Any, **options: Any) -> LeveledCompression:
        if "level" not in options and config is not None:
            level = config.get("compression", f"{cls.name}_level", fallback="")
            if level:
                options["level"] = int(level)
        return cls(**options)


class StreamCompression(LeveledCompression):
    """A compressor with ``compress``/``flush`` objects and a bounded-output decompressor."""

    def _compressor(self) -> Any:
        raise NotImplementedError

    def _decompressor(self) -> Any:
        raise NotImplementedError

    def encode(self, chunks: Iterable[Buffer]) -> Iterator[Buffer]:
        compressor = self._compressor()
        for chunk in chunks:
            out = compressor.compress(chunk)
            if out:
                yield out
        yield compressor.flush()

    def decode(self, chunks: Iterable[Buffer]) -> Iterator[Buffer]:
        return self._decode(chunks, OUTPUT_STEP)

    def decode_limited(self, chunks: Iterable[Buffer], limit: int) -> Iterator[Buffer]:
        """Decompress at most ``limit + 1`` bytes per step, so a small promise stops a bomb early."""
        return limit_output(self._decode(chunks, min(OUTPUT_STEP, limit + 1)), limit, self.name)

    def _decode(self, chunks: Iterable[Buffer], step: int) -> Iterator[Buffer]:
        decompressor = self._decompressor()
        for chunk in chunks:
            yield from self._drain(decompressor, chunk, step)
        yield from self._drain(decompressor, b"", step)
        if not decompressor.eof:
            raise IntegrityError(f"The {self.name} stream ends early: the object is truncated")

    def _drain(self, decompressor: Any, data: Buffer, step: int) -> Iterator[Buffer]:
        try:
            while True:
                out = decompressor.decompress(data, step)
                if out:
                    yield out
                data = self._pending(decompressor)
                if not data and (not out or decompressor.eof or len(out) < step):
                    return
        except (zlib.error, OSError, lzma.LZMAError, EOFError) as exc:
            raise IntegrityError(f"The {self.name} stream is corrupt: {exc}") from None

    def _pending(self, decompressor: Any) -> bytes:
        return b""


class _ZlibFamily(StreamCompression):
    wbits = zlib.MAX_WBITS
    default_level = 6

    def _compressor(self) -> Any:
        level = self.default_level if self.level is None else self.level
        return zlib.compressobj(level, zlib.DEFLATED, self.wbits)

    def _decompressor(self) -> Any:
        return zlib.decompressobj(self.wbits)

    def _pending(self, decompressor: Any) -> bytes:
        return decompressor.unconsumed_tail


    def decoded_size_bound(self, size: int) -> int:
        """Deflate's largest ratio: a 258-byte match in 2 bits, 1032 bytes per stored byte."""
        return DEFLATE_MAX_RATIO * size


class GzipTransform(_ZlibFamily):
    """gzip streams (cottoncandy 0.4's default compression, written here at level 6)."""

    name = "gzip"
    legacy_name = "gzip"
    wbits = 16 + zlib.MAX_WBITS


class ZlibTransform(_ZlibFamily):
    """zlib streams, as numcodecs' ``Zlib`` writes them."""

    name = "zlib"
    legacy_name = "Zlib"


class _BoundedDecompressor(StreamCompression):
    """bz2 and lzma decompressors keep unconsumed input themselves (``needs_input``)."""

    factory: Callable[[], Any]

    def _drain(self, decompressor: Any, data: Buffer, step: int) -> Iterator[Buffer]:
        if decompressor.eof:
            if len(data):
                raise IntegrityError(f"The {self.name} stream has data after its end: the object is damaged")
            return
        try:
            out = decompressor.decompress(data, step)
            if out:
                yield out
            while not decompressor.eof and not decompressor.needs_input:
                out = decompressor.decompress(b"", step)
                if out:
                    yield out
        except (OSError, lzma.LZMAError, EOFError, ValueError) as exc:
            raise IntegrityError(f"The {self.name} stream is corrupt: {exc}") from None


class Bz2Transform(_BoundedDecompressor):
    """bz2 streams, as numcodecs' ``BZ2`` writes them."""

    name = "bz2"
    legacy_name = "BZ2"

    def _compressor(self) -> Any:
        return bz2.BZ2Compressor(9 if self.level is None else self.level)

    def _decompressor(self) -> Any:
        return bz2.BZ2Decompressor()


class LzmaTransform(_BoundedDecompressor):
    """xz streams, as numcodecs' ``LZMA`` writes them."""

    name = "lzma"
    aliases = ("xz",)
    legacy_name = "LZMA"

    def _compressor(self) -> Any:
        return lzma.LZMACompressor(preset=self.level)

    def _decompressor(self) -> Any:
        return lzma.LZMADecompressor()
