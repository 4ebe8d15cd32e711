"""Completing a multipart upload or copy, and telling whether a completion whose answer was lost went through.

CompleteMultipartUpload is the one request of an upload that S3 does not take twice: once it has
succeeded the upload ID is gone, and the same request sent again fails with ``NoSuchUpload``. Its answer
can be lost (a connection reset, a proxy's timeout, a server that takes longer than the read timeout), and
the retry then fails although the object is stored. So when an attempt's answer was lost
(:func:`cc_backend_s3.retry.answer_lost`) and the completion ends in an error, the object is looked at with
one HEAD, and when it is this upload the completion succeeded: its answer is taken from the HEAD. Whether
it is this upload is decided by evidence S3 derives from the parts, in this order:

1. the ETag: S3's multipart ETag is ``"<MD5 of the parts' binary MD5s>-<number of parts>"``, where the
   parts' ETags are MD5 digests of their bytes; under SSE-KMS and SSE-C they are not (the
   CreateMultipartUpload answer says which encryption applies), and the ETag proves nothing;
2. else the composite CRC32 of the parts' checksums (``"<base64 CRC32 of the parts' binary CRC32s>-<number
   of parts>"``, read with ``ChecksumMode=ENABLED``), when the parts carried one (:mod:`.checksums`);
3. else nothing can tell: the error says that the object may be stored and how to check.

An object that is not this upload (another version, or none) means the completion did fail: the real
error is raised (``NoSuchUpload``, meaningless to the user here, as a :class:`TransferError` that says what
happened), and the caller aborts the upload.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from cc_core.errors import CottonCandyError, TransferError

from .retry import MISSING_OBJECT_CODES, Retrier, TransferCancelled, answer_lost, describe, error_code

_MD5_ETAG = re.compile(r'"?([0-9a-fA-F]{32})"?')
#: ``ServerSideEncryption`` values under which part ETags are not MD5 digests of the parts' bytes.
_KMS = frozenset({"aws:kms", "aws:kms:dsse"})


def opaque_etags(created: Mapping[str, Any]) -> str | None:
    """Why the parts' ETags of the upload ``created`` (a CreateMultipartUpload answer) are not MD5 digests
    of their bytes (``"SSE-KMS"``, ``"SSE-C"``), or None when they are."""
    if created.get("ServerSideEncryption") in _KMS:
        return "SSE-KMS"
    if created.get("SSECustomerAlgorithm"):
        return "SSE-C"
    return None


def multipart_etag(etags: Sequence[str]) -> str | None:
    """S3's ETag of an object joined from parts with these ETags (MD5 hex digests, quoted or not),
    unquoted; None when one of them is not an MD5 digest."""
    digests = [_MD5_ETAG.fullmatch(etag) for etag in etags]
    if not digests or not all(digests):
        return None
    joined = b"".join(bytes.fromhex(match.group(1)) for match in digests if match)
    return f"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{len(etags)}"


def composite_crc32(checksums: Sequence[str | None]) -> str | None:
    """S3's composite ``ChecksumCRC32`` of an object joined from parts with these (base64) CRC32s;
    None when a part has none."""
    if not checksums or not all(checksums):
        return None
    crc = zlib.crc32(b"".join(base64.b64decode(checksum or "") for checksum in checksums))
    return f"{base64.b64encode(crc.to_bytes(4, 'big')).decode('ascii')}-{len(checksums)}"


def complete_multipart(client: Any, retrier: Retrier, *, bucket: str, key: str, upload_id: str,
                       parts: list[dict[str, Any]], opaque: str | None, what: str,
                       head_client: Any) -> dict[str, Any]:
    """Complete the multipart upload ``upload_id`` of ``bucket/key`` from ``parts``.

    Parameters
    ----------
    client : botocore client
        Sends the completion (with a read timeout long enough for the server to join the parts).
    retrier : Retrier
        The transfer's retry policy.
    bucket, key, upload_id : str
        The upload.
    parts : list of dict
        ``{"PartNumber", "ETag", ["ChecksumCRC32"]}`` of every part, in order.
    opaque : str or None
        :func:`opaque_etags` of the upload: why the parts' ETags are not MD5 digests.
    what : str
        Names the completion in errors.
    head_client : botocore client
        Sends the HEAD that checks a completion whose answer was lost (with the usual read timeout).

    Returns
    -------
    dict
        The CompleteMultipartUpload answer; made up from a HEAD (``ETag``, ``VersionId``) when an
        answer was lost and the object turned out to be this upload.

    Raises
    ------
    TransferError
        The completion failed after an attempt whose answer was lost and the object is not this upload,
        or it cannot be told whether it is (then the message says how to check).
    Exception
        The completion's own error when no answer was lost.
    """
    failures: list[BaseException] = []

    def complete() -> dict[str, Any]:
        try:
            return client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                                    MultipartUpload={"Parts": parts})
        except Exception as exc:
            failures.append(exc)
            raise

    try:
        return retrier.call(complete, what=what)
    except TransferCancelled:
        raise
    except Exception as error:
        if not any(answer_lost(failure) for failure in failures):
            raise
        return _answer_from_the_object(head_client, retrier, error, bucket=bucket, key=key,
                                       parts=parts, opaque=opaque, what=what)


def _answer_from_the_object(client: Any, retrier: Retrier, error: Exception, *, bucket: str, key: str,
                            parts: list[dict[str, Any]], opaque: str | None, what: str) -> dict[str, Any]:
    """The completion's answer, from a HEAD of the object when it is this upload; else raises."""
    url = f"s3://{bucket}/{key}"
    failed = str(error) if isinstance(error, CottonCandyError) else f"{what} failed: {describe(error)}"
    lost = f"{failed}, after an earlier attempt whose answer was lost"
    etag = None if opaque else multipart_etag([part["ETag"] for part in parts])
    crc32 = composite_crc32([part.get("ChecksumCRC32") for part in parts])
    opaque_why = "its parts' ETags are not MD5 digests" + (f" ({opaque})" if opaque else "")
    if etag is None and crc32 is None:
        raise _may_be_stored(lost, url, f"{opaque_why} and they carry no checksum") from error
    evidence, expected = ("ETag", etag) if etag else ("composite CRC32 checksum", crc32)
    try:
        head = retrier.call(lambda: client.head_object(Bucket=bucket, Key=key,
                                                       **({} if etag else {"ChecksumMode": "ENABLED"})),
                            what=f"Checking {url}")
    except TransferCancelled:
        raise
    except Exception as exc:
        if error_code(exc) in MISSING_OBJECT_CODES:
            _not_this_upload(error, f"{lost}: {url} does not exist, so the upload was not completed")
        raise TransferError(f"{lost}: {url} may be stored all the same, but checking it failed ({describe(exc)}); "
                            f"its {evidence} would be {expected}: compare head_object's, or upload it again") from error
    found = head.get("ETag", "").strip('"') if etag else _qualified(head.get("ChecksumCRC32"), len(parts))
    if etag is None and (found is None or head.get("ChecksumType", "COMPOSITE") != "COMPOSITE"):
        raise _may_be_stored(lost, url, f"{opaque_why}, and the store gives no composite CRC32 of the object "
                                        f"({head.get('ChecksumType') or 'no checksum'})") from error
    if found != expected:
        _not_this_upload(error, f"{lost}: the object at {url} is not this upload (its {evidence} is {found}, this "
                                f"upload's would be {expected}): the upload was aborted or the object replaced "
                                "meanwhile")
    return {"ETag": head.get("ETag"), "VersionId": head.get("VersionId"), "Bucket": bucket, "Key": key}


def _qualified(checksum: str | None, count: int) -> str | None:
    """A composite checksum with its ``-<number of parts>`` suffix (some servers leave it out of a HEAD)."""
    return checksum if checksum is None or "-" in checksum else f"{checksum}-{count}"


def _may_be_stored(lost: str, url: str, why: str) -> TransferError:
    """The error for a completion that may have gone through when nothing can tell."""
    return TransferError(
        f"{lost}: {url} may be stored all the same, but {why}, so cottoncandy cannot tell whether the object "
        "there is this upload. Check it: read it back (cottoncandy checks what it reads against the object's "
        "cc-checksum), or compare head_object's LastModified with the time of this upload; or upload it again")


def _not_this_upload(error: Exception, explanation: str) -> NoReturn:
    """Raise the completion's real ``error``; ``NoSuchUpload``, which says nothing useful to the user
    after a lost answer, as a :class:`TransferError` with ``explanation``."""
    if error_code(error) == "NoSuchUpload":
        raise TransferError(f"{explanation}; upload it again") from error
    error.add_note(explanation)
    raise error
