"""The metadata keys cottoncandy writes, and reading the transform chain back from them.

An object describes itself: ``cc-codec`` names the codec that wrote it and ``cc-transforms`` the
transform chain in write order (``"zstd,aes-gcm"``). For cottoncandy 0.4 readers, raw arrays also
carry 0.4's ``compression`` key. Objects that 0.4 wrote have no ``cc-*`` keys: their chain comes
from ``compression`` (or the older ``gzip``) and raw arrays are recognised by ``dtype``/``shape``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .errors import MetadataError

CODEC_KEY = "cc-codec"
TRANSFORMS_KEY = "cc-transforms"
#: ``<algorithm>:<hex digest>`` of the stored bytes (see :mod:`cc_core.integrity`).
CHECKSUM_KEY = "cc-checksum"
#: ``<algorithm>:<hex digest>`` of the deciding metadata, checksum included (see :func:`deciding_metadata`).
DIGEST_KEY = "cc-digest"
RESERVED_PREFIX = "cc-"
#: The ``cc-codec`` of pickles (``upload_pickle``); no registered codec reads them, only ``download_pickle``.
PICKLE_CODEC = "pickle"
LEGACY_COMPRESSION_KEY = "compression"
LEGACY_GZIP_KEY = "gzip"
_NO_COMPRESSION = ("", "false", "none")
#: Keys without the ``cc-`` prefix that decide how an object's bytes become a value: the names
#: cottoncandy 0.4 wrote, which cannot change. Every other deciding key a codec or transform
#: writes must start with ``cc-`` (reserved, so user metadata never collides with it).
LEGACY_DECIDING_KEYS = ("dtype", "shape", "order", LEGACY_COMPRESSION_KEY, LEGACY_GZIP_KEY)


def chain_names(metadata: Mapping[str, str]) -> list[str]:
    """The transform names applied when the object was written, in write order."""
    if TRANSFORMS_KEY in metadata:
        return [name for name in metadata[TRANSFORMS_KEY].split(",") if name]
    legacy = metadata.get(LEGACY_COMPRESSION_KEY)
    if legacy is not None:
        return [] if legacy.strip().lower() in _NO_COMPRESSION else [legacy.strip()]
    if metadata.get(LEGACY_GZIP_KEY, "").strip().lower() == "true":
        return ["gzip"]
    return []


def deciding_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    """The part of ``metadata`` that decides how the stored bytes become a value.

    Every ``cc-*`` key but ``cc-digest`` itself (codec, transform chain, checksum of the bytes,
    a codec's own fields such as ``cc-dtype``) and the 0.4 names in :data:`LEGACY_DECIDING_KEYS`.
    Keys are lower-cased, as S3 returns them; user metadata is not included, so users may edit it.
    """
    deciding = {}
    for key, value in metadata.items():
        lowered = key.lower()
        if (lowered.startswith(RESERVED_PREFIX) and lowered != DIGEST_KEY) or lowered in LEGACY_DECIDING_KEYS:
            deciding[lowered] = value
    return deciding


def codec_name(metadata: Mapping[str, str]) -> str | None:
    """The codec that wrote the object, or None for plain bytes."""
    if CODEC_KEY in metadata:
        return metadata[CODEC_KEY]
    if "dtype" in metadata and "shape" in metadata:
        return "raw"
    return None


# cottoncandy 0.4 honours `order` only for uncompressed and gzip bodies; for numcodecs bodies it
# reshapes in C order, so it would read an F-ordered array transposed without a word.
_ORDER_AWARE_IN_04 = ("gzip",)


def legacy_compression(chain: Sequence[object], order: str = "C") -> str:
    """The value of 0.4's ``compression`` key for a chain of transforms.

    ``"False"`` for no transforms; the 0.4 codec name for a single compression 0.4 reads correctly;
    for anything else a value 0.4 refuses loudly ("Unknown compression scheme") instead of
    misreading the bytes: other chains, and F-ordered arrays under a compression that 0.4
    decodes as if they were C-ordered.
    """
    if not chain:
        return "False"
    legacy = getattr(chain[0], "legacy_name", None) if len(chain) == 1 else None
    if legacy and (order == "C" or legacy in _ORDER_AWARE_IN_04):
        return legacy
    names = ",".join(getattr(t, "name", str(t)) for t in chain)
    return f"{names};order={order}" if legacy else names


def user_metadata(metadata: Mapping[str, object], reserved: Mapping[str, str]) -> dict[str, str]:
    """Check the caller's ``**metadata`` and turn values into strings.

    Raises
    ------
    MetadataError
        A key is not a string, collides with a key the codec writes, or uses the ``cc-`` prefix.
    """
    cleaned: dict[str, str] = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise MetadataError(f"Metadata keys must be non-empty strings, not {key!r}")
        if key.lower() in reserved or key.lower().startswith(RESERVED_PREFIX):
            raise MetadataError(
                f"Metadata key {key!r} is reserved by cottoncandy; choose another name"
            )
        cleaned[key] = str(value)
    return cleaned


def metadata_size(metadata: Mapping[str, str]) -> int:
    """Bytes the metadata takes as S3 counts them (UTF-8 keys plus values)."""
    return sum(len(k.encode()) + len(v.encode()) for k, v in metadata.items())
