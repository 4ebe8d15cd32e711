"""Re-encrypting cottoncandy 0.3's objects in place, in the current authenticated format.

Each object is read whole and checked (key, blocks, padding, length field, decompression) into a
temporary file first; only then is it written back under the same name, in one ``put`` (atomic on
every backend), after checking that nobody replaced it meanwhile. Anything that fails leaves the
original as it was. ``cottoncandy key migrate`` is the command line of :func:`migrate_object`.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from dataclasses import dataclass

from cc_core.backend import Backend, ObjectInfo
from cc_core.codec import Encoded
from cc_core.errors import ObjectChangedError
from cc_core.metadata import LEGACY_COMPRESSION_KEY, LEGACY_GZIP_KEY, chain_names, codec_name
from cc_core.payload import Payload

from .legacy03 import WRAPPED_KEY, Legacy03Pipeline, UnauthenticatedObjectWarning

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


def _changed(backend: Backend, info: ObjectInfo) -> bool:
    current = backend.head(info.name)
    return (current.version, current.size, dict(current.metadata)) != (info.version, info.size, dict(info.metadata))
