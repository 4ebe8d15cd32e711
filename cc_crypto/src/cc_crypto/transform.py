"""The ``aes-gcm`` transform: streaming, authenticated envelope encryption of every object.

``cc.get_encrypted_interface(...)`` appends it to every object's chain, after any compression. The
bytes it writes are described in FORMAT.md; :mod:`cc_crypto.format` reads and writes them, and
:class:`cc_crypto.keys.KeyRing` supplies the master keys.

Per object (:meth:`AesGcmTransform.for_writing`, :meth:`~AesGcmTransform.for_reading`), the header
MAC covers the object's deciding metadata and, unless ``[encryption] bind_names = false``, a name
tag in the metadata binds it to its bucket and name; the interface's ``cp``/``mv`` re-seal the tag
(:meth:`AesGcmTransform.rebind`).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from cc_core import names
from cc_core.byteranges import RangeByteRequest
from cc_core.errors import CottonCandyError, MetadataError
from cc_core.payload import Buffer
from cc_core.transform import ENCRYPTION, ObjectPlace, RangeDecoder, Transform

from .errors import DecryptionError
from .format import (
    DEFAULT_SEGMENT_SIZE,
    EMPTY_CONTEXT,
    FLAG_NAME_BOUND,
    TAG_SIZE,
    NewObject,
    OpenedHeader,
    binding_metadata,
    check_binding,
    check_segment_size,
    context_of,
    decrypt_segments,
    decrypt_stream,
    open_stored_header,
    plaintext_size,
)
from .keys import KeyRing, MasterKey, parse_key


class UnauthenticatedMetadataWarning(UserWarning):
    """An object in encryption format version 1 was read: its bytes are authenticated, its metadata
    (dtype, shape, ...) and its name are not. ``cottoncandy key migrate`` rewrites it in version 2."""


class AesGcmTransform(Transform):
    """AES-256-GCM in segments, under a fresh data key per object wrapped by a master key.

    Parameters
    ----------
    keyring : KeyRing, optional
        Where master keys come from. Default: only ``key``.
    key : MasterKey, bytes or str, optional
        A master key (see :func:`cc_crypto.keys.parse_key`) used instead of a key ring.
    segment_size : int
        Plaintext bytes per authenticated segment (1 MiB by default).
    bind_names : bool
        Bind new objects to their bucket and name (``[encryption] bind_names``, default true).
    """

    name = "aes-gcm"
    kind = ENCRYPTION
    decodes_ranges = True

    def __init__(self, keyring: KeyRing | None = None, *, key: Any = None,
                 segment_size: int = DEFAULT_SEGMENT_SIZE, bind_names: bool = True) -> None:
        if keyring is None:
            keyring = KeyRing([] if key is None else [parse_key(key)])
        elif key is not None:
            raise TypeError("Pass a keyring or a key, not both")
        self.keyring = keyring
        try:
            self.segment_size = check_segment_size(int(segment_size))
        except ValueError as exc:
            raise MetadataError(f"[encryption] segment_size: {exc}") from None
        self.binds_places = bool(bind_names)
        self._pins: dict[ObjectPlace, bytes] = {}  # header MACs the caller recorded (see pin())
        self._warned: set[ObjectPlace] = set()  # version-1 objects warned about
        # what one object is written or read with (set on the per-object copies)
        self._new: NewObject | None = None
        self._context = EMPTY_CONTEXT
        self._metadata: Mapping[str, str] = {}
        self._place: ObjectPlace | None = None

    @classmethod
    def from_config(cls, config: Any, **options: Any) -> AesGcmTransform:
        """The transform an interface uses: keys from ``key=``, the config, the environment, the key files.

        Options: ``key`` (a master key or a list of them, preferred over every configured key),
        ``segment_size`` (default ``[encryption] segment_size``) and ``bind_names`` (default
        ``[encryption] bind_names``, true).
        """
        key = options.pop("key", None)
        segment_size = options.pop("segment_size", None)
        bind_names = options.pop("bind_names", None)
        if options:
            raise TypeError(f"The aes-gcm transform does not take the option(s): {', '.join(sorted(options))}")
        if segment_size is None:
            segment_size = (config.getint("encryption", "segment_size", fallback=DEFAULT_SEGMENT_SIZE) if config
                            else DEFAULT_SEGMENT_SIZE)
        if bind_names is None:
            bind_names = config.getboolean("encryption", "bind_names", fallback=True) if config else True
        return cls(KeyRing.from_config(config, key), segment_size=segment_size, bind_names=bind_names)

    @classmethod
    def prepare_interface(cls, interface: Any, *, legacy_method: str | None = None, legacy_key: Any = None) -> None:
        """Called by ``get_encrypted_interface``: let the interface read cottoncandy 0.3's objects too.

        ``legacy_method`` and ``legacy_key`` are 0.3's ``encryption`` and ``encryptionKey``; see
        :func:`cc_crypto.legacy03.enable`.
        """
        from .legacy03 import enable

        enable(interface, legacy_method, legacy_key)

    def encryption_key(self) -> MasterKey:
        """The master key new objects are encrypted with (generated into the key file if needed)."""
        return self.keyring.encryption_key()

    def worker_options(self) -> dict[str, Any]:
        """Every key of the key ring, the encrypting one first (generated here if there is none yet)."""
        self.encryption_key()
        return {"key": self.keyring.keys()}

    # -- one object -----------------------------------------------------------------------------
    def for_writing(self, metadata: MutableMapping[str, str], place: ObjectPlace) -> AesGcmTransform:
        """The cipher of one new object: its header, built now, authenticates ``metadata``; when names
        are bound, its name tag for ``place`` is added to ``metadata``."""
        new = NewObject.start(self.encryption_key(), self.segment_size, context=context_of(metadata),
                              flags=FLAG_NAME_BOUND if self.binds_places else 0)
        if self.binds_places:
            metadata.update(binding_metadata(new.opened, place))
        if place in self._pins:  # written through this interface: the new version is the one expected
            self._pins[place] = new.opened.header.mac
        bound = copy.copy(self)
        bound._new = new
        return bound

    def for_reading(self, metadata: Mapping[str, str], place: ObjectPlace) -> AesGcmTransform:
        """The cipher that reads one object: its header must authenticate ``metadata`` and, when it is
        name-bound, its name tag ``place``; both are checked before any plaintext is released."""
        bound = copy.copy(self)
        bound._context, bound._metadata, bound._place = context_of(metadata), dict(metadata), place
        return bound

    def _check_opened(self, opened: OpenedHeader) -> None:
        """What a read checks once the header is authenticated, before the first segment."""
        place = self._place
        if place is None:
            return
        if opened.header.version < 2:
            if place not in self._warned:
                self._warned.add(place)
                warnings.warn(
                    f"Object {place.name!r} is in encryption format version 1: its bytes are authenticated, its "
                    f"metadata (dtype, shape, order, user metadata) and its name are not. Rewrite it in version 2 "
                    f"with 'cottoncandy key migrate {place.location or place.name}'",
                    UnauthenticatedMetadataWarning, stacklevel=2)
        else:
            check_binding(opened, self._metadata, place)
        pinned = self._pins.get(place)
        if pinned is not None and pinned != opened.header.mac:
            raise DecryptionError(
                f"is not the version pinned for it (seal {opened.header.mac.hex()[:16]}..., pinned "
                f"{pinned.hex()[:16]}...): it was rolled back to an older version or replaced by another writer")

    def rebind(self, metadata: Mapping[str, str], source: ObjectPlace, destination: ObjectPlace,
               read: Callable[[int, int], bytes]) -> dict[str, str] | None:
        """The metadata of a copy of a name-bound object at ``destination``: a new name tag.

        Reads the source's header (one ranged read), checks it against the source's metadata and
        name, then seals the copy for ``destination``. Objects not bound (version 1, or written with
        ``bind_names = false``) keep their metadata.
        """
        opened = open_stored_header(read, None, self.keyring.find, context_of(metadata))
        if not opened.header.name_bound:
            return None
        try:
            check_binding(opened, metadata, source)
        except CottonCandyError as exc:
            exc.object_name = source.name  # type: ignore[attr-defined]
            raise
        return {**metadata, **binding_metadata(opened, destination)}

    def encoded_size(self, size: int) -> int:
        """Header plus, per segment, its plaintext and a 16-byte tag (at least one segment)."""
        segments = max(1, -(-size // self.segment_size))
        return len(self._object().header) + size + segments * TAG_SIZE

    def _object(self) -> NewObject:
        if self._new is None:  # used directly, not through a pipeline: no metadata, not name-bound
            self._new = NewObject.start(self.encryption_key(), self.segment_size)
        return self._new

    def encode(self, chunks: Iterable[Buffer]) -> Iterator[Buffer]:
        new = self._object()
        self._new = None  # a header is never used twice
        return new.stream(chunks)

    def decode(self, chunks: Iterable[Buffer]) -> Iterator[Buffer]:
        return decrypt_stream(chunks, self.keyring.find, self._context, self._check_opened)

    def decoded_size_bound(self, size: int) -> int:
        """Encryption only adds bytes (a header and a tag per segment)."""
        return size

    def open_ranges(self, read: Callable[[int, int], Any], size: int) -> RangeDecoder:
        """The plaintext of a stored object, a range at a time: its header is read (one ranged read,
        two for a header over 4 KiB) and authenticated now, against the metadata and place given to
        :meth:`for_reading`; each range then reads the segments it lies in, one ranged read, and
        authenticates each before releasing a byte.

        Parameters
        ----------
        read : callable
            ``read(first, end)`` returns the stored bytes ``[first, end)``.
        size : int
            The stored (encrypted) object's size.
        """
        opened = open_stored_header(read, size, self.keyring.find, self._context)
        self._check_opened(opened)
        return _SegmentRanges(opened, read, size)

    def __repr__(self) -> str:
        return f"<transform aes-gcm segment_size={self.segment_size}>"


class _SegmentRanges(RangeDecoder):
    """Plaintext ranges of one encrypted object whose header is authenticated.

    A range inside one segment decrypts that whole segment (its bytes are read anyway) and keeps
    it for the next range: a reader that asks for a footer and then for the index before it (a
    zstd-seekable stream's seek table) reads and decrypts the last segment once.
    """

    def __init__(self, opened: OpenedHeader, read: Callable[[int, int], Any], object_size: int) -> None:
        self._opened, self._read, self._object_size = opened, read, object_size
        self.size = plaintext_size(opened.header, object_size)
        self.granularity = opened.header.segment_size
        self._kept: tuple[int, bytes] = (-1, b"")  # (segment index, plaintext): one assignment, thread-safe

    def read(self, start: int, stop: int) -> bytes:
        start, stop, _ = slice(start, stop).indices(self.size)
        index = start // self.granularity
        if stop <= start or (stop - 1) // self.granularity != index:
            return decrypt_segments(self._opened, self._read, self._object_size, start, stop)
        kept_index, plaintext = self._kept
        segment_start = index * self.granularity
        if kept_index != index:
            plaintext = decrypt_segments(self._opened, self._read, self._object_size, segment_start,
                                         segment_start + self.granularity)
            self._kept = (index, plaintext)
        return plaintext[start - segment_start : stop - segment_start]


def read_range(interface: Any, object_name: str, start: int, stop: int | None = None) -> bytes:
    """Plaintext bytes ``[start, stop)`` of an object stored through the encrypted interface.

    Reads the header and the segments the range lies in, never the whole object. The object must
    have been stored with ``aes-gcm`` alone (compressed bytes have no plaintext offsets).

    Examples
    --------
    >>> cci = cc.get_encrypted_interface("/data/store", backend="local")   # doctest: +SKIP
    >>> cci.upload_object("log", b"0123456789" * 1000)                     # doctest: +SKIP
    >>> read_range(cci, "log", 5, 12)                                      # doctest: +SKIP
    b'5678901'
    """
    store, name, _ = interface.locate(object_name)
    return bytes(interface.pipeline.read_range(store, name, start, stop, chain=[AesGcmTransform.name]))


def _opened_object(interface: Any, object_name: str) -> tuple[AesGcmTransform, ObjectPlace, OpenedHeader]:
    """An object's authenticated header (metadata and name checked), from one HEAD and one ranged read."""
    name = names.object_name(object_name)
    backend = interface.backend
    info = backend.head(name)
    place = ObjectPlace.of(backend, name)
    transform = interface.pipeline.transform(AesGcmTransform.name)
    bound = transform.for_reading(info.metadata, place)

    def read(first: int, end: int) -> bytes:
        byte_range = RangeByteRequest(first, min(end, info.size))
        return b"".join(bytes(chunk) for chunk in backend.iter_chunks(name, byte_range=byte_range))

    try:
        opened = open_stored_header(read, info.size, transform.keyring.find, bound._context)
        if opened.header.version >= 2:
            check_binding(opened, info.metadata, place)
    except CottonCandyError as exc:
        if getattr(exc, "object_name", "") is None:
            exc.object_name = name  # type: ignore[attr-defined]
        raise
    return transform, place, opened


def seal_of(interface: Any, object_name: str) -> str:
    """The seal of the version of an object stored now: its authenticated header MAC, in hex.

    Keep it where nobody who can write to the store can change it, and give it to :func:`pin`
    before reading: a rollback to an older version (or any other object) is then refused.
    Reads the object's header (one HEAD, one ranged read).
    """
    return _opened_object(interface, object_name)[2].header.mac.hex()


def pin(interface: Any, object_name: str, seal: str) -> None:
    """Refuse, from now on, any version of ``object_name`` but the one whose :func:`seal_of` is ``seal``.

    Every read through ``interface`` (and :func:`read_range`) checks the object's authenticated
    header against the pinned seal before any plaintext is released, and raises IntegrityError
    ("rolled back") otherwise. A write of the object through this interface moves the pin to the
    new version. Pins live in the interface's transform (not in pickles of the interface).

    Examples
    --------
    >>> info = cci.upload_raw_array("model/weights", weights)         # doctest: +SKIP
    >>> recorded = seal_of(cci, "model/weights")                      # doctest: +SKIP
    >>> pin(cci, "model/weights", recorded)  # later, in another run  # doctest: +SKIP
    """
    name = names.object_name(object_name)
    transform = interface.pipeline.transform(AesGcmTransform.name)
    transform._pins[ObjectPlace.of(interface.backend, name)] = bytes.fromhex(seal)
