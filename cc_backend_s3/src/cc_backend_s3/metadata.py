"""Object metadata as S3 user metadata (``x-amz-meta-*`` headers), exactly round-tripped.

S3 lower-cases metadata keys, carries values in HTTP headers (ASCII only; surrounding whitespace
is lost) and allows 2 KB of user metadata per object (UTF-8 keys plus values). So:

- keys must be HTTP header tokens; they are stored lower-cased, and two keys that differ only in
  case are refused rather than silently merged;
- a value that is not plain printable ASCII, or that has surrounding whitespace, or that itself
  looks like an encoded word, is stored as one RFC 2047 encoded word, ``=?UTF-8?B?<base64>?=``:
  the same form S3 uses when it returns non-ASCII metadata, so other S3 tools decode it too;
- the encoded size is checked against the limit before any byte is sent.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from email.header import decode_header, make_header

from cc_core.errors import MetadataError

METADATA_LIMIT = 2048
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-zA-Z]+")
_PLAIN_VALUE = re.compile(r"(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?")
_ENCODED_WORD = re.compile(r"=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=", re.IGNORECASE)


def encode_metadata(metadata: Mapping[str, str], *, where: str) -> dict[str, str]:
    """The header-safe form of ``metadata``; ``where`` names the object in errors.

    Raises
    ------
    MetadataError
        A key is not a valid header name, two keys differ only in case, or the encoded metadata
        exceeds S3's 2 KB limit.
    """
    encoded: dict[str, str] = {}
    for key, value in metadata.items():
        if not _TOKEN.fullmatch(key):
            raise MetadataError(
                f"Metadata key {key!r} of {where} cannot be stored on S3: keys are ASCII letters, "
                "digits and -_.!#$%&'*+^`|~ (no spaces or other characters)"
            )
        lowered = key.lower()
        if lowered in encoded:
            raise MetadataError(
                f"Metadata keys of {where} differ only in case ({key!r}); S3 lower-cases keys, "
                "so one would overwrite the other: rename one"
            )
        encoded[lowered] = encode_value(str(value))
    size = sum(len(k.encode()) + len(v.encode()) for k, v in encoded.items())
    if size > METADATA_LIMIT:
        raise MetadataError(
            f"The metadata of {where} takes {size} bytes as S3 headers; S3 allows {METADATA_LIMIT}. "
            "Store large annotations in a separate object (e.g. upload_json)"
        )
    return encoded


def encode_value(value: str) -> str:
    if _PLAIN_VALUE.fullmatch(value) and not value.startswith("=?"):
        return value
    data = value.encode("utf-8", "surrogatepass")
    return "=?UTF-8?B?" + base64.b64encode(data).decode("ascii") + "?="


def decode_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    """The metadata as written, from the headers S3 returns."""
    return {key.lower(): decode_value(value) for key, value in metadata.items()}


def decode_value(value: str) -> str:
    if not value.startswith("=?"):
        return value
    match = _ENCODED_WORD.fullmatch(value)
    try:
        if match:
            return base64.b64decode(match.group(1), validate=True).decode("utf-8", "surrogatepass")
        # S3's own encoding of non-ASCII values written by other tools (may be several words)
        return str(make_header(decode_header(value)))
    except (binascii.Error, UnicodeDecodeError, ValueError, LookupError):
        return value
