"""Which checksum an upload request carries for S3 to verify before it stores the bytes.

Every upload request carries one (unless the client computes checksums only when an operation
requires them: botocore's ``request_checksum_calculation = "when_required"``, for stores that do not
know flexible checksums):

- a single PUT whose bytes the pipeline has already digested (``cc-checksum = "xxh3-64:..."`` in its
  metadata: arrays, compressed objects, files digested ahead) sends that very digest as
  ``x-amz-checksum-xxhash3`` (S3's XXHASH3 is the same XXH3-64, base64 of its 8 big-endian bytes): the
  bytes are hashed once, for both checks. botocore computes no checksum of its own when one is given.
- multipart parts carry a CRC32 computed here, in the part's thread (``zlib.crc32`` releases the GIL:
  parts hash in parallel), and sent as ``x-amz-checksum-crc32``; botocore would otherwise send it over
  https as a trailer of an ``aws-chunked`` body, which copies every 1 MiB chunk twice on its way.
- PUTs whose checksum is not known before sending carry the CRC32 botocore computes.

``[s3] upload_checksum = crc32`` sends botocore's CRC32 on single PUTs too, for S3-compatible stores
that know CRC32 but not XXHASH3 (AWS added it in April 2026). Without it, a store that refuses the
XXHASH3 header (400 ``InvalidArgument``/``InvalidRequest``, 501 ``NotImplemented``) gets the PUT again
with botocore's CRC32, and that client sends CRC32 from then on (:func:`refuses_xxhash3`).
"""

from __future__ import annotations

import base64
import weakref
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from cc_core.integrity import ALGORITHM
from cc_core.metadata import CHECKSUM_KEY
from cc_core.payload import Buffer

#: What botocore computes for parts and for PUTs without a known digest.
PART_ALGORITHM = "CRC32"
#: Error codes of a store that does not know an ``x-amz-checksum-*`` header (never ``BadDigest``: a mismatch).
_UNKNOWN_CHECKSUM_CODES = frozenset({"InvalidArgument", "InvalidRequest", "NotImplemented"})
#: Clients whose store refused XXHASH3: their PUTs carry botocore's CRC32.
_WITHOUT_XXHASH3: weakref.WeakSet[Any] = weakref.WeakSet()


def flexible_checksums(client: Any) -> bool:
    """Whether ``client`` sends checksums with every upload (not only where an operation requires them)."""
    config = getattr(client.meta, "config", None)
    return getattr(config, "request_checksum_calculation", "when_supported") != "when_required"


def part_algorithm(client: Any) -> str | None:
    """``ChecksumAlgorithm`` for multipart uploads and parts: CRC32, or None without flexible checksums."""
    return PART_ALGORITHM if flexible_checksums(client) else None


def part_checksum(views: Iterable[Buffer], algorithm: str | None) -> dict[str, str]:
    """``upload_part`` arguments with the part's checksum (``algorithm`` from :func:`part_algorithm`)."""
    if algorithm is None:
        return {}
    crc = 0
    for view in views:
        crc = zlib.crc32(view, crc)
    return {"ChecksumAlgorithm": algorithm, "ChecksumCRC32": base64.b64encode(crc.to_bytes(4, "big")).decode("ascii")}


def put_checksum(client: Any, metadata: Mapping[str, str], choice: str) -> dict[str, str]:
    """``put_object`` arguments that give S3 the checksum of the body; empty to let botocore compute its own.

    ``metadata`` is the object's, as sent; its ``cc-checksum`` is the digest of exactly the body.
    """
    recorded = metadata.get(CHECKSUM_KEY, "")
    algorithm, _, value = recorded.partition(":")
    if choice != "xxhash3" or algorithm != ALGORITHM or len(value) != 16 or not flexible_checksums(client) \
            or client in _WITHOUT_XXHASH3:
        return {}
    return {"ChecksumXXHASH3": base64.b64encode(bytes.fromhex(value)).decode("ascii")}


def refuses_xxhash3(client: Any, sent: Mapping[str, Any], code: str) -> bool:
    """Whether a PUT that carried ``sent`` failed with ``code`` because its store does not know XXHASH3;
    if so ``client`` sends CRC32 from now on."""
    if "ChecksumXXHASH3" not in sent or code not in _UNKNOWN_CHECKSUM_CODES:
        return False
    _WITHOUT_XXHASH3.add(client)
    return True
