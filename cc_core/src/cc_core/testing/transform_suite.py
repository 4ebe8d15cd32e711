"""The conformance suite every byte transform passes."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from ..errors import IntegrityError
from ..pipeline import StreamSource
from ..transform import Transform


def _run(steps, chunks):
    return b"".join(bytes(c) for c in steps(iter(chunks)))


class TransformConformance:
    """Subclass and provide a ``transform`` fixture (an instance, as ``from_config`` would make it).

    ``detects_truncation`` / ``detects_corruption``: whether decoding damaged input must raise
    :class:`IntegrityError` (True for framed compressors and for encryption). A transform that
    declares :attr:`~cc_core.transform.Transform.decodes_ranges` is checked for its ranges too.
    """

    detects_truncation = True
    detects_corruption = False

    @pytest.fixture
    def transform(self) -> Transform:  # pragma: no cover - subclasses override
        raise NotImplementedError("provide a `transform` fixture")

    @pytest.mark.parametrize("size", [0, 1, 1000, 3 * 1024 * 1024 + 5])
    def test_round_trip(self, transform: Transform, size: int) -> None:
        data = (os.urandom(size // 2) + bytes(size - size // 2))
        encoded = _run(transform.encode, [data])
        assert _run(transform.decode, [encoded]) == data

    @pytest.mark.parametrize("size", [0, 1000, 3 * 1024 * 1024 + 5])
    def test_encode_sized_as_the_pipeline_calls_it(self, transform: Transform, size: int) -> None:
        """The pipeline encodes with ``encode_sized(chunks, size)`` (the size when it knows it) and,
        when ``encoded_size(size)`` answers, streams exactly that many bytes to the backend."""
        data = os.urandom(size // 2) + bytes(size - size // 2)
        pieces = [data[i : i + 100_000] for i in range(0, len(data), 100_000)] or [b""]
        for known in (None, size):
            encoded = _run(lambda chunks, known=known: transform.encode_sized(chunks, known), pieces)
            assert _run(transform.decode, [encoded]) == data, (
                f"decode(encode_sized(chunks, {known})) did not give the input back")
        promised = transform.encoded_size(size)
        if promised is not None:
            assert promised == len(encoded), (
                f"encoded_size({size}) says {promised} bytes but encode_sized wrote {len(encoded)}: the pipeline "
                "would send a truncated or padded object. Return None from encoded_size when the length varies")

    def test_chunking_does_not_matter(self, transform: Transform) -> None:
        data = bytes(range(256)) * 5000
        pieces = [data[i : i + 7919] for i in range(0, len(data), 7919)]
        encoded = _run(transform.encode, pieces)
        split = [encoded[i : i + 4099] for i in range(0, len(encoded), 4099)]
        assert _run(transform.decode, split) == data
        assert _run(transform.decode, [encoded]) == data

    def test_accepts_memoryviews(self, transform: Transform) -> None:
        data = bytearray(b"memoryview input " * 100)
        encoded = _run(transform.encode, [memoryview(data)])
        assert _run(transform.decode, [memoryview(encoded)]) == bytes(data)

    @pytest.mark.parametrize("read_size", [1, 4096, 1 << 20, 3 * 1024 * 1024 + 6])
    def test_decoding_into_buffers_of_any_size(self, transform: Transform, read_size: int) -> None:
        """What the pipeline reads into an array: a :class:`DecodeReader` is handed the buffers
        themselves, chunks are copied into them; either way every size gets the same bytes."""
        data = os.urandom(1 << 20) + bytes(2 << 20) + b"tail"
        if read_size == 1:
            data = data[:5000]
        encoded = _run(transform.encode, [data])
        source = StreamSource("", iter(transform.decode(iter([encoded[:1000], encoded[1000:]]))))
        parts = []
        buffer = memoryview(bytearray(read_size))
        while count := source.readinto(buffer):
            parts.append(bytes(buffer[:count]))
            if count < read_size:
                break
        assert b"".join(parts) == data
        assert source.readinto(buffer) == 0

    def test_truncated_input_is_an_error(self, transform: Transform) -> None:
        if not self.detects_truncation:
            pytest.skip("this transform's format cannot tell a truncated stream")
        encoded = _run(transform.encode, [os.urandom(5000)])
        with pytest.raises(IntegrityError):
            _run(transform.decode, [encoded[: len(encoded) // 2]])

    def test_corrupt_input_is_an_error(self, transform: Transform) -> None:
        if not self.detects_corruption:
            pytest.skip("this transform does not authenticate its input")
        encoded = bytearray(_run(transform.encode, [os.urandom(5000)]))
        encoded[len(encoded) // 2] ^= 0x01
        with pytest.raises(IntegrityError):
            _run(transform.decode, [bytes(encoded)])

    @pytest.mark.parametrize("size", [0, 1, 100_000, 3 * 1024 * 1024 + 5])
    def test_ranges_decode_what_decode_decodes(self, transform: Transform, size: int) -> None:
        """A transform that declares :attr:`Transform.decodes_ranges`: every range of
        :meth:`Transform.open_ranges`, from several threads at once, is that slice of the input."""
        if not transform.decodes_ranges:
            pytest.skip("this transform does not decode ranges (decodes_ranges is False)")
        data = os.urandom(size // 2) + bytes(size - size // 2)
        encoded = _run(transform.encode, [data])
        decoder = transform.open_ranges(lambda first, end: encoded[first:end], len(encoded))
        assert decoder.size == size
        edges = sorted({0, 1, size // 3, size // 2, size - 1, size, size + 7} - {-1})
        ranges = [(a, b) for a in edges for b in edges if a <= b] + [(size, size + 10)]
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda r: bytes(decoder.read(*r)), ranges))
        for (a, b), result in zip(ranges, results, strict=True):
            assert result == data[a:b], f"open_ranges(...).read({a}, {b}) is not that slice of the input"
        buffer = memoryview(bytearray(min(size, 1000)))
        assert decoder.readinto(size // 2, buffer) == len(data[size // 2 : size // 2 + len(buffer)])
        assert bytes(buffer[: len(data[size // 2 :])]) == data[size // 2 : size // 2 + len(buffer)]

    def test_ranges_of_truncated_input_are_an_error(self, transform: Transform) -> None:
        if not (transform.decodes_ranges and self.detects_truncation):
            pytest.skip("this transform does not decode ranges, or cannot tell a truncated stream")
        encoded = _run(transform.encode, [os.urandom(50_000)])
        cut = encoded[: len(encoded) - 5]
        with pytest.raises(IntegrityError):
            decoder = transform.open_ranges(lambda first, end: cut[first:end], len(cut))
            decoder.read(0, decoder.size)
