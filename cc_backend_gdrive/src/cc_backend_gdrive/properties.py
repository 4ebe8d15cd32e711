"""Object metadata as Google Drive file properties.

Drive keeps custom properties on each file (Drive API v2 ``properties``: key, value, visibility),
with limits: at most 124 bytes of UTF-8 per property (key plus value) and at most 30 public
properties per file. cottoncandy 0.4 stored each metadata key as one property; so does this
backend, as ``PUBLIC`` properties (every app and account with access to the file sees them).

A value too long for one property (a structured dtype's description, a long user annotation) is
split on character boundaries across numbered properties ``cc-0-KEY``, ``cc-1-KEY``, ...; the
``cc-`` prefix is reserved by cottoncandy, so no user key collides with them. Reading joins them
back. Properties of any visibility are read (0.4 wrote private ones), public ones win.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from cc_core.errors import MetadataError

PROPERTY_BYTES = 124
MAX_PUBLIC_PROPERTIES = 30
#: Largest metadata (keys plus values, bytes) that can fit; the exact test is the property count.
METADATA_LIMIT = PROPERTY_BYTES * MAX_PUBLIC_PROPERTIES
_PART = re.compile(r"cc-(\d+)-(.+)", re.DOTALL)


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _split(value: str, room: int) -> list[str]:
    """Split ``value`` into pieces of at most ``room`` UTF-8 bytes, never inside a character."""
    pieces, current, used = [], [], 0
    for character in value:
        size = _utf8_len(character)
        if used + size > room:
            pieces.append("".join(current))
            current, used = [], 0
        current.append(character)
        used += size
    pieces.append("".join(current))
    return pieces


def encode_properties(metadata: Mapping[str, str], name: str = "") -> list[dict[str, str]]:
    """Drive ``properties`` for an object's metadata.

    Raises
    ------
    MetadataError
        A key alone leaves no room for its value, or the metadata needs more than 30 properties.
    """
    where = f" of {name!r}" if name else ""
    properties: list[dict[str, str]] = []
    for key, value in metadata.items():
        if _utf8_len(key) + _utf8_len(value) <= PROPERTY_BYTES:
            properties.append({"key": key, "value": value, "visibility": "PUBLIC"})
            continue
        index = 0
        while True:  # the part keys grow with the count of parts: find a count that fits
            room = PROPERTY_BYTES - _utf8_len(f"cc-{index}-{key}")
            if room < 8:
                raise MetadataError(
                    f"Metadata key {key[:40]!r}{where} is too long for a Google Drive property "
                    f"({PROPERTY_BYTES} bytes per key and value); use a shorter key"
                )
            pieces = _split(value, room)
            if len(str(len(pieces) - 1)) <= len(str(index)):
                break
            index = len(pieces) - 1
        properties += [{"key": f"cc-{i}-{key}", "value": piece, "visibility": "PUBLIC"}
                       for i, piece in enumerate(pieces)]
    if len(properties) > MAX_PUBLIC_PROPERTIES:
        raise MetadataError(
            f"The metadata{where} needs {len(properties)} Google Drive properties; Drive allows "
            f"{MAX_PUBLIC_PROPERTIES} per file ({PROPERTY_BYTES} bytes each). Store large "
            "annotations as a json object instead"
        )
    return properties


def decode_properties(properties: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """An object's metadata from its Drive ``properties`` (any visibility; public ones win)."""
    plain: dict[str, str] = {}
    parts: dict[str, dict[int, str]] = {}
    ordered = sorted(properties or (), key=lambda p: p.get("visibility", "PRIVATE") == "PUBLIC")
    for prop in ordered:
        key, value = str(prop.get("key", "")), str(prop.get("value") or "")
        match = _PART.fullmatch(key)
        if match:
            parts.setdefault(match.group(2), {})[int(match.group(1))] = value
        else:
            plain[key] = value
    for key, pieces in parts.items():
        plain[key] = "".join(pieces[i] for i in sorted(pieces))
    return plain
