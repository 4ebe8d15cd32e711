"""The encrypted object format: round trips, and a clear error for every kind of damage."""

from __future__ import annotations

import os
import random

import pytest

from cc_core.errors import CottonCandyError, IntegrityError
from cc_core.testing import TransformConformance
from cc_crypto.errors import (
    DecryptionError,
    KeyMismatchError,
    MasterKeyMissingError,
    NotEncryptedError,
    UnsupportedFormatError,
)
from cc_crypto.format import MAGIC, TAG_SIZE, nonce, parse_header
from cc_crypto.keys import KeyRing, SymmetricKey
from cc_crypto.transform import AesGcmTransform

SEGMENT = 256


def encrypt(transform: AesGcmTransform, data: bytes, pieces: int = 1) -> bytes:
    step = max(1, len(data) // pieces)
    chunks = [data[i : i + step] for i in range(0, len(data), step)] or [b""]
    return b"".join(bytes(b) for b in transform.encode(chunks))


def decrypt(transform: AesGcmTransform, stored: bytes, chunk: int | None = None) -> bytes:
    chunks = [stored] if chunk is None else [stored[i : i + chunk] for i in range(0, len(stored), chunk)]
    return b"".join(bytes(b) for b in transform.decode(chunks))


@pytest.fixture
def transform(master_key) -> AesGcmTransform:
    return AesGcmTransform(key=master_key, segment_size=SEGMENT)


class TestConformance(TransformConformance):
    detects_truncation = True
    detects_corruption = True

    @pytest.fixture
    def transform(self) -> AesGcmTransform:
        return AesGcmTransform(key=SymmetricKey.generate(), segment_size=4096)


@pytest.mark.parametrize("size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT, 5 * SEGMENT + 7])
def test_round_trip_at_segment_boundaries(transform, size):
    data = os.urandom(size)
    stored = encrypt(transform, data, pieces=3)
    header = parse_header(stored)
    segments = max(1, -(-size // SEGMENT))
    assert len(stored) == header.length + size + segments * TAG_SIZE
    assert decrypt(transform, stored) == data
    assert decrypt(transform, stored, chunk=97) == data


def test_same_plaintext_encrypts_differently_each_time(transform):
    data = b"the same plaintext" * 40
    first, second = encrypt(transform, data), encrypt(transform, data)
    assert first != second
    assert data[:16] not in first


def test_nonce_layout():
    assert nonce(b"\xaa" * 7, 0x01020304, True) == b"\xaa" * 7 + b"\x01\x02\x03\x04\x01"
    assert nonce(b"\xaa" * 7, 5, False)[-5:] == b"\x00\x00\x00\x05\x00"


def test_every_header_byte_is_protected(transform):
    data = os.urandom(3 * SEGMENT + 10)
    stored = encrypt(transform, data)
    length = parse_header(stored).length
    for position in range(length):
        for mask in (0x01, 0x80):
            damaged = bytearray(stored)
            damaged[position] ^= mask
            with pytest.raises(CottonCandyError) as caught:
                decrypt(transform, bytes(damaged))
            assert isinstance(caught.value, (IntegrityError, MasterKeyMissingError)), (position, caught.value)
            assert "The object" in str(caught.value)


def test_header_damage_gives_the_right_error(transform):
    stored = encrypt(transform, b"x" * 100)
    flipped = lambda i: stored[:i] + bytes([stored[i] ^ 1]) + stored[i + 1 :]  # noqa: E731
    with pytest.raises(NotEncryptedError, match="not encrypted"):
        decrypt(transform, flipped(0))
    with pytest.raises(UnsupportedFormatError, match="format version 3; this cottoncandy-crypto reads versions 1, 2"):
        decrypt(transform, flipped(8))
    with pytest.raises(KeyMismatchError, match="not available here"):
        decrypt(transform, flipped(23 + 5))  # the key id
    with pytest.raises(DecryptionError, match="fails authentication of its metadata and encryption header"):
        decrypt(transform, flipped(16))  # the nonce prefix: only the MAC can tell
    with pytest.raises(DecryptionError, match="key commitment|wrapped data key|not available"):
        decrypt(transform, flipped(45))


@pytest.mark.parametrize("seed", range(3))
def test_sampled_body_bytes_are_protected(transform, seed):
    data = os.urandom(4 * SEGMENT + 33)
    stored = encrypt(transform, data)
    length = parse_header(stored).length
    rng = random.Random(seed)
    positions = [*rng.sample(range(length, len(stored)), 40), len(stored) - 1, length]
    for position in positions:
        damaged = bytearray(stored)
        damaged[position] ^= 1 << rng.randrange(8)
        with pytest.raises(DecryptionError, match="fails authentication"):
            decrypt(transform, bytes(damaged))


def test_no_plaintext_is_released_before_its_segment_authenticates(transform):
    data = os.urandom(3 * SEGMENT)
    stored = bytearray(encrypt(transform, data))
    stored[-1] ^= 1  # the last segment's tag
    with pytest.raises(DecryptionError):
        b"".join(bytes(block) for block in transform.decode([bytes(stored)]))
    reader = transform.decode([bytes(stored)])
    released = []
    buffer = memoryview(bytearray(SEGMENT))
    with pytest.raises(DecryptionError):
        while count := reader.readinto(buffer):
            released.append(bytes(buffer[:count]))
    assert b"".join(released) == data[: 2 * SEGMENT]
    assert bytes(buffer) == bytes(SEGMENT)  # the failed segment's plaintext is not left behind


def test_reads_of_any_size_decrypt_straight_into_the_buffer(transform):
    data = os.urandom(3 * SEGMENT + 77)
    stored = encrypt(transform, data)
    for size in (1, 7, SEGMENT - 1, SEGMENT, SEGMENT + 1, 2 * SEGMENT + 5, len(data), len(data) + 10):
        reader = transform.decode([stored[:100], stored[100:]])
        parts = []
        buffer = memoryview(bytearray(size))
        while count := reader.readinto(buffer):
            parts.append(bytes(buffer[:count]))
            assert count == size or not reader.readinto(memoryview(bytearray(1)))
        assert b"".join(parts) == data


def segments_of(stored: bytes) -> tuple[bytes, list[bytes]]:
    header = parse_header(stored)
    body = stored[header.length :]
    step = header.sealed_segment_size
    return stored[: header.length], [body[i : i + step] for i in range(0, len(body), step)]


def test_truncation_anywhere_is_an_error(transform):
    data = os.urandom(3 * SEGMENT + 50)
    stored = encrypt(transform, data)
    length = parse_header(stored).length
    step = SEGMENT + TAG_SIZE
    cuts = [0, 5, 15, length - 1, length] + [length + k * step for k in (1, 2, 3)] + [len(stored) - 1, len(stored) - 16]
    for cut in cuts:
        with pytest.raises(CottonCandyError) as caught:
            decrypt(transform, stored[:cut])
        assert isinstance(caught.value, DecryptionError), (cut, caught.value)


def test_segment_boundary_cut_fails_by_the_last_flag(transform):
    stored = encrypt(transform, os.urandom(3 * SEGMENT))
    header, segments = segments_of(stored)
    with pytest.raises(DecryptionError, match="last segment 1"):
        decrypt(transform, header + b"".join(segments[:2]))


def test_appended_bytes_and_segments_are_errors(transform):
    stored = encrypt(transform, os.urandom(2 * SEGMENT + 9))
    _header, segments = segments_of(stored)
    for extended in (stored + b"\x00", stored + os.urandom(TAG_SIZE + 5), stored + segments[0]):
        with pytest.raises(DecryptionError):
            decrypt(transform, extended)


def test_dropped_duplicated_and_reordered_segments_are_errors(transform):
    stored = encrypt(transform, os.urandom(4 * SEGMENT))
    header, s = segments_of(stored)
    for body in ([s[0], s[2], s[3]], [s[1], s[0], s[2], s[3]], [s[0], s[0], s[1], s[2], s[3]], [s[0], s[1], s[3], s[2]]):
        with pytest.raises(DecryptionError, match="fails authentication"):
            decrypt(transform, header + b"".join(body))


def test_segments_of_another_object_are_rejected(transform):
    first, second = encrypt(transform, os.urandom(2 * SEGMENT)), encrypt(transform, os.urandom(2 * SEGMENT))
    header, _ = segments_of(first)
    _, foreign = segments_of(second)
    with pytest.raises(DecryptionError):
        decrypt(transform, header + b"".join(foreign))


def test_unencrypted_bytes_are_refused_clearly(transform):
    for data in (b"", b"plain", b"\x93NUMPY" + bytes(200), MAGIC[:5]):
        with pytest.raises(NotEncryptedError, match="is not encrypted"):
            decrypt(transform, data)


def test_wrong_key_names_the_key_the_object_needs(transform, master_key):
    stored = encrypt(transform, b"secret")
    other = AesGcmTransform(key=SymmetricKey.generate(), segment_size=SEGMENT)
    with pytest.raises(KeyMismatchError) as caught:
        decrypt(other, stored)
    if master_key.kind != "passphrase":
        assert caught.value.key_id == master_key.key_id.hex()
        assert master_key.key_id.hex() in str(caught.value)
    else:
        assert "passphrase" in str(caught.value)


def test_no_key_at_all_names_the_key_and_what_to_do(transform, master_key):
    stored = encrypt(transform, b"secret")
    keyless = AesGcmTransform(KeyRing(), segment_size=SEGMENT)
    with pytest.raises(MasterKeyMissingError, match="cottoncandy key import") as caught:
        decrypt(keyless, stored)
    assert caught.value.key_id == parse_header(stored).key_id.hex()


def test_public_half_encrypts_but_cannot_decrypt(rsa_private):
    from cc_crypto.errors import MasterKeyError
    from cc_crypto.keys import parse_key

    public = parse_key(rsa_private.export(public=True))
    assert not public.can_decrypt and public.key_id == rsa_private.key_id
    stored = encrypt(AesGcmTransform(key=public, segment_size=SEGMENT), b"for the key owner only")
    with pytest.raises(MasterKeyError, match="public half"):
        decrypt(AesGcmTransform(key=public, segment_size=SEGMENT), stored)
    assert decrypt(AesGcmTransform(key=rsa_private, segment_size=SEGMENT), stored) == b"for the key owner only"


def test_segment_size_is_checked():
    with pytest.raises(ValueError, match="segment size"):
        AesGcmTransform(key=SymmetricKey.generate(), segment_size=10)


class CountingReader:
    def __init__(self, stored: bytes) -> None:
        self.stored = stored
        self.reads: list[tuple[int, int]] = []

    def __call__(self, start: int, stop: int) -> bytes:
        self.reads.append((start, stop))
        return self.stored[start:stop]


def test_plaintext_ranges_read_only_the_segments_needed(transform):
    data = os.urandom(7 * SEGMENT + 100)
    stored = encrypt(transform, data)
    rng = random.Random(1)
    ranges = [(0, 0), (0, 1), (0, len(data)), (SEGMENT - 1, SEGMENT + 1), (len(data) - 3, len(data) + 50),
              (-10, None), (3 * SEGMENT, 4 * SEGMENT)]
    ranges += [tuple(sorted(rng.sample(range(len(data) + 1), 2))) for _ in range(30)]
    for start, stop in ranges:
        reader = CountingReader(stored)
        assert transform.plaintext_range(reader, len(stored), start, stop) == data[start:stop]
        assert len(reader.reads) <= 2
        if len(reader.reads) == 2:
            first, end = reader.reads[1]
            s, e, _ = slice(start, stop).indices(len(data))
            needed = (e - 1) // SEGMENT - s // SEGMENT + 1
            assert end - first <= needed * (SEGMENT + TAG_SIZE)


def test_plaintext_range_detects_damage_and_truncation(transform):
    data = os.urandom(3 * SEGMENT)
    stored = encrypt(transform, data)
    damaged = bytearray(stored)
    damaged[-5] ^= 1
    with pytest.raises(DecryptionError):
        transform.plaintext_range(CountingReader(bytes(damaged)), len(stored), len(data) - 2, len(data))
    cut = stored[: -(SEGMENT + TAG_SIZE)]
    with pytest.raises(DecryptionError, match="last segment"):
        transform.plaintext_range(CountingReader(cut), len(cut), SEGMENT, SEGMENT + 5)
    with pytest.raises(DecryptionError, match="truncated or extended"):
        transform.plaintext_range(CountingReader(stored + b"!"), len(stored) + 1, 0, 5)
