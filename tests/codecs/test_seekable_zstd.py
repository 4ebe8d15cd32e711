"""The ``zstd-seekable`` transform: round trips, slices that read only the frames they touch (also
compressed and then encrypted), output any zstd decoder reads, and damage that is refused."""

from __future__ import annotations

import io
import struct
import tracemalloc
import uuid

import numpy as np
import pytest

import cottoncandy as cc
from cc_codec_npy.seekable_zstd import DEFAULT_FRAME_SIZE, MIN_FRAME_SIZE, TAIL_GUESS, SeekableZstdTransform
from cc_core.errors import ConfigError, IntegrityError
from cc_core.payload import Payload
from cc_core.pipeline import PREFIX_SIZE
from cc_core.testing import TransformConformance
from cc_core.testing.read_counter import ReadCounter

zstandard = pytest.importorskip("zstandard")

from s3.conftest import ACCESS_KEY, SECRET_KEY, SMALL_PART, moto_endpoint  # noqa: E402,F401  (the S3 suite's moto server)

pytestmark = pytest.mark.filterwarnings("ignore::cc_crypto.keys.MasterKeyCreatedWarning")

FRAME = 64 << 10
SEGMENT = 16 << 10
FOOTER = 9
ENTRY = 12


def random_floats(count: int) -> np.ndarray:
    """Floats that compress to about a third: frames of different compressed sizes."""
    return np.round(np.random.default_rng(count).standard_normal(count), 2)


@pytest.fixture(params=["local", "s3"])
def make(request, tmp_path, cc_settings):
    """``make(encrypted=False)``: an interface writing frames of FRAME bytes (and segments of SEGMENT)."""
    if request.param == "s3":
        pytest.importorskip("cc_backend_s3")
        pytest.importorskip("moto")
        endpoint = request.getfixturevalue("moto_endpoint")
        place = (f"cc-seek-{uuid.uuid4().hex[:12]}", ACCESS_KEY, SECRET_KEY, endpoint)
        options = {"backend": "s3", "min_part_size": SMALL_PART}
    else:
        place, options = (str(tmp_path / "store"),), {"backend": "local"}

    def interface(encrypted: bool = False):
        factory = cc.get_encrypted_interface if encrypted else cc.get_interface
        made = factory(*place, force_bucket_creation=True, settings=cc_settings, verbose=False, **options)
        made.pipeline.configure_transform("zstd-seekable", frame_size=FRAME)
        if encrypted:
            made.pipeline.configure_transform("aes-gcm", segment_size=SEGMENT)
        return made

    return interface


def table_of(stored: bytes) -> np.ndarray:
    """The seek table entries of a stored stream: (compressed, decompressed, checksum) per frame."""
    count, descriptor, magic = struct.unpack("<IBI", stored[-FOOTER:])
    assert magic == 0x8F92EAB1 and descriptor == 0x80
    body = stored[len(stored) - FOOTER - count * ENTRY : len(stored) - FOOTER]
    return np.frombuffer(body, dtype=[("compressed", "<u4"), ("decompressed", "<u4"), ("checksum", "<u4")])


@pytest.mark.parametrize("codec", ["raw", "npy"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("shape", [(0,), (3, 0), (7,), (FRAME // 8,), (1000, 37), (40_000, 3)],
                         ids=["empty", "empty-2d", "tiny", "one-frame", "not-a-multiple", "many-frames"])
def test_round_trip(make, codec, order, shape):
    cci = make()
    array = np.asarray(random_floats(int(np.prod(shape))).reshape(shape), order=order)
    if codec == "raw":
        cci.upload_raw_array("a", array, compression="zstd-seekable")
    else:  # npy objects take a transform chain (upload_npy_array writes plain .npy)
        cci.put_value("a", array, "npy", transforms="zstd-seekable")
    assert cci.backend.head("a").metadata["cc-transforms"] == "zstd-seekable"
    back = getattr(cci, f"download_{codec}_array")("a")
    np.testing.assert_array_equal(back, array)
    lazy = cci.open_array("a")
    assert lazy.seekable and lazy.shape == shape
    np.testing.assert_array_equal(lazy[...], array)
    key = (slice(1, None), slice(None, None, -2))[: array.ndim]
    np.testing.assert_array_equal(lazy[key], array[key])


def test_output_is_a_multi_frame_zstd_stream_any_decoder_reads(make):
    cci = make()
    array = random_floats(100_000)
    cci.upload_raw_array("a", array, compression="zstd-seekable")
    stored = cci.backend.get("a")
    entries = table_of(stored)
    assert len(entries) == -(-array.nbytes // FRAME) and set(entries["decompressed"][:-1]) == {FRAME}
    assert entries["compressed"].sum() + 8 + len(entries) * ENTRY + FOOTER == len(stored)
    plain = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(stored), read_across_frames=True).read()
    assert plain == array.tobytes()
    # each entry's checksum is the one zstd wrote at its frame's end
    first = stored[: entries["compressed"][0]]
    assert struct.unpack("<I", first[-4:])[0] == entries["checksum"][0]


def test_plain_zstd_is_unchanged_and_0_4_refuses_the_seekable_form(local_interface):
    array = np.arange(10.0)
    local_interface.upload_raw_array("plain", array, compression="zstd")
    local_interface.upload_raw_array("seekable", array, compression="zstd-seekable")
    assert local_interface.backend.head("plain").metadata["compression"] == "Zstd"
    assert local_interface.backend.head("seekable").metadata["compression"] == "zstd-seekable"  # 0.4: unknown
    assert zstandard.ZstdDecompressor().decompress(local_interface.backend.get("plain")) == array.tobytes()


@pytest.mark.parametrize("encrypted", [False, True], ids=["compressed", "compressed+encrypted"])
def test_slices_read_only_the_frames_they_touch(make, monkeypatch, encrypted):
    cci = make(encrypted)
    array = random_floats(20_000 * 64).reshape(20_000, 64)  # 10 MiB: 160 frames
    cci.upload_raw_array("big", array, compression="zstd-seekable")
    assert cci.backend.head("big").metadata["cc-transforms"] == ("zstd-seekable,aes-gcm" if encrypted
                                                                 else "zstd-seekable")
    stream = _compressed(cci, "big") if encrypted else cci.backend.get("big")
    entries = table_of(stream)
    table = 8 + len(entries) * ENTRY + FOOTER
    frame = int(entries["compressed"].max())
    # encrypted: the header, and the segments (at most two) under each read
    segments = 4096 + 2 * (SEGMENT + 16) if encrypted else 0
    counter = ReadCounter(cci.backend, monkeypatch)
    lazy = cci.open_array("big")
    assert lazy.seekable
    tail = max(table, min(len(stream), TAIL_GUESS))  # the footer and the table, read together
    if encrypted:  # the header, then the segments under the stream's tail, each read and decrypted once
        under_tail = range((len(stream) - tail) // SEGMENT, (len(stream) - 1) // SEGMENT + 1)
        assert counter.requested <= 4096 + sum(min(SEGMENT, len(stream) - i * SEGMENT) + 16 for i in under_tail)
    else:  # the object's first bytes with its metadata, then the tail: two requests
        assert counter.requested <= PREFIX_SIZE + tail and counter.requests == 2
    counter.reset()
    np.testing.assert_array_equal(lazy[12_345:12_355], array[12_345:12_355])  # 5 KiB inside frame 96
    selection = 10 * 64 * 8
    assert selection < counter.requested <= 2 * selection + frame + segments
    for key in [np.s_[7], np.s_[-3:, 5], np.s_[::4000, ::-9], np.s_[..., 63], np.s_[5_000:15_000]]:
        np.testing.assert_array_equal(lazy[key], array[key])
    counter.reset()
    # rows 10 KiB apart, read with gap=0: runs closer than a frame still fetch each frame once
    np.testing.assert_array_equal(cci.open_array("big", gap=0)[:2000:20], array[:2000:20])
    # 16 frames hold the rows; the open reads the first bytes with the info, and the table
    assert counter.requested <= PREFIX_SIZE + entries["compressed"][:16].sum() + tail + 3 * segments
    np.testing.assert_array_equal(cci.download_raw_array("big"), array)  # whole, through the same chain


def test_a_seek_table_larger_than_the_first_read_takes_one_more(make, monkeypatch):
    cci = make()
    cci.pipeline.configure_transform("zstd-seekable", frame_size=1024)
    array = random_floats(1 << 18)  # 2 MiB in 1 KiB frames: a table of 2,048 entries, 24 KiB
    cci.upload_raw_array("many", array, compression="zstd-seekable")
    table = 8 + len(table_of(cci.backend.get("many"))) * ENTRY + FOOTER
    assert table > TAIL_GUESS
    counter = ReadCounter(cci.backend, monkeypatch)
    lazy = cci.open_array("many")
    assert counter.requests == 3  # the first bytes with the metadata, the tail, the rest of the table
    assert counter.requested <= PREFIX_SIZE + table
    np.testing.assert_array_equal(lazy[100_000:100_010], array[100_000:100_010])


def _compressed(cci, name: str) -> bytes:
    """The zstd-seekable stream inside an encrypted object (its plaintext)."""
    from cc_core.transform import ObjectPlace

    info = cci.backend.head(name)
    transform = cci.pipeline.transform("aes-gcm").for_reading(info.metadata, ObjectPlace.of(cci.backend, name))
    stored = cci.backend.get(name)
    return transform.plaintext_range(lambda first, end: stored[first:end], len(stored), 0)


# -- damage ---------------------------------------------------------------------------------------
def _flip(at):
    def damage(stored: bytes) -> bytes:
        where = at(stored)
        return stored[:where] + bytes([stored[where] ^ 0x10]) + stored[where + 1:]
    return damage


def _entry(field: int, index: int, change):
    """The seek table with field ``field`` (0: compressed, 1: decompressed) of entry ``index`` changed."""
    def damage(stored: bytes) -> bytes:
        count = struct.unpack("<I", stored[-FOOTER:-5])[0]
        at = len(stored) - FOOTER - (count - index % count) * ENTRY + 4 * field
        value = struct.unpack("<I", stored[at : at + 4])[0]
        return stored[:at] + struct.pack("<I", change(value)) + stored[at + 4:]
    return damage


DAMAGE = {
    "byte-in-a-frame": _flip(lambda s: table_of(s)["compressed"][:3].sum() + 100),
    "byte-in-the-table": _flip(lambda s: len(s) - FOOTER - 3 * ENTRY - 2),
    "byte-in-the-footer": _flip(lambda s: len(s) - 1),
    "truncated-by-one": lambda s: s[:-1],
    "table-cut-off": lambda s: s[: table_of(s)["compressed"].sum()],
    "frame-cut-out": lambda s: s[: table_of(s)["compressed"][0]] + s[table_of(s)["compressed"][:2].sum():],
    "table-claims-more-in-last-frame": _entry(1, -1, lambda v: v + 8),
    "table-claims-more-in-a-frame": _entry(1, 2, lambda v: v + 8),
    "table-shifts-frame-boundaries": _entry(0, 1, lambda v: v + 1),
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_damage_is_refused_never_a_wrong_array(local_interface, damage):
    local_interface.pipeline.configure_transform("zstd-seekable", frame_size=FRAME)
    array = random_floats(FRAME // 8 * 6 + 100)  # 7 frames
    transform = local_interface.pipeline.transform("zstd-seekable")
    stored = damage(b"".join(bytes(c) for c in transform.encode([array.tobytes()])))
    local_interface.backend.put("bad", Payload([stored]), {  # planted without a checksum: the format's own checks
        "cc-codec": "raw", "cc-transforms": "zstd-seekable", "dtype": "<f8", "shape": str(array.shape), "order": "C"})
    with pytest.raises(IntegrityError, match="'bad'"):
        local_interface.download_raw_array("bad")
    with pytest.raises(IntegrityError, match="'bad'"):
        lazy = local_interface.open_array("bad")
        for frame in range(7):  # every frame read on its own: none may come back wrong
            start = frame * FRAME // 8
            np.testing.assert_array_equal(lazy[start : start + 10], array[start : start + 10])
            np.testing.assert_array_equal(lazy[-10:], array[-10:])


def test_a_damaged_encrypted_frame_is_refused(make):
    cci = make(encrypted=True)
    array = random_floats(30_000)
    cci.upload_raw_array("a", array, compression="zstd-seekable")
    stored = bytearray(cci.backend.get("a"))
    stored[len(stored) // 2] ^= 1
    info = cci.backend.head("a")
    cci.backend.put("a", Payload([bytes(stored)]), dict(info.metadata))
    lazy = cci.open_array("a")
    with pytest.raises(IntegrityError):
        lazy[len(array) // 2 - 500 : len(array) // 2 + 500]


def test_a_decode_bomb_is_refused_in_bounded_memory(local_interface):
    """64 MiB of zeros whose metadata says 8 KiB: refused before the frames past the promise decompress."""
    transform = local_interface.pipeline.transform("zstd-seekable")
    stored = b"".join(bytes(c) for c in transform.encode([bytes(64 << 20)]))
    local_interface.backend.put("bomb", Payload([stored]), {
        "cc-codec": "raw", "cc-transforms": "zstd-seekable", "dtype": "|u1", "shape": str(8 << 10), "order": "C"})
    tracemalloc.start()
    try:
        with pytest.raises(IntegrityError, match="'bomb'"):
            local_interface.download_raw_array("bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"{peak / 2**20:.0f} MiB allocated for an 8 KiB promise"
    with pytest.raises(IntegrityError, match="'bomb'"):
        local_interface.open_array("bomb")


# -- choosing it -----------------------------------------------------------------------------------
def test_frame_size_and_level_come_from_the_config(local_interface, cc_settings):
    cc_settings.set("compression", "seekable_frame_size", "16KB")
    cc_settings.set("compression", "zstd_level", "5")
    transform = type(local_interface.pipeline.transform("zstd-seekable")).from_config(cc_settings)
    assert (transform.frame_size, transform.level) == (16 << 10, 5)
    cc_settings.set("compression", "seekable_frame_size", "10")
    with pytest.raises(ConfigError, match="seekable_frame_size"):
        type(transform).from_config(cc_settings)


def test_chosen_for_large_arrays_by_the_config(local_interface):
    local_interface.settings.set("compression", "large_array", "zstd-seekable")
    local_interface.settings.set("compression", "threshold", "1KB")
    array = np.arange(1000.0)
    local_interface.upload_raw_array("a", array, compression=True)
    assert local_interface.backend.head("a").metadata["cc-transforms"] == "zstd-seekable"
    assert local_interface.open_array("a").seekable


class TestSeekableZstdConformance(TransformConformance):
    detects_corruption = True

    @pytest.fixture(params=[MIN_FRAME_SIZE, DEFAULT_FRAME_SIZE], ids=["1KiB-frames", "1MiB-frames"])
    def transform(self, request):
        return SeekableZstdTransform(frame_size=request.param)
