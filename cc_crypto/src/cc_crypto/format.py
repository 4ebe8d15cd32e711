"""The cottoncandy encrypted object format, version 2 (described in FORMAT.md); version 1 is read.

An object is a header followed by segments. The header names the master key (key id), carries the
per-object data key wrapped by it, the segment size, a random nonce prefix, flags, a
key-commitment value and an HMAC over all of it and over the object's *context*: the canonical
encoding of the metadata that decides how the plaintext becomes a value (:func:`context_of`).
A name-bound object (flag) also carries, in its metadata, a tag over its place and that HMAC
(:func:`name_tag`), which a copy through the encrypted interface re-seals. Each segment is
``segment_size`` bytes of plaintext (the last one fewer) sealed with AES-256-GCM under a key derived
from the data key; its nonce is the prefix, the segment's index and a last-segment flag, so
truncating, extending, dropping or reordering segments fails authentication. Nothing here is kept
whole in memory: both directions stream.

This module is pure format: keys come in through a ``find_key`` callable, randomness through
optional arguments (test vectors fix them).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from cc_core.transform import DecodeReader

from .errors import DecryptionError, NameBindingError, NotEncryptedError, UnsupportedFormatError

MAGIC = b"\x89CCENC\r\n"
VERSION = 2
#: Versions this module reads; it writes :data:`VERSION` only.
READABLE_VERSIONS = (1, 2)
#: Header flag: the object is bound to its place by a name tag in its metadata.
FLAG_NAME_BOUND = 0x01
FLAGS_SIZE = 1
#: Metadata keys outside the context: added after encryption (checksum, digest) or the binding itself.
NAME_TAG_KEY = "cc-name-tag"
SEALED_FOR_KEY = "cc-sealed-for"
UNAUTHENTICATED_KEYS = ("cc-digest", "cc-checksum", NAME_TAG_KEY, SEALED_FOR_KEY)
#: ``cc-sealed-for`` is recorded for names up to this many UTF-8 bytes (S3 allows 2 KB of metadata).
SEALED_FOR_LIMIT = 512
#: The context of an object without metadata.
EMPTY_CONTEXT = bytes(4)
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



class WrappingKey(Protocol):
    """What the format needs of a master key (see :class:`cc_crypto.keys.MasterKey`)."""

    @property
    def algorithm(self) -> int: ...  # read-only: a class constant of each key type satisfies it

    @property
    def key_id(self) -> bytes: ...

    @property
    def wrapped_size(self) -> int: ...

    def wrap_parameters(self) -> bytes: ...

    def wrap(self, data_key: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes, parameters: bytes) -> bytes: ...


FindKey = Callable[[bytes, int, bytes], WrappingKey]


def _derive(data_key: bytes, purpose: bytes, version: int = VERSION) -> bytes:
    label = b"cottoncandy/aes-gcm/v%d/" % version
    return hmac.new(data_key, label + purpose, hashlib.sha256).digest()


def _field(value: str) -> bytes:
    encoded = value.encode("utf-8")
    return struct.pack(">I", len(encoded)) + encoded


def context_of(metadata: Mapping[str, str]) -> bytes:
    """The canonical encoding of what the header MAC authenticates besides the header (FORMAT.md):
    every metadata entry but :data:`UNAUTHENTICATED_KEYS`, keys ASCII-lower-cased, sorted by key,
    as a 4-byte count and then each key and value with a 4-byte length."""
    entries = sorted((key.encode("utf-8").lower(), value.encode("utf-8")) for key, value in metadata.items()
                     if key.lower() not in UNAUTHENTICATED_KEYS)
    encoded = [struct.pack(">I", len(entries))]
    for key, value in entries:
        encoded += [struct.pack(">I", len(key)), key, struct.pack(">I", len(value)), value]
    return b"".join(encoded)


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
    version: int = VERSION
    flags: int = 0

    @property
    def sealed_segment_size(self) -> int:
        return self.segment_size + TAG_SIZE

    @property
    def name_bound(self) -> bool:
        return bool(self.flags & FLAG_NAME_BOUND)


@dataclass(frozen=True)
class OpenedHeader:
    """An authenticated header and the key that opens its segments."""

    header: Header
    segment_key: bytes
    name_key: bytes = b""

    @cached_property
    def cipher(self) -> SegmentCipher:
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
    return FIXED_SIZE + key.wrapped_size + len(key.wrap_parameters()) + FLAGS_SIZE + 2 * MAC_SIZE


def build_header(key: WrappingKey, data_key: bytes, segment_size: int, nonce_prefix: bytes, *,
                 context: bytes = EMPTY_CONTEXT, flags: int = 0) -> bytes:
    """The header of a new object (everything before the first segment); its MAC covers ``context``
    (:func:`context_of` the object's metadata; default: no metadata)."""
    check_segment_size(segment_size)
    wrapped = key.wrap(data_key)
    parameters = key.wrap_parameters()
    length = FIXED_SIZE + len(wrapped) + len(parameters) + FLAGS_SIZE + 2 * MAC_SIZE
    body = _FIXED.pack(MAGIC, VERSION, key.algorithm, length, segment_size, nonce_prefix, key.key_id, len(wrapped))
    body += wrapped + parameters + bytes([flags]) + _derive(data_key, b"commitment")
    return body + hmac.new(_derive(data_key, b"header"), body + context, hashlib.sha256).digest()


def name_tag(name_key: bytes, place: Any, mac: bytes) -> str:
    """The ``cc-name-tag`` of an object at ``place`` whose header MAC is ``mac``: over ``str(place)``,
    ``bucket/name`` (``name`` without buckets, ``/root/path/name`` on a local disk)."""
    return hmac.new(name_key, _field(str(place)) + mac, hashlib.sha256).hexdigest()


def sealed_for(place: Any) -> dict[str, str]:
    """The name tag's companion ``cc-sealed-for`` (for messages), unless the name is too long."""
    shown = str(place)
    return {SEALED_FOR_KEY: shown} if len(shown.encode("utf-8")) <= SEALED_FOR_LIMIT else {}


def binding_metadata(opened: OpenedHeader, place: Any) -> dict[str, str]:
    """The metadata keys that bind an opened, name-bound object to ``place``."""
    return {NAME_TAG_KEY: name_tag(opened.name_key, place, opened.header.mac), **sealed_for(place)}


def check_binding(opened: OpenedHeader, metadata: Mapping[str, str], place: Any) -> None:
    """Refuse a name-bound object whose name tag is not the one for ``place``."""
    if not opened.header.name_bound:
        return
    values = {key.lower(): value for key, value in metadata.items()}
    recorded, claimed = values.get(NAME_TAG_KEY), values.get(SEALED_FOR_KEY)
    target = getattr(place, "location", "") or str(place)
    rebind = (f"If you trust this copy, bind it to its name with 'cottoncandy key rebind {target}', or copy "
              "objects with the encrypted interface's cp/mv, which re-seal them")
    if recorded is None:
        raise NameBindingError(
            f"is bound to its name, but its name tag ({NAME_TAG_KEY}) is missing: its metadata was replaced, "
            f"or it was copied by a tool that dropped it. {rebind}")
    if hmac.compare_digest(name_tag(opened.name_key, place, opened.header.mac), recorded.strip().lower()):
        return
    if claimed is not None and claimed != str(place):
        raise NameBindingError(
            f"was sealed for {claimed!r}, not for this name: it was copied or moved without the encryption key, "
            f"or swapped with another object. {rebind}")
    raise NameBindingError(
        f"fails its name binding (its tag, {NAME_TAG_KEY}, does not authenticate it at this name"
        f"{f'; it claims to be sealed for {claimed!r}' if claimed else ''}): it was copied, moved or swapped "
        f"without the encryption key, or its metadata was edited. {rebind}")


def header_length(prefix: bytes) -> int:
    """The full header length from the first :data:`PREFIX_SIZE` bytes of an object."""
    if len(prefix) < len(MAGIC) or prefix[: len(MAGIC)] != MAGIC:
        raise NotEncryptedError(
            "is not encrypted: it does not start with a cottoncandy encryption header"
        )
    if len(prefix) < PREFIX_SIZE:
        raise DecryptionError("is truncated: it ends inside its encryption header")
    if prefix[8] not in READABLE_VERSIONS:
        raise UnsupportedFormatError(
            f"uses encryption format version {prefix[8]}; this cottoncandy-crypto reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}. Upgrade cottoncandy-crypto, or the header is damaged"
        )
    return struct.unpack_from(">H", prefix, 10)[0]


def parse_header(raw: bytes) -> Header:
    """Split a header into its fields; raise a clear error for anything malformed."""
    length = header_length(raw[:PREFIX_SIZE])
    if len(raw) < length or length < FIXED_SIZE + 2 * MAC_SIZE:
        raise DecryptionError("is truncated or damaged: it ends inside its encryption header")
    raw = bytes(raw[:length])
    _, version, algorithm, _, segment_size, nonce_prefix, key_id, wrapped_size = _FIXED.unpack_from(raw)
    if algorithm not in _PARAMETER_SIZES:
        raise UnsupportedFormatError(
            f"names key-wrap algorithm {algorithm}, unknown to this cottoncandy-crypto: "
            "upgrade cottoncandy-crypto, or the header is damaged"
        )
    parameters_end = FIXED_SIZE + wrapped_size + _PARAMETER_SIZES[algorithm]
    flags_size = FLAGS_SIZE if version >= 2 else 0
    if parameters_end + flags_size + 2 * MAC_SIZE != length:
        raise DecryptionError("is damaged: its encryption header lengths disagree")
    flags = raw[parameters_end] if flags_size else 0
    if flags & ~FLAG_NAME_BOUND:
        raise UnsupportedFormatError(f"sets encryption header flags {flags:#04x}, unknown to this "
                                     "cottoncandy-crypto: upgrade cottoncandy-crypto, or the header is damaged")
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
        raise DecryptionError(f"is damaged: its header gives segment size {segment_size}, outside the allowed range")
    return Header(
        algorithm=algorithm, length=length, segment_size=segment_size, nonce_prefix=nonce_prefix,
        key_id=key_id, wrapped_key=raw[FIXED_SIZE : FIXED_SIZE + wrapped_size],
        parameters=raw[FIXED_SIZE + wrapped_size : parameters_end],
        commitment=raw[length - 2 * MAC_SIZE : length - MAC_SIZE], mac=raw[length - MAC_SIZE :], raw=raw,
        version=version, flags=flags,
    )


def open_header(header: Header, find_key: FindKey, context: bytes = EMPTY_CONTEXT) -> OpenedHeader:
    """Unwrap the data key, check the key commitment and the header MAC (over ``context`` too, from
    version 2 on: :func:`context_of` the object's metadata)."""
    key = find_key(header.key_id, header.algorithm, header.parameters)
    data_key = key.unwrap(header.wrapped_key, header.parameters)
    version = header.version
    if len(data_key) != DATA_KEY_SIZE or not hmac.compare_digest(_derive(data_key, b"commitment", version),
                                                                  header.commitment):
        raise DecryptionError("is damaged: its key commitment does not match its data key")
    authenticated = header.raw[: header.length - MAC_SIZE] + (context if version >= 2 else b"")
    expected = hmac.new(_derive(data_key, b"header", version), authenticated, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, header.mac):
        if version >= 2:
            raise DecryptionError(
                "fails authentication of its metadata and encryption header: what decides how its bytes become "
                "a value (dtype, shape, order, codec, transforms, the codec's fields, user metadata) or its header "
                "was changed since it was written. Restore it from a good copy; nothing was read")
        raise DecryptionError("is damaged: its encryption header fails authentication")
    name_key = _derive(data_key, b"name", version) if version >= 2 else b""
    return OpenedHeader(header, _derive(data_key, b"segment", version), name_key)


def nonce(prefix: bytes, index: int, last: bool) -> bytes:
    """The 12-byte GCM nonce of segment ``index``: prefix, 32-bit big-endian index, last flag."""
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def plaintext_size(header: Header, object_size: int) -> int:
    """Plaintext bytes in an object of ``object_size`` stored bytes; raise if no length fits."""
    body = object_size - header.length
    full, rest = divmod(body, header.sealed_segment_size)
    if body < TAG_SIZE or 0 < rest < TAG_SIZE:
        raise DecryptionError(f"is truncated or extended: its size ({object_size} bytes) fits no whole number "
                              "of segments")
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


@dataclass(frozen=True)
class NewObject:
    """A new object's header, built before its bytes pass (its MAC is known up front), and the
    keys its segments and its name tag are made with."""

    header: bytes
    opened: OpenedHeader
    segment_size: int

    @classmethod
    def start(cls, key: WrappingKey, segment_size: int = DEFAULT_SEGMENT_SIZE, *, context: bytes = EMPTY_CONTEXT,
              flags: int = 0, data_key: bytes | None = None, nonce_prefix: bytes | None = None) -> NewObject:
        """``data_key`` and ``nonce_prefix`` are fresh random values unless given (test vectors only)."""
        data_key = data_key if data_key is not None else secrets.token_bytes(DATA_KEY_SIZE)
        nonce_prefix = nonce_prefix if nonce_prefix is not None else secrets.token_bytes(NONCE_PREFIX_SIZE)
        header = build_header(key, data_key, segment_size, nonce_prefix, context=context, flags=flags)
        opened = OpenedHeader(parse_header(header), _derive(data_key, b"segment"), _derive(data_key, b"name"))
        return cls(header, opened, segment_size)

    def stream(self, chunks: Iterable[Any]) -> Iterator[memoryview | bytes]:
        """Yield the header, then one sealed buffer per segment of ``chunks``."""
        return _sealed_stream(self, chunks)


def encrypt_stream(chunks: Iterable[Any], key: WrappingKey, segment_size: int = DEFAULT_SEGMENT_SIZE, *,
                   data_key: bytes | None = None, nonce_prefix: bytes | None = None, context: bytes = EMPTY_CONTEXT,
                   flags: int = 0) -> Iterator[memoryview | bytes]:
    """Encrypt a stream of buffers; yield the header, then one buffer per segment.

    ``context`` is :func:`context_of` the object's metadata, ``flags`` the header's flags.
    ``data_key`` and ``nonce_prefix`` are fresh random values unless given (test vectors only).
    Segments are sealed one at a time as the consumer asks for them: memory stays bounded by a
    segment or two whatever the object's size.
    """
    return NewObject.start(key, segment_size, context=context, flags=flags, data_key=data_key,
                           nonce_prefix=nonce_prefix).stream(chunks)


def _sealed_stream(new: NewObject, chunks: Iterable[Any]) -> Iterator[memoryview | bytes]:
    yield new.header
    segment_size = new.segment_size
    cipher = new.opened.cipher
    blocks = _Blocks(chunks)
    index = 0
    while True:
        pieces = blocks.read_views(segment_size)
        last = _total(pieces) < segment_size or not blocks.more()
        yield seal_segment(cipher, index, last, pieces)
        if last:
            return
        index += 1


#: Called with an object's opened header before any of its plaintext is released (name binding...).
CheckOpened = Callable[[OpenedHeader], None]


def read_header(blocks: _Blocks, find_key: FindKey, context: bytes = EMPTY_CONTEXT,
                check: CheckOpened | None = None) -> OpenedHeader:
    prefix = blocks.read(PREFIX_SIZE)
    length = header_length(prefix)
    rest = blocks.read(max(length - PREFIX_SIZE, 0))
    opened = open_header(parse_header(prefix + rest), find_key, context)
    if check is not None:
        check(opened)
    return opened


class DecryptReader(DecodeReader):
    """The plaintext of a stream of stored buffers, decrypted straight into the reader's buffer.

    Each segment is authenticated before :meth:`readinto` returns the bytes it wrote, so nothing
    unauthenticated is ever handed out; the last segment is known by the end of the stream, and
    sealed with a flag, so a cut at a segment boundary is detected too. A segment that does not
    fit the rest of the caller's buffer is decrypted aside and handed out over the next reads.
    """

    def __init__(self, chunks: Iterable[Any], find_key: FindKey, context: bytes = EMPTY_CONTEXT,
                 check: CheckOpened | None = None) -> None:
        self._blocks = _Blocks(chunks)
        self._find_key = find_key
        self._context = context
        self._check = check
        self._opened: OpenedHeader | None = None
        self._index = 0
        self._finished = False
        self._pending = memoryview(b"")  # authenticated plaintext of a segment not yet handed out

    def readinto(self, buffer: memoryview) -> int:
        buffer = buffer if buffer.format == "B" and buffer.ndim == 1 else buffer.cast("B")
        if self._opened is None:
            self._opened = read_header(self._blocks, self._find_key, self._context, self._check)
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


def decrypt_stream(chunks: Iterable[Any], find_key: FindKey, context: bytes = EMPTY_CONTEXT,
                   check: CheckOpened | None = None) -> DecryptReader:
    """Decrypt a stream of buffers: iterate the result for one plaintext buffer per read, or
    ``readinto`` a buffer of your own (see :class:`DecryptReader`). ``context``: :func:`context_of`
    the object's metadata; ``check`` is called with the opened header before any plaintext."""
    return DecryptReader(chunks, find_key, context, check)


def open_stored_header(read: Callable[[int, int], bytes], object_size: int | None, find_key: FindKey,
                       context: bytes = EMPTY_CONTEXT) -> OpenedHeader:
    """The opened header of a stored object, from one ranged read (two for a header over 4 KiB);
    ``object_size`` None: unknown, ``read`` clips ranges to the object."""
    head = bytes(read(0, HEADER_READ_SIZE if object_size is None else min(object_size, HEADER_READ_SIZE)))
    length = header_length(head[:PREFIX_SIZE])
    if length > len(head) and (object_size is None or object_size >= length):
        head += bytes(read(len(head), length))
    return open_header(parse_header(head), find_key, context)


def decrypt_segments(opened: OpenedHeader, read: Callable[[int, int], Any], object_size: int, start: int,
                     stop: int) -> bytes:
    """Plaintext bytes ``[start, stop)`` of an object whose header is ``opened``, reading only the
    segments they lie in (one ``read``), each authenticated.

    Parameters
    ----------
    opened : OpenedHeader
        The object's authenticated header (:func:`open_stored_header`).
    read : callable
        ``read(first, end)`` returns the stored bytes ``[first, end)`` (a ranged GET).
    object_size : int
        The stored object's size.
    start, stop : int
        The plaintext range; clipped to the plaintext length, like a slice.
    """
    header = opened.header
    total = plaintext_size(header, object_size)
    start, stop, _ = slice(start, stop).indices(total)
    if stop <= start:
        return b""
    first, final = start // header.segment_size, (stop - 1) // header.segment_size
    last_index = segment_count(header, object_size) - 1
    sealed_size = header.sealed_segment_size
    begin = header.length + first * sealed_size
    stored = memoryview(read(begin, min(header.length + (final + 1) * sealed_size, object_size))).cast("B")
    pieces = []
    for index in range(first, final + 1):
        offset = (index - first) * sealed_size
        plaintext = open_segment(opened, index, index == last_index, [stored[offset : offset + sealed_size]])
        segment_start = index * header.segment_size
        pieces.append(plaintext[max(start - segment_start, 0) : stop - segment_start])
    return b"".join(pieces)
