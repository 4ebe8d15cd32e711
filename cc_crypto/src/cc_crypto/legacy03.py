"""Reading what cottoncandy 0.3's ``get_encrypted_interface`` wrote: AES-CBC without authentication.

0.3 encrypted every object's bytes (after serialisation and compression) with AES-CBC under one AES
key from ``[encryption] key`` (base64), or under a fresh AES-256 key per object wrapped with
RSA-OAEP-SHA1 and stored, base64, as the object's ``key`` metadata. It wrote no marker: an object
of 0.3 is one without the ``cc-*`` metadata every current object carries (see FORMAT.md, "Reading
cottoncandy 0.3 objects"). Nothing authenticates these bytes; the reader checks what can be
checked (whole blocks, the spaces of padding, the length field) and warns on every object.

This module only reads: the ``cottoncandy-0.3`` transform it registers refuses to encode, and
``cottoncandy key migrate`` re-encrypts such objects in the current format.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cc_core.backend import Backend, ObjectInfo, OpenedObject
from cc_core.byteranges import RangeByteRequest
from cc_core.caller import warn
from cc_core.errors import CottonCandyError, IntegrityError, MetadataError
from cc_core.integrity import Verifier
from cc_core.metadata import RESERVED_PREFIX, chain_names
from cc_core.payload import Buffer
from cc_core.pipeline import DECODE_CHUNK_SIZE, Pipeline, StreamSource
from cc_core.progress import NO_PROGRESS, Progress
from cc_core.transform import ENCRYPTION, Transform

from .errors import DecryptionError, MasterKeyError

TRANSFORM_NAME = "cottoncandy-0.3"
METHODS = ("AES", "RSA")
IV_SIZE = 16
BLOCK_SIZE = 16
LENGTH_FIELD_SIZE = 8
#: After the plaintext: 1 to 16 spaces, then the length field.
MAX_TAIL = BLOCK_SIZE + LENGTH_FIELD_SIZE
#: Metadata a 0.3 object carries for its RSA-wrapped key: ``key``, or on Google Drive ``key = "in
#: chunks"`` with ``keyChunks`` and ``keyChunk0``... (Drive limits a property's length).
WRAPPED_KEY = "key"
MIGRATE_ADVICE = "re-encrypt it in the current, authenticated format with 'cottoncandy key migrate {target}'"


class UnauthenticatedObjectWarning(UserWarning):
    """An object was read from cottoncandy 0.3's encryption, which cannot detect tampering."""


def parse_aes_key(value: bytes | str) -> bytes:
    """A 0.3 AES key: 16, 24 or 32 raw bytes, or their base64 text as 0.3 kept it in ``options.cfg``.

    0.3 running on Python 3 wrote ``str(b64encode(key))``, i.e. ``b'...'``; that form is accepted.

    Raises
    ------
    MasterKeyError
        The value is not such a key.
    """
    if isinstance(value, str):
        text = value.strip()
        quoted = re.fullmatch(r"b(['\"])(.*)\1", text)
        text = quoted.group(2) if quoted else text
        try:
            key = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise MasterKeyError("The cottoncandy 0.3 AES key is not base64 text of 16, 24 or 32 bytes "
                                 "(as [encryption] key in 0.3's options.cfg)") from None
    else:
        key = bytes(value)
    if len(key) not in (16, 24, 32):
        raise MasterKeyError(f"A cottoncandy 0.3 AES key has 16, 24 or 32 bytes, not {len(key)}")
    return key


def read_rsa_key(path: str | Path) -> Any:
    """The RSA private key in a PEM file (0.3's ``encryptionKey`` for ``encryption='RSA'``).

    Raises
    ------
    MasterKeyError
        The file cannot be read, is not an RSA key, or holds only the public half (which let 0.3
        write, but cannot read).
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    path = Path(path).expanduser()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MasterKeyError(f"Cannot read the cottoncandy 0.3 RSA key file {path}: {exc.strerror or exc}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        try:
            serialization.load_pem_public_key(data)
        except (ValueError, TypeError):
            raise MasterKeyError(f"{path} is not a PEM RSA key file (cottoncandy 0.3's RSA key)") from None
        raise MasterKeyError(
            f"{path} holds only a public RSA key: 0.3 wrote with it, but reading 0.3 objects needs the "
            "private key file. New objects are encrypted with your master key ('cottoncandy key id')"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise MasterKeyError(f"{path} holds a {type(key).__name__}, not an RSA private key")
    return key


def is_03_object(metadata: Mapping[str, str]) -> bool:
    """Whether an object may be one of 0.3's: every object this version writes has ``cc-*`` keys."""
    return not any(key.lower().startswith(RESERVED_PREFIX) for key in metadata)


def _lookup(metadata: Mapping[str, str], key: str) -> str | None:
    """A metadata value regardless of case (S3 lower-cases user metadata keys)."""
    wanted = key.lower()
    return next((value for name, value in metadata.items() if name.lower() == wanted), None)


def wrapped_key(metadata: Mapping[str, str]) -> str | None:
    """The base64 RSA-wrapped data key of a 0.3 RSA object, or None for an AES object."""
    value = _lookup(metadata, WRAPPED_KEY)
    if value is None or value.strip() != "in chunks":
        return value
    count = _lookup(metadata, "keyChunks")
    try:
        return "".join(_lookup(metadata, f"keyChunk{i}") or "" for i in range(int(count or "")))
    except ValueError:
        raise MetadataError(f"keyChunks = {count!r} is not a number of key chunks") from None


@dataclass(frozen=True)
class Legacy03Keys:
    """The keys that read 0.3 objects: the one AES key, and/or the RSA private key.

    Parameters
    ----------
    aes_key : bytes, optional
        0.3's AES key (``encryption='AES'``).
    rsa_key : cryptography RSA private key, optional
        0.3's RSA key (``encryption='RSA'``), see :func:`read_rsa_key`.
    aes_source, rsa_source : str
        Where the keys came from, for messages.
    """

    aes_key: bytes | None = None
    rsa_key: Any = None
    aes_source: str = "passed in"
    rsa_source: str = "passed in"

    @classmethod
    def from_options(cls, config: Any, method: str | None = None, key: Any = None) -> Legacy03Keys:
        """Keys from 0.3's ``encryption=``/``encryptionKey=`` arguments, else from ``[encryption] key``.

        Parameters
        ----------
        config : cc_core.config.Config, optional
            Its ``[encryption] key`` (or ``CC_ENCRYPTION_KEY``) is 0.3's AES key, base64.
        method : {'AES', 'RSA'}, optional
            0.3's ``encryption`` argument.
        key : bytes, str or path, optional
            0.3's ``encryptionKey``: the AES key (raw or base64), or the RSA key file's path.
        """
        method = (method or "AES").upper()
        if method not in METHODS:
            raise MasterKeyError(f"cottoncandy 0.3's encryption was 'AES' or 'RSA', not {method!r}")
        configured = (config.get("encryption", "key", fallback="") or "").strip() if config is not None else ""
        aes = cls._configured_aes(configured)
        if method == "RSA":
            if key in (None, False, ""):
                raise MasterKeyError("encryption='RSA' needs encryptionKey=, "
                                     "the path of 0.3's RSA private key file (PEM)")
            return cls(aes_key=aes, rsa_key=read_rsa_key(key), aes_source="[encryption] key", rsa_source=str(key))
        if key not in (None, False, ""):
            return cls(aes_key=parse_aes_key(key), aes_source="encryptionKey=")
        return cls(aes_key=aes, aes_source="[encryption] key (or CC_ENCRYPTION_KEY)")

    @staticmethod
    def _configured_aes(value: str) -> bytes | None:
        if value.lower() in ("", "false", "none", "auto"):
            return None
        try:
            return parse_aes_key(value)
        except MasterKeyError as exc:
            raise MasterKeyError(f"[encryption] key (cottoncandy 0.3's AES key): {exc}") from None

    @property
    def any(self) -> bool:
        return self.aes_key is not None or self.rsa_key is not None

    def method_of(self, metadata: Mapping[str, str]) -> str:
        """``'RSA'`` when the object carries a wrapped key, else ``'AES'``."""
        return "RSA" if wrapped_key(metadata) is not None else "AES"

    def can_read(self, metadata: Mapping[str, str]) -> bool:
        """Whether a key for this 0.3 object's method is available."""
        return (self.rsa_key if self.method_of(metadata) == "RSA" else self.aes_key) is not None

    def data_key(self, metadata: Mapping[str, str]) -> bytes:
        """The AES key that decrypts this object's body.

        Raises
        ------
        MasterKeyError
            The key for the object's method is not available.
        DecryptionError
            The wrapped key does not decrypt with the RSA key (another key, or damaged metadata).
        """
        wrapped = wrapped_key(metadata)
        if wrapped is None:
            if self.aes_key is None:
                raise MasterKeyError(
                    "needs cottoncandy 0.3's AES key, which is not configured: put it in [encryption] key "
                    "(base64, as 0.3 kept it) or pass encryption='AES', encryptionKey=KEY"
                )
            return self.aes_key
        if self.rsa_key is None:
            raise MasterKeyError(
                "needs cottoncandy 0.3's RSA private key: pass encryption='RSA', "
                "encryptionKey='PATH/OF/PRIVATE_KEY.pem' (the key file 0.3 used)"
            )
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
        try:
            data_key = self.rsa_key.decrypt(base64.b64decode(wrapped, validate=True), oaep)
        except (binascii.Error, ValueError):
            raise DecryptionError(
                f"has a 0.3 RSA-wrapped key that does not decrypt with the RSA key {self.rsa_source}: "
                "another key wrapped it, or its 'key' metadata is damaged"
            ) from None
        if len(data_key) not in (16, 24, 32):
            raise DecryptionError(f"has a 0.3 RSA-wrapped key of {len(data_key)} bytes, not an AES key")
        return data_key


def decrypt_aes(chunks: Iterable[Buffer], key: bytes) -> Iterator[bytes]:
    """The plaintext of a 0.3 AES object's body, streamed.

    The last :data:`MAX_TAIL` decrypted bytes are held back until the end, where the spaces of
    padding and the length field are checked: a wrong key or damaged tail raises instead of
    returning bytes (earlier blocks cannot be checked: nothing authenticates them).

    Raises
    ------
    DecryptionError
        Not whole AES blocks after the IV, or padding and length field inconsistent.
    """
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    pending = b""
    decryptor = None
    held = b""  # decrypted bytes not yet given out
    stored = 0
    for chunk in chunks:
        data = pending + bytes(chunk)
        if decryptor is None:
            if len(data) < IV_SIZE:
                pending = data
                continue
            decryptor = Cipher(algorithms.AES(key), modes.CBC(data[:IV_SIZE])).decryptor()
            data = data[IV_SIZE:]
        whole = len(data) - len(data) % BLOCK_SIZE
        pending = data[whole:]
        if not whole:
            continue
        stored += whole
        held += decryptor.update(data[:whole])
        if len(held) > MAX_TAIL:
            yield held[:-MAX_TAIL]
            held = held[-MAX_TAIL:]
    if decryptor is None or pending or stored < BLOCK_SIZE:
        raise DecryptionError(
            f"is not a cottoncandy 0.3 AES object: its body is not a 16-byte IV and whole AES blocks "
            f"({stored + len(pending) + (IV_SIZE if decryptor else 0)} bytes); it is truncated or damaged"
        )
    held += decryptor.finalize()
    length = _check_tail(held, stored)
    yield held[: len(held) - (stored - length)]


def check_key(tail: bytes, size: int, key: bytes) -> None:
    """Check ``key`` against a 0.3 AES object's last two blocks before reading the rest.

    ``tail`` is the object's last 32 stored bytes (the previous block, or the IV, then the last
    block) and ``size`` its stored size. The last block holds the spaces of padding and the length
    field: a wrong key fails here, before a decompressor sees any garbage.

    Raises
    ------
    DecryptionError
        The size is not an IV plus whole blocks, or the last block is not consistent with it.
    """
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    if size < IV_SIZE + BLOCK_SIZE or (size - IV_SIZE) % BLOCK_SIZE or len(tail) != 2 * BLOCK_SIZE:
        raise DecryptionError(
            f"is not a cottoncandy 0.3 AES object: its body is not a 16-byte IV and whole AES blocks "
            f"({size} bytes); it is truncated or damaged"
        )
    decryptor = Cipher(algorithms.AES(key), modes.CBC(tail[:BLOCK_SIZE])).decryptor()
    last = decryptor.update(tail[BLOCK_SIZE:]) + decryptor.finalize()
    _check_tail(last, size - IV_SIZE)


def _check_tail(decrypted: bytes, stored: int) -> int:
    """The plaintext length a 0.3 stream of ``stored`` bytes (after the IV) ends with, checked.

    ``decrypted`` is the stream's end: at least the last block; the spaces it holds are checked.
    """
    (length,) = struct.unpack("<Q", decrypted[-LENGTH_FIELD_SIZE:])
    padding_size = BLOCK_SIZE - (length + LENGTH_FIELD_SIZE) % BLOCK_SIZE
    tail = padding_size + LENGTH_FIELD_SIZE
    spaces = decrypted[max(0, len(decrypted) - tail) : -LENGTH_FIELD_SIZE]
    if length + tail != stored or spaces != b" " * len(spaces):
        raise DecryptionError(
            "does not decrypt as a cottoncandy 0.3 AES object: its padding and length field are "
            "inconsistent. The key is the wrong key, or the object is damaged (0.3's format is "
            "unauthenticated, so which one cannot be told)"
        )
    return length


def backend_tail(backend: Backend, info: ObjectInfo, version: Mapping[str, str]) -> bytes:
    """The last 32 stored bytes of an object (fewer when it is smaller), one ranged read."""
    first = max(0, info.size - 2 * BLOCK_SIZE)
    chunks = backend.iter_chunks(info.name, byte_range=RangeByteRequest(first, info.size), **version)
    return b"".join(bytes(c) for c in chunks)


def warn_unauthenticated(name: str, target: str) -> None:
    """Warn that ``name`` came from 0.3's unauthenticated encryption, and how to re-encrypt it."""
    warn(
        f"Object {name!r} was encrypted by cottoncandy 0.3 (AES-CBC without authentication): "
        f"changes to its bytes cannot be detected. {MIGRATE_ADVICE.format(target=target).capitalize()}",
        UnauthenticatedObjectWarning,
    )


class Legacy03Transform(Transform):
    """Read-only transform: decrypts cottoncandy 0.3 objects; never encrypts anything.

    The :class:`Legacy03Pipeline` of an encrypted interface uses it for objects without ``cc-*``
    metadata. Options (``from_config``): ``method`` and ``key``, 0.3's ``encryption`` and
    ``encryptionKey`` arguments; without them 0.3's AES key comes from ``[encryption] key``.
    """

    name = TRANSFORM_NAME
    kind = ENCRYPTION

    def __init__(self, keys: Legacy03Keys | None = None) -> None:
        self.keys = keys or Legacy03Keys()

    @classmethod
    def from_config(cls, config: Any, **options: Any) -> Legacy03Transform:
        method, key = options.pop("method", None), options.pop("key", None)
        if options:
            raise TypeError(f"The {TRANSFORM_NAME} transform does not take the option(s): {', '.join(sorted(options))}")
        return cls(Legacy03Keys.from_options(config, method, key))

    def encode(self, chunks: Iterable[Buffer]) -> Iterator[Buffer]:
        raise CottonCandyError(
            f"{TRANSFORM_NAME} only reads what cottoncandy 0.3 encrypted (unauthenticated AES-CBC); "
            "it never writes. Encrypt with cc.get_encrypted_interface() (aes-gcm)"
        )

    def decode(self, chunks: Iterable[Buffer]) -> Iterator[Buffer]:
        """Decrypt a 0.3 AES object (an RSA object needs its metadata: :meth:`decode_object`)."""
        return self.decode_object(chunks, {})

    def decode_object(self, chunks: Iterable[Buffer], metadata: Mapping[str, str]) -> Iterator[Buffer]:
        """Decrypt the body of a 0.3 object whose metadata is ``metadata``."""
        return decrypt_aes(chunks, self.keys.data_key(metadata))


class Legacy03Pipeline(Pipeline):
    """An encrypted interface's pipeline that also reads cottoncandy 0.3's encrypted objects.

    Objects with ``cc-*`` metadata (every object this version writes) take the ordinary path. An
    object without, when a 0.3 key for its method is available, is decrypted by
    :class:`Legacy03Transform` and then decompressed by the chain its 0.3 metadata names, with an
    :class:`UnauthenticatedObjectWarning` once per object and interface.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._warned: set[tuple[str | None, str]] = set()

    @classmethod
    def replacing(cls, pipeline: Pipeline) -> Legacy03Pipeline:
        """The same pipeline (registry, config, chain, transform options) that also reads 0.3 objects."""
        return cls(pipeline.registry, pipeline.config, pipeline.always, pipeline.transform_options)

    @property
    def reader(self) -> Legacy03Transform:
        transform = self.transform(TRANSFORM_NAME)
        assert isinstance(transform, Legacy03Transform)
        return transform

    def source(self, backend: Backend, info: ObjectInfo, *, progress: Progress = NO_PROGRESS,
               streamed: bool = False, opened: OpenedObject | None = None) -> Any:
        if not is_03_object(info.metadata):
            return super().source(backend, info, progress=progress, streamed=streamed, opened=opened)
        keys = self.reader.keys
        if keys.can_read(info.metadata):
            if opened is not None:  # 0.3's objects are read in ranges of their own
                opened.close()
            return self.source_03(backend, info, progress=progress)
        try:
            keys.data_key(info.metadata)
        except MasterKeyError as exc:
            if keys.any:  # 0.3's objects are expected here: say which key this one needs
                raise MasterKeyError(f"Object {info.name!r} {exc}") from None
            advice = str(exc)
        try:
            return super().source(backend, info, progress=progress, streamed=streamed, opened=opened)
        except IntegrityError as exc:  # not encrypted, or by 0.3: say both
            raise IntegrityError(f"{exc}. If cottoncandy 0.3's get_encrypted_interface wrote it, it {advice}") from None

    def source_03(self, backend: Backend, info: ObjectInfo, *, progress: Progress = NO_PROGRESS,
                  decompress: bool = True) -> StreamSource:
        """The plaintext of 0.3 object ``info``; with ``decompress=False`` the stored serialisation
        still compressed as 0.3 compressed it."""
        key = (backend.bucket, info.name)
        if key not in self._warned:
            self._warned.add(key)
            warn_unauthenticated(info.name, _target_of(backend, info.name))
        chain = self.stored_chain(info.name, chain_names(info.metadata) if decompress else [])
        version = {} if info.version is None else {"version": info.version}
        try:
            data_key = self.reader.keys.data_key(info.metadata)
            check_key(backend_tail(backend, info, version), info.size, data_key)
        except CottonCandyError as exc:
            _name(exc, info.name)
            raise
        progress.set_size(info.size)
        stored = Verifier(info.name, info.metadata, info.size).chunks(
            backend.iter_chunks(info.name, chunk_size=DECODE_CHUNK_SIZE, progress=progress, **version))
        chunks: Iterator[Any] = iter(decrypt_aes(stored, data_key))
        for transform in reversed(chain):
            chunks = iter(transform.decode(chunks))
        return StreamSource(info.name, chunks, stored)


def _name(error: CottonCandyError, name: str) -> None:
    """Put the object's name into an error raised before the stream names it."""
    if getattr(error, "object_name", "") is None:
        error.object_name = name  # type: ignore[attr-defined]
    elif repr(name) not in str(error):
        error.args = (f"Object {name!r} {error}", *error.args[1:])


def _target_of(backend: Backend, name: str) -> str:
    """How ``cottoncandy key migrate`` names the object: a URL, or a path for the local backend."""
    if backend.name == "local":
        return str(Path(backend.bucket or "/", *name.split("/")))
    return f"{backend.name}://{backend.bucket}/{name}"


def enable(interface: Any, method: str | None = None, key: Any = None) -> None:
    """Let an encrypted interface read cottoncandy 0.3's objects (and check 0.3's key at once).

    Parameters
    ----------
    interface : cc_core.interface.CCInterface
        An interface made by ``get_encrypted_interface``; its pipeline is replaced by a
        :class:`Legacy03Pipeline` with the same settings.
    method, key :
        0.3's ``encryption`` (``'AES'``/``'RSA'``) and ``encryptionKey``; None: 0.3's AES key from
        ``[encryption] key`` if there is one.

    Raises
    ------
    MasterKeyError
        The 0.3 key given (or configured) cannot be used; the message says why.
    """
    pipeline = Legacy03Pipeline.replacing(interface.pipeline)
    pipeline.configure_transform(TRANSFORM_NAME, method=method, key=key)
    pipeline.reader  # noqa: B018  (reads and checks the keys now, not at the first download)
    interface.pipeline = pipeline
