"""zstd, lz4 and blosc transforms: conformance, and byte-for-byte numcodecs compatibility."""

from __future__ import annotations

import os

import numcodecs
import numpy as np
import pytest
import zstandard

from cc_codec_npy.compression import BloscTransform, LZ4Transform, ZstdTransform
from cc_core.builtin.compression import OUTPUT_STEP
from cc_core.errors import IntegrityError
from cc_core.testing import TransformConformance

SAMPLE = os.urandom(3000) + bytes(range(256)) * 400 + bytes(20000)


def encode(transform, data, pieces=1):
    step = max(1, len(data) // pieces)
    chunks = [data[i : i + step] for i in range(0, len(data), step)]
    return b"".join(bytes(c) for c in transform.encode(iter(chunks)))


def decode(transform, data):
    return b"".join(bytes(c) for c in transform.decode(iter([data])))


class TestZstdConformance(TransformConformance):
    @pytest.fixture
    def transform(self):
        return ZstdTransform()


class TestLZ4Conformance(TransformConformance):
    @pytest.fixture
    def transform(self):
        return LZ4Transform()


class TestBloscConformance(TransformConformance):
    @pytest.fixture
    def transform(self):
        return BloscTransform()


@pytest.mark.parametrize(
    "transform, codec",
    [(ZstdTransform(), numcodecs.Zstd()), (LZ4Transform(), numcodecs.LZ4()), (BloscTransform(), numcodecs.Blosc())],
    ids=["zstd", "lz4", "blosc"],
)
@pytest.mark.parametrize("pieces", [1, 7])
def test_output_is_what_numcodecs_writes(transform, codec, pieces):
    written = encode(transform, SAMPLE, pieces)
    assert written == bytes(codec.encode(SAMPLE))
    assert bytes(codec.decode(written)) == SAMPLE
    assert decode(transform, bytes(codec.encode(SAMPLE))) == SAMPLE


def test_lz4_keeps_numcodecs_length_header():
    written = encode(LZ4Transform(), SAMPLE)
    assert int.from_bytes(written[:4], "little") == len(SAMPLE)


def test_zstd_frame_records_content_size_for_old_numcodecs():
    written = encode(ZstdTransform(), SAMPLE, pieces=5)
    assert zstandard.get_frame_parameters(written).content_size == len(SAMPLE)


def test_zstd_level_comes_from_config(cc_settings):
    cc_settings.set("compression", "zstd_level", "19")
    transform = ZstdTransform.from_config(cc_settings)
    assert transform.level == 19
    data = np.linspace(0, 1, 50000).tobytes()
    assert encode(transform, data) == bytes(numcodecs.Zstd(level=19).encode(data))
    assert len(encode(transform, data)) < len(encode(ZstdTransform(level=1), data))


def test_zstd_decodes_in_bounded_steps():
    zeros = bytes(5 * OUTPUT_STEP + 123)
    compressed = encode(ZstdTransform(), zeros)
    sizes = [len(chunk) for chunk in ZstdTransform().decode(iter([compressed]))]
    assert sum(sizes) == len(zeros)
    assert max(sizes) <= OUTPUT_STEP


def test_zstd_reads_frames_without_content_size():
    compressor = zstandard.ZstdCompressor(write_content_size=False).compressobj()
    frame = compressor.compress(SAMPLE) + compressor.flush()
    assert decode(ZstdTransform(), frame) == SAMPLE


@pytest.mark.parametrize("transform", [ZstdTransform(), LZ4Transform(), BloscTransform()], ids=["zstd", "lz4", "blosc"])
def test_garbage_is_an_integrity_error(transform):
    with pytest.raises(IntegrityError):
        decode(transform, b"this is not compressed data at all" * 3)


def test_blosc_frame_with_wrong_length_is_refused():
    written = encode(BloscTransform(), SAMPLE)
    with pytest.raises(IntegrityError, match="truncated"):
        decode(BloscTransform(), written + b"\0")


def test_zstd_with_a_known_size_compresses_as_the_input_arrives():
    # zstd's worker threads take jobs of about 2 MiB and hold a few at a time: the first output
    # appears after a few jobs (when depends on thread scheduling), long before the end
    data = os.urandom(32 << 20)
    step = 64 << 10
    consumed = []

    def pieces():
        for start in range(0, len(data), step):
            consumed.append(start)
            yield data[start : start + step]

    encoded = ZstdTransform().encode_sized(pieces(), len(data))
    first = next(encoded)
    assert first and len(consumed) * step <= len(data) // 2
    frame = bytes(first) + b"".join(bytes(c) for c in encoded)
    # numcodecs writes a single-segment frame when it holds the whole input; a streamed frame
    # has a window instead, and numcodecs (so cottoncandy 0.4) decodes it just the same
    assert zstandard.get_frame_parameters(frame).content_size == len(data)
    assert bytes(numcodecs.Zstd().decode(frame)) == data
    with pytest.raises(IntegrityError, match="announced"):
        list(ZstdTransform().encode_sized(iter([SAMPLE]), len(SAMPLE) + 1))


def test_streamed_uploads_compress_with_zstd(interface, tmp_path):
    path = tmp_path / "file.bin"
    path.write_bytes(SAMPLE * 3)
    with open(path, "rb") as file:
        interface.upload_object("f", file, transforms="zstd")
    assert interface.download_object("f") == SAMPLE * 3
    assert interface.get_object("f").metadata["cc-transforms"] == "zstd"
