"""Re-encrypting older objects in place, in the current authenticated format: cottoncandy 0.3's
(:func:`migrate_object`) and those of encryption format version 1 (:func:`migrate_v1_object`).

Each object is read whole and checked (key, blocks, padding, length field, decompression) into a
temporary file first; only then is it written back under the same name, in one ``put`` (atomic on
every backend), after checking that nobody replaced it meanwhile. Anything that fails leaves the
original as it was. ``cottoncandy key migrate`` is their command line; :func:`rebind_object` is
``cottoncandy key rebind``.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from dataclasses import dataclass

from cc_core.backend import Backend, ObjectInfo
from cc_core.byteranges import RangeByteRequest
from cc_core.codec import Encoded
from cc_core.errors import ObjectChangedError, UnsupportedOperationError
from cc_core.integrity import seal
from cc_core.metadata import (
    CHECKSUM_KEY,
    CODEC_KEY,
    DIGEST_KEY,
    LEGACY_COMPRESSION_KEY,
    LEGACY_GZIP_KEY,
    TRANSFORMS_KEY,
    chain_names,
    codec_name,
)
from cc_core.payload import Payload
from cc_core.pipeline import Pipeline
from cc_core.transform import ObjectPlace

from .format import PREFIX_SIZE, binding_metadata, context_of, name_tag, open_stored_header
from .legacy03 import WRAPPED_KEY, Legacy03Pipeline, UnauthenticatedObjectWarning
from .transform import AesGcmTransform, UnauthenticatedMetadataWarning

#: The raw codec's own metadata; the rest of a 0.3 object's metadata is the user's.
_RAW_CODEC_KEYS = ("dtype", "shape", "order")
#: 0.3's metadata that describes its encryption or compression, not the object: not carried over.
_DROPPED = re.compile(rf"^({WRAPPED_KEY}|keychunks|keychunk\d+|{LEGACY_COMPRESSION_KEY}|{LEGACY_GZIP_KEY})$", re.I)
_COPY_BLOCK = 8 << 20


@dataclass
class Migrated:
    """What migrating one object did: its 0.3 method and the transform chain it is stored with now."""

    method: str
    transforms: str


def migrate_object(pipeline: Legacy03Pipeline, backend: Backend, info: ObjectInfo, *,
                   dry_run: bool = False) -> Migrated:
    """Re-encrypt one 0.3 object (``info`` from ``head``) with the pipeline's current cipher.

    Parameters
    ----------
    pipeline : Legacy03Pipeline
        Of an encrypted interface: it reads the 0.3 object and writes the new one.
    backend : Backend
        Where the object is.
    info : ObjectInfo
        The object, as ``head`` describes it.
    dry_run : bool
        Read and check everything, write nothing.

    Raises
    ------
    cc_core.errors.CottonCandyError
        Any failure (no key, wrong key, damaged, changed meanwhile); the object is left untouched.
    """
    keys = pipeline.reader.keys
    method = keys.method_of(info.metadata)
    compression = chain_names(info.metadata)
    chain = pipeline.chain(compression)  # the encrypted interface appends its cipher
    codec = codec_name(info.metadata)
    with tempfile.TemporaryFile() as plaintext:
        with warnings.catch_warnings():  # migrating is the answer to the warning
            warnings.simplefilter("ignore", UnauthenticatedObjectWarning)
            source = pipeline.source_03(backend, info)
        block = memoryview(bytearray(_COPY_BLOCK))
        while count := source.readinto(block):
            plaintext.write(block[:count])
        source.verify()  # the whole stored object was read and its length field checked
        size = plaintext.tell()
        migrated = Migrated(method, ",".join(t.name for t in chain))
        if dry_run:
            return migrated
        kept = {k: v for k, v in info.metadata.items() if not _DROPPED.match(k)}
        codec_metadata = {k: kept.pop(k) for k in _RAW_CODEC_KEYS if codec == "raw" and k in kept}
        if _changed(backend, info):
            raise ObjectChangedError(f"Object {info.name!r} was replaced while it was being migrated; "
                                     "it was left as the other writer left it: migrate it again")
        plaintext.seek(0)
        pipeline.write(backend, info.name, Encoded(Payload(stream=plaintext, size=size), codec_metadata),
                       chain, codec, kept)
    return migrated


def format_version(backend: Backend, info: ObjectInfo) -> int | None:
    """The encryption format version of an object stored with ``aes-gcm`` (one ranged read of its
    first bytes), or None for any other object."""
    if AesGcmTransform.name not in (name.strip().lower() for name in chain_names(info.metadata)):
        return None
    start = backend.get(info.name, byte_range=RangeByteRequest(0, min(PREFIX_SIZE, info.size)))
    return start[8] if len(start) > 8 else None


def migrate_v1_object(pipeline: Pipeline, backend: Backend, info: ObjectInfo, *, dry_run: bool = False) -> str:
    """Rewrite an object of encryption format version 1 in the current version, under its name.

    The object is read whole through its chain (every segment authenticated, decompressed) into a
    temporary file, then written back with the same codec, metadata and chain, so that its header
    authenticates its metadata and, unless names are not bound, its name. Returns its chain.

    Raises
    ------
    cc_core.errors.CottonCandyError
        Any failure (no key, damaged, changed meanwhile); the object is left untouched.
    """
    names = [name for name in chain_names(info.metadata) if name.strip().lower() != AesGcmTransform.name]
    chain = pipeline.chain(names)
    codec = info.metadata.get(CODEC_KEY)
    with tempfile.TemporaryFile() as plaintext:
        with warnings.catch_warnings():  # migrating is the answer to the warning
            warnings.simplefilter("ignore", UnauthenticatedMetadataWarning)
            source = pipeline.source(backend, info, streamed=True)
            block = memoryview(bytearray(_COPY_BLOCK))
            while count := source.readinto(block):
                plaintext.write(block[:count])
            source.verify()
        transforms = ",".join(t.name for t in chain)
        if dry_run:
            return transforms
        rewritten = ((DIGEST_KEY, CHECKSUM_KEY, CODEC_KEY, TRANSFORMS_KEY)
                     + ((LEGACY_COMPRESSION_KEY,) if codec == "raw" else ()))
        kept = {k: v for k, v in info.metadata.items() if k.lower() not in rewritten}
        if _changed(backend, info):
            raise ObjectChangedError(f"Object {info.name!r} was replaced while it was being migrated; "
                                     "it was left as the other writer left it: migrate it again")
        size = plaintext.tell()
        plaintext.seek(0)
        pipeline.write(backend, info.name, Encoded(Payload(stream=plaintext, size=size), kept), chain, codec, {})
    return transforms


def rebind_object(transform: AesGcmTransform, backend: Backend, info: ObjectInfo, *,
                  dry_run: bool = False) -> str | None:
    """Bind a name-bound object to the name it has now (its metadata replaced, its bytes untouched).

    Its header must authenticate its metadata (the master key is needed). Returns the place it was
    sealed for, or None when there was nothing to do (bound to this name already, or not name-bound).
    """
    place = ObjectPlace.of(backend, info.name)

    def read(first: int, end: int) -> bytes:
        return backend.get(info.name, byte_range=RangeByteRequest(first, min(end, info.size)))

    opened = open_stored_header(read, info.size, transform.keyring.find, context_of(info.metadata))
    if not opened.header.name_bound:
        return None
    values = {k.lower(): v for k, v in info.metadata.items()}
    if values.get("cc-name-tag", "").strip().lower() == name_tag(opened.name_key, place, opened.header.mac):
        return None
    was = values.get("cc-sealed-for", "(not recorded)")
    if dry_run:
        return was
    metadata = {k: v for k, v in info.metadata.items() if k.lower() != DIGEST_KEY}
    metadata.update(binding_metadata(opened, place))
    seal(metadata)
    try:
        backend.copy_with_metadata(info, info.name, metadata)
    except UnsupportedOperationError:  # a backend without a metadata-replacing copy: the bytes pass once
        if _changed(backend, info):
            raise ObjectChangedError(f"Object {info.name!r} was replaced meanwhile; it was left as it is") from None
        backend.put(info.name, Payload([backend.get(info.name)]), metadata)
    return was


def _changed(backend: Backend, info: ObjectInfo) -> bool:
    current = backend.head(info.name)
    return (current.version, current.size, dict(current.metadata)) != (info.version, info.size, dict(info.metadata))
