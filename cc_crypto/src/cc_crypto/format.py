"""The cottoncandy encrypted object format, version 1 (described in FORMAT.md).

An object is a header followed by segments. The header names the master key (key id), carries the
per-object data key wrapped by it, the segment size, a random nonce prefix, a key-commitment value
and an HMAC over all of it. Each segment is ``segment_size`` bytes of plaintext (the last one
fewer) sealed with AES-256-GCM under a key derived from the data key; its nonce is the prefix, the
segment's index and a last-segment flag, so truncating, extending, dropping or reordering
segments fails authentication. Nothing here is kept whole in memory: both directions stream.

This module is pure format: keys come in through a ``find_key`` callable, randomness through
optional arguments (test vectors fix them).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import numpy as np
from cc_core.transform import DecodeReader

from .errors import DecryptionError, NotEncryptedError, UnsupportedFormatError

MAGIC = b"\x89CCENC\r\n"
VERSION = 1
ALGORITHM_AES_KW = 1
ALGORITHM_RSA_OAEP = 2
ALGORITHM_SCRYPT_KW = 3
ALGORITHM_NAMES = {ALGORITHM_AES_KW: "aes-256 key wrap", ALGORITHM_RSA_OAEP: "rsa-oaep-sha256",
                   ALGORITHM_SCRYPT_KW: "scrypt + aes-256 key wrap"}
_PARAMETER_SIZES = {ALGORITHM_AES_KW: 0, ALGORITHM_RSA_OAEP: 0, ALGORITHM_SCRYPT_KW: 19}

DATA_KEY_SIZE = 32
NONCE_PREFIX_SIZE = 7
KEY_ID_SIZE = 16
TAG_SIZE = 16
MAC_SIZE = 32
# magic, version, algorithm, header length, segment size, nonce prefix, key id, wrapped-key length
_FIXED = struct.Struct(">8sBBHI7s16sH")
FIXED_SIZE = _FIXED.size  # 41
PREFIX_SIZE = 16  # enough to learn the header length
MIN_SEGMENT_SIZE = 64
MAX_SEGMENT_SIZE = 64 << 20
DEFAULT_SEGMENT_SIZE = 1 << 20
MAX_SEGMENTS = (1 << 32) - 1
# A ranged reader fetches this much first: every header cc-crypto writes (RSA up to 16384 bits) fits.
HEADER_READ_SIZE = 4096

_LABEL = b"cottoncandy/aes-gcm/v1/"


class WrappingKey(Protocol):
    """What the format needs of a master key (see :class:`cc_crypto.keys.MasterKey`)."""

    algorithm: int

    @property
    def key_id(self) -> bytes: ...

    @property
    def wrapped_size(self) -> int: ...

    def wrap_parameters(self) -> bytes: ...

    def wrap(self, data_key: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes, parameters: bytes) -> bytes: ...


FindKey = Callable[[bytes, int, bytes], WrappingKey]


def _derive(data_key: bytes, purpose: bytes) -> bytes:
    return hmac.new(data_key, _LABEL + purpose, hashlib.sha256).digest()


@dataclass(frozen=True)
class Header:
    """A parsed (not yet authenticated) header."""

    algorithm: int
    length: int
    segment_size: int
    nonce_prefix: bytes
    key_id: bytes
    wrapped_key: bytes
    parameters: bytes
    commitment: bytes
    mac: bytes
    raw: bytes

    @property
    def sealed_segment_size(self) -> int:
        return self.segment_size + TAG_SIZE


@dataclass(frozen=True)
class OpenedHeader:
    """An authenticated header and the key that opens its segments."""

    header: Header
    segment_key: bytes

    @cached_property
    def cipher(self) -> "SegmentCipher":
        """The contexts that open this object's segments."""
        return SegmentCipher(self.segment_key, self.header.nonce_prefix)

    def plaintext_size(self, object_size: int) -> int:
        """The plaintext length of an object of ``object_size`` stored bytes."""
        return plaintext_size(self.header, object_size)


def check_segment_size(segment_size: int) -> int:
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
        raise ValueError(
            f"The encryption segment size must be between {MIN_SEGMENT_SIZE} bytes and "
            f"{MAX_SEGMENT_SIZE >> 20} MiB, not {segment_size}"
        )
    return segment_size


def header_size(key: WrappingKey) -> int:
    """The length of the headers ``key`` writes."""
    return FIXED_SIZE + key.wrapped_size + len(key.wrap_parameters()) + 2 * MAC_SIZE


def build_header(key: WrappingKey, data_key: bytes, segment_size: int, nonce_prefix: bytes) -> bytes:
    """The header of a new object (everything before the first segment)."""
    check_segment_size(segment_size)
    wrapped = key.wrap(data_key)
    parameters = key.wrap_parameters()
    length = FIXED_SIZE + len(wrapped) + len(parameters) + 2 * MAC_SIZE
    body = _FIXED.pack(MAGIC, VERSION, key.algorithm, length, segment_size, nonce_prefix, key.key_id, len(wrapped))
    body += wrapped + parameters + _derive(data_key, b"commitment")
    return body + hmac.new(_derive(data_key, b"header"), body, hashlib.sha256).digest()


def header_length(prefix: bytes) -> int:
    """The full header length from the first :data:`PREFIX_SIZE` bytes of an object."""
    if len(prefix) < len(MAGIC) or prefix[: len(MAGIC)] != MAGIC:
        raise NotEncryptedError(
            "is not encrypted: it does not start with a cottoncandy encryption header"
        )
    if len(prefix) < PREFIX_SIZE:
        raise DecryptionError("is truncated: it ends inside its encryption header")
    if prefix[8] != VERSION:
        raise UnsupportedFormatError(
            f"uses encryption format version {prefix[8]}; this cottoncandy-crypto reads version {VERSION}. "
            "Upgrade cottoncandy-crypto, or the header is damaged"
        )
    return struct.unpack_from(">H", prefix, 10)[0]


def parse_header(raw: bytes) -> Header:
    """Split a header into its fields; raise a clear error for anything malformed."""
    length = header_length(raw[:PREFIX_SIZE])
    if len(raw) < length or length < FIXED_SIZE + 2 * MAC_SIZE:
        raise DecryptionError("is truncated or damaged: it ends inside its encryption header")
    raw = bytes(raw[:length])
    _, _, algorithm, _, segment_size, nonce_prefix, key_id, wrapped_size = _FIXED.unpack_from(raw)
    if algorithm not in _PARAMETER_SIZES:
        raise UnsupportedFormatError(
            f"names key-wrap algorithm {algorithm}, unknown to this cottoncandy-crypto: "
            "upgrade cottoncandy-crypto, or the header is damaged"
        )
    parameters_end = FIXED_SIZE + wrapped_size + _PARAMETER_SIZES[algorithm]
    if parameters_end + 2 * MAC_SIZE != length:
        raise DecryptionError("is damaged: its encryption header lengths disagree")
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
        raise DecryptionError(f"is damaged: its header gives segment size {segment_size}, outside the allowed range")
    return Header(
        algorithm=algorithm, length=length, segment_size=segment_size, nonce_prefix=nonce_prefix,
        key_id=key_id, wrapped_key=raw[FIXED_SIZE : FIXED_SIZE + wrapped_size],
        parameters=raw[FIXED_SIZE + wrapped_size : parameters_end],
        commitment=raw[parameters_end : parameters_end + MAC_SIZE], mac=raw[length - MAC_SIZE :], raw=raw,
    )


def open_header(header: Header, find_key: FindKey) -> OpenedHeader:
    """Unwrap the data key, check the key commitment and the header MAC."""
    key = find_key(header.key_id, header.algorithm, header.parameters)
    data_key = key.unwrap(header.wrapped_key, header.parameters)
    if len(data_key) != DATA_KEY_SIZE or not hmac.compare_digest(_derive(data_key, b"commitment"), header.commitment):
        raise DecryptionError("is damaged: its key commitment does not match its data key")
    expected = hmac.new(_derive(data_key, b"header"), header.raw[: header.length - MAC_SIZE], hashlib.sha256).digest()
    if not hmac.compare_digest(expected, header.mac):
        raise DecryptionError("is damaged: its encryption header fails authentication")
    return OpenedHeader(header, _derive(data_key, b"segment"))


def nonce(prefix: bytes, index: int, last: bool) -> bytes:
    """The 12-byte GCM nonce of segment ``index``: prefix, 32-bit big-endian index, last flag."""
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def plaintext_size(header: Header, object_size: int) -> int:
    """Plaintext bytes in an object of ``object_size`` stored bytes; raise if no length fits."""
    body = object_size - header.length
    full, rest = divmod(body, header.sealed_segment_size)
    if body < TAG_SIZE or 0 < rest < TAG_SIZE:
        raise DecryptionError(f"is truncated or extended: its size ({object_size} bytes) fits no whole number of segments")
    return full * header.segment_size + (rest - TAG_SIZE if rest else 0)


def segment_count(header: Header, object_size: int) -> int:
    full, rest = divmod(object_size - header.length, header.sealed_segment_size)
    return full + (1 if rest else 0)


class _Blocks:
    """Exact-size reads over an iterator of buffers, as views of those buffers (never copied)."""

    def __init__(self, chunks: Iterable[Any]) -> None:
        self._chunks = iter(chunks)
        self._pending = memoryview(b"")

    def _fill(self) -> bool:
        while not len(self._pending):
            chunk = next(self._chunks, None)
            if chunk is None:
                return False
            view = memoryview(chunk)
            self._pending = view if view.format == "B" and view.ndim == 1 else view.cast("B")
        return True

    def more(self) -> bool:
        """Whether any byte follows."""
        return self._fill()

    def read_views(self, size: int) -> list[memoryview]:
        """The next ``size`` bytes (fewer only at the end of the stream), as one view per buffer
        they lie in: a segment that straddles two stored chunks is sealed or opened in two steps
        instead of being joined."""
        views = []
        while size and self._fill():
            view, self._pending = self._pending[:size], self._pending[size:]
            views.append(view)
            size -= len(view)
        return views

    def read(self, size: int) -> bytes:
        """The next ``size`` bytes (fewer only at the end of the stream), joined: for headers."""
        return b"".join(self.read_views(size))


def _total(pieces: list[memoryview]) -> int:
    return sum(len(piece) for piece in pieces)


def _split_tag(pieces: list[memoryview]) -> tuple[list[memoryview], bytes]:
    """A sealed segment's ciphertext pieces and its 16-byte tag (which may straddle pieces too)."""
    body, tail, wanted = list(pieces), [], TAG_SIZE
    while wanted and body:
        last = body.pop()
        tail.insert(0, last[max(len(last) - wanted, 0) :])
        if len(last) > wanted:
            body.append(last[: len(last) - wanted])
        wanted -= len(tail[0])
    return body, b"".join(tail)


class SegmentCipher:
    """AES-256-GCM contexts for the segments of one object (OpenSSL's, through ``cryptography``).

    Built once per object: the key object and the imports are not made again for every segment.
    """

    def __init__(self, segment_key: bytes, nonce_prefix: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        self._algorithm = algorithms.AES(segment_key)
        self._prefix = nonce_prefix
        self._new, self._gcm = Cipher, modes.GCM

    def encryptor(self, index: int, last: bool) -> Any:
        return self._new(self._algorithm, self._gcm(nonce(self._prefix, index, last))).encryptor()

    def decryptor(self, index: int, last: bool, tag: bytes) -> Any:
        """A decryptor whose ``finalize`` checks ``tag``."""
        return self._new(self._algorithm, self._gcm(nonce(self._prefix, index, last), tag)).decryptor()


def seal_segment(cipher: SegmentCipher, index: int, last: bool, plaintext: list[memoryview]) -> memoryview:
    """One sealed segment: the ciphertext of the ``plaintext`` pieces followed by the 16-byte tag."""
    if index > MAX_SEGMENTS:
        raise ValueError(f"An encrypted object holds at most {MAX_SEGMENTS} segments; raise the segment size")
    size = _total(plaintext)
    sealed = memoryview(np.empty(size + TAG_SIZE, dtype=np.uint8))  # every byte is written below
    encryptor = cipher.encryptor(index, last)
    offset = 0
    for piece in plaintext:
        offset += encryptor.update_into(piece, sealed[offset : offset + len(piece)])
    encryptor.finalize()
    sealed[size:] = encryptor.tag
    return sealed


def open_segment(opened: OpenedHeader, index: int, last: bool, sealed: list[memoryview],
                 into: memoryview | None = None) -> memoryview:
    """The plaintext of one segment (its stored bytes in ``sealed`` pieces), written to ``into``
    when given (16 bytes fewer than ``sealed``); raise :class:`DecryptionError` unless it
    authenticates, leaving ``into`` zeroed."""
    from cryptography.exceptions import InvalidTag

    header = opened.header
    if _total(sealed) < TAG_SIZE:
        raise DecryptionError(f"is truncated: it ends inside segment {index}")
    body, tag = _split_tag(sealed)
    plaintext = memoryview(np.empty(_total(body), dtype=np.uint8)) if into is None else into
    decryptor = opened.cipher.decryptor(index, last, tag)
    try:
        offset = 0
        for piece in body:
            offset += decryptor.update_into(piece, plaintext[offset : offset + len(piece)])
        decryptor.finalize()
    except InvalidTag:
        np.frombuffer(plaintext, dtype=np.uint8)[:] = 0  # no unauthenticated byte stays behind
        where = "last segment" if last else "segment"
        raise DecryptionError(
            f"fails authentication in its {where} {index} (plaintext from byte {index * header.segment_size}): "
            "it was modified, truncated, extended or its segments were reordered"
        ) from None
    return plaintext


def encrypt_stream(chunks: Iterable[Any], key: WrappingKey, segment_size: int = DEFAULT_SEGMENT_SIZE, *,
                   data_key: bytes | None = None, nonce_prefix: bytes | None = None) -> Iterator[memoryview | bytes]:
    """Encrypt a stream of buffers; yield the header, then one buffer per segment.

    ``data_key`` and ``nonce_prefix`` are fresh random values unless given (test vectors only).
    Segments are sealed one at a time as the consumer asks for them: memory stays bounded by a
    segment or two whatever the object's size.
    """
    data_key = data_key if data_key is not None else secrets.token_bytes(DATA_KEY_SIZE)
    nonce_prefix = nonce_prefix if nonce_prefix is not None else secrets.token_bytes(NONCE_PREFIX_SIZE)
    yield build_header(key, data_key, segment_size, nonce_prefix)
    cipher = SegmentCipher(_derive(data_key, b"segment"), nonce_prefix)
    blocks = _Blocks(chunks)
    index = 0
    while True:
        pieces = blocks.read_views(segment_size)
        last = _total(pieces) < segment_size or not blocks.more()
        yield seal_segment(cipher, index, last, pieces)
        if last:
            return
        index += 1


def read_header(blocks: _Blocks, find_key: FindKey) -> OpenedHeader:
    prefix = blocks.read(PREFIX_SIZE)
    length = header_length(prefix)
    rest = blocks.read(max(length - PREFIX_SIZE, 0))
    return open_header(parse_header(prefix + rest), find_key)


class DecryptReader(DecodeReader):
    """The plaintext of a stream of stored buffers, decrypted straight into the reader's buffer.

    Each segment is authenticated before :meth:`readinto` returns the bytes it wrote, so nothing
    unauthenticated is ever handed out; the last segment is known by the end of the stream, and
    sealed with a flag, so a cut at a segment boundary is detected too. A segment that does not
    fit the rest of the caller's buffer is decrypted aside and handed out over the next reads.
    """

    def __init__(self, chunks: Iterable[Any], find_key: FindKey) -> None:
        self._blocks = _Blocks(chunks)
        self._find_key = find_key
        self._opened: OpenedHeader | None = None
        self._index = 0
        self._finished = False
        self._pending = memoryview(b"")  # authenticated plaintext of a segment not yet handed out

    def readinto(self, buffer: memoryview) -> int:
        buffer = buffer if buffer.format == "B" and buffer.ndim == 1 else buffer.cast("B")
        if self._opened is None:
            self._opened = read_header(self._blocks, self._find_key)
        sealed_size = self._opened.header.sealed_segment_size
        filled = 0
        while filled < len(buffer):
            if len(self._pending):
                count = min(len(self._pending), len(buffer) - filled)
                buffer[filled : filled + count] = self._pending[:count]
                self._pending = self._pending[count:]
                filled += count
                continue
            if self._finished:
                break
            pieces = self._blocks.read_views(sealed_size)
            stored = _total(pieces)
            if not stored and self._index == 0:
                raise DecryptionError("is truncated: it ends right after its encryption header")
            last = stored < sealed_size or not self._blocks.more()
            size = stored - TAG_SIZE
            if 0 <= size <= len(buffer) - filled:
                open_segment(self._opened, self._index, last, pieces, buffer[filled : filled + size])
                filled += size
            else:
                self._pending = open_segment(self._opened, self._index, last, pieces)
            self._index += 1
            self._finished = last
        return filled


def decrypt_stream(chunks: Iterable[Any], find_key: FindKey) -> DecryptReader:
    """Decrypt a stream of buffers: iterate the result for one plaintext buffer per read, or
    ``readinto`` a buffer of your own (see :class:`DecryptReader`)."""
    return DecryptReader(chunks, find_key)


def decrypt_range(read: Callable[[int, int], bytes], object_size: int, start: int, stop: int,
                  find_key: FindKey) -> bytes:
    """Plaintext bytes ``[start, stop)`` of an object, reading only the segments they lie in.

    Parameters
    ----------
    read : callable
        ``read(first, end)`` returns the stored bytes ``[first, end)`` (a ranged GET).
    object_size : int
        The stored object's size.
    start, stop : int
        The plaintext range; clipped to the plaintext length, like a slice.
    """
    head = bytes(read(0, min(object_size, HEADER_READ_SIZE)))
    length = header_length(head[:PREFIX_SIZE])
    if length > len(head) and object_size >= length:
        head += bytes(read(len(head), length))
    opened = open_header(parse_header(head), find_key)
    header = opened.header
    total = plaintext_size(header, object_size)
    start, stop, _ = slice(start, stop).indices(total)
    if stop <= start:
        return b""
    first, final = start // header.segment_size, (stop - 1) // header.segment_size
    last_index = segment_count(header, object_size) - 1
    sealed_size = header.sealed_segment_size
    begin = header.length + first * sealed_size
    stored = memoryview(bytes(read(begin, min(header.length + (final + 1) * sealed_size, object_size))))
    pieces = []
    for index in range(first, final + 1):
        offset = (index - first) * sealed_size
        plaintext = open_segment(opened, index, index == last_index, [stored[offset : offset + sealed_size]])
        segment_start = index * header.segment_size
        pieces.append(plaintext[max(start - segment_start, 0) : stop - segment_start])
    return b"".join(pieces)
