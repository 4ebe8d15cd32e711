"""The ``aes-gcm`` transform: streaming, authenticated envelope encryption of every object.

``cc.get_encrypted_interface(...)`` appends it to every object's chain, after any compression. The
bytes it writes are described in FORMAT.md; :mod:`cc_crypto.format` reads and writes them, and
:class:`cc_crypto.keys.KeyRing` supplies the master keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Callable

from cc_core import names
from cc_core.byteranges import RangeByteRequest
from cc_core.errors import CottonCandyError, MetadataError
from cc_core.integrity import check_metadata
from cc_core.metadata import chain_names
from cc_core.payload import Buffer
from cc_core.transform import ENCRYPTION, Transform

from .format import (
    DEFAULT_SEGMENT_SIZE,
    TAG_SIZE,
    check_segment_size,
    decrypt_range,
    decrypt_stream,
    encrypt_stream,
    header_size,
)
from .keys import KeyRing, MasterKey, parse_key


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
    """

    name = "aes-gcm"
    kind = ENCRYPTION

    def __init__(self, keyring: KeyRing | None = None, *, key: Any = None,
                 segment_size: int = DEFAULT_SEGMENT_SIZE) -> None:
        if keyring is None:
            keyring = KeyRing([] if key is None else [parse_key(key)])
        elif key is not None:
            raise TypeError("Pass a keyring or a key, not both")
        self.keyring = keyring
        try:
            self.segment_size = check_segment_size(int(segment_size))
        except ValueError as exc:
            raise MetadataError(f"[encryption] segment_size: {exc}") from None

    @classmethod
    def from_config(cls, config: Any, **options: Any) -> "AesGcmTransform":
        """The transform an interface uses: keys from ``key=``, the config, the environment, the key files.

        Options: ``key`` (a master key or a list of them, preferred over every configured key) and
        ``segment_size`` (default ``[encryption] segment_size``).
        """
        key = options.pop("key", None)
        segment_size = options.pop("segment_size", None)
        if options:
            raise TypeError(f"The aes-gcm transform does not take the option(s): {', '.join(sorted(options))}")
        if segment_size is None:
            segment_size = config.getint("encryption", "segment_size", fallback=DEFAULT_SEGMENT_SIZE) if config else DEFAULT_SEGMENT_SIZE
        return cls(KeyRing.from_config(config, key), segment_size=segment_size)

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

    def encoded_size(self, size: int) -> int:
        """Header plus, per segment, its plaintext and a 16-byte tag (at least one segment)."""
        segments = max(1, -(-size // self.segment_size))
        return header_size(self.encryption_key()) + size + segments * TAG_SIZE

    def encode(self, chunks: Iterable[Buffer]) -> Iterator[Buffer]:
        return encrypt_stream(chunks, self.encryption_key(), self.segment_size)

    def decode(self, chunks: Iterable[Buffer]) -> Iterator[Buffer]:
        return decrypt_stream(chunks, self.keyring.find)

    def decoded_size_bound(self, size: int) -> int:
        """Encryption only adds bytes (a header and a tag per segment)."""
        return size

    def plaintext_range(self, read: Callable[[int, int], bytes], object_size: int, start: int,
                        stop: int | None = None) -> bytes:
        """Plaintext bytes ``[start, stop)`` of a stored object, reading only the segments needed.

        Parameters
        ----------
        read : callable
            ``read(first, end)`` returns the stored bytes ``[first, end)``: one ranged read for the
            header, one for the segments the range lies in.
        object_size : int
            The stored (encrypted) object's size.
        start, stop : int
            Plaintext offsets, clipped like a slice; ``stop=None`` reads to the end.
        """
        return decrypt_range(read, object_size, start, object_size if stop is None else stop, self.keyring.find)

    def __repr__(self) -> str:
        return f"<transform aes-gcm segment_size={self.segment_size}>"


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
    name = names.object_name(object_name)
    backend = interface.backend
    info = backend.head(name)
    check_metadata(name, info.metadata)
    chain = chain_names(info.metadata)
    if [n.lower() for n in chain] != [AesGcmTransform.name]:
        raise MetadataError(
            f"Object {name!r} is stored with transform chain {chain or 'none'}; ranged plaintext reads "
            "need an object encrypted with aes-gcm and nothing else. Download it whole instead"
        )
    transform = interface.pipeline.transform(AesGcmTransform.name)

    def read(first: int, end: int) -> bytes:
        return b"".join(bytes(chunk) for chunk in backend.iter_chunks(name, byte_range=RangeByteRequest(first, end)))

    try:
        return transform.plaintext_range(read, info.size, start, stop)
    except CottonCandyError as exc:
        if getattr(exc, "object_name", "") is None:
            exc.object_name = name  # type: ignore[attr-defined]
        raise
