"""Moving bytes between memory and S3: zero-copy uploads, parallel parts and ranges, retries.

Uploads send the payload's own memory: request bodies are :class:`cc_core.payload.BufferReader` objects whose
``read`` returns memoryview slices of the array, so botocore hashes and urllib3 sends the array's
pages in place. Large payloads go up as multipart uploads, one thread per part; any failure (or
an interrupt) aborts the upload, so no partial object ever appears and a previous version stays.

Downloads land where the caller wants them: each ranged GET's body is read straight from the
socket into its slice of the destination buffer, several ranges in parallel, pinned to the
object's ETag so that a concurrent overwrite is detected instead of mixing two versions.
"""

from __future__ import annotations

import functools
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, BinaryIO, TypeVar

import numpy as np
from botocore import exceptions as boto_errors

from cc_core.backend import FILE_WINDOW, ObjectInfo, OpenedObject, pwrite_all
from cc_core.byteranges import ByteRequest, OffsetByteRequest, RangeByteRequest, byte_bounds
from cc_core.errors import ObjectChangedError, TransferError
from cc_core.integrity import ChecksumReader
from cc_core.parallel import bounded_map
from cc_core.payload import DEFAULT_CHUNK_SIZE, BufferReader, Payload, SeekableReader
from cc_core.progress import NO_PROGRESS, Progress, announce

from .checksums import part_algorithm, part_checksum, put_checksum, refuses_xxhash3
from .completion import complete_multipart, opaque_etags
from .metadata import decode_metadata, encode_metadata
from .retry import Retrier, ShortReadError, TransferCancelled, error_code, is_transient, translated
from .settings import NO_RANGES, TransferSettings

T = TypeVar("T")
#: Window for reads through urllib3's copying ``readinto`` (the fallback path).
_FALLBACK_WINDOW = 1 << 20


class ObjectReplacedError(ObjectChangedError, TransferError):
    """The object was overwritten during a read pinned to its ETag; the interface reads it again."""


class RangeMismatchError(ShortReadError):
    """A ranged GET was answered with bytes that do not cover the range asked for (retried)."""


def _cancelled_check(cancel: threading.Event) -> Callable[[], None]:
    """A :class:`BufferReader` check that stops a request still sending once ``cancel`` is set."""

    def check() -> None:
        if cancel.is_set():
            raise TransferCancelled("the transfer was cancelled")

    return check


class StreamWindow(SeekableReader):
    """``size`` bytes of a seekable stream from its current position, as a seekable file object.

    botocore seeks request bodies back to 0 to hash and to resend them; this keeps those seeks
    inside the payload when the caller's stream did not start at its beginning.
    """

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self._stream = stream
        self._origin = stream.tell()
        self._size = size
        self._position = 0

    def readinto(self, target: Any) -> int:  # type: ignore[override]
        target = memoryview(target).cast("B")[: self._size - self._position]
        if not len(target):
            return 0
        self._stream.seek(self._origin + self._position)
        count = _fill(self._stream, target)
        self._position += count
        return count


class S3Object:
    """One object of one bucket, and the transfers that read and write it.

    ``client`` sends every request but those a server may work on for minutes before it answers
    (completions, server-side copies): those go through ``patient_client()``, the backend's client with
    the read timeout ``[s3] complete_timeout`` (:attr:`S3Backend.patient_client`, made on first use).
    """

    def __init__(self, client: Any, bucket: str, key: str, settings: TransferSettings,
                 patient_client: Callable[[], Any]) -> None:
        self.client = client
        self.bucket = bucket
        self.key = key
        self.settings = settings
        self.patient_client = patient_client

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def _translated(self, action: str) -> Any:
        return translated(bucket=self.bucket, name=self.key, action=action)

    # -- uploads ---------------------------------------------------------------------------------
    def upload(self, payload: Payload, extra: Mapping[str, Any], progress: Progress = NO_PROGRESS,
               metadata: Mapping[str, str] | None = None) -> tuple[int, str | None]:
        """Store ``payload`` with ``metadata`` and the request arguments ``extra`` (ACL, ...).

        ``metadata`` is read when the request that carries it is sent. A streamed payload's
        checksum arrives in it once the stream has been read: a single PUT of a seekable file
        digests the file first (one read through the page cache: a few ms per 100 MiB); a
        multipart upload, whose metadata goes with its first request, digests the parts as they
        are read and records the checksum afterwards with a server-side self-copy.

        Returns the object's size and the ETag the store answered with (the self-copy's, if one
        was made).
        """
        metadata = metadata if metadata is not None else {}
        if payload.size is not None:
            progress.set_size(payload.size)
        with self._translated("upload"):
            if payload.buffers is None:
                size, sent, response = self._upload_stream(payload, extra, metadata, progress)
            elif (payload.size or 0) < self.settings.multipart_threshold:
                size, sent = payload.size or 0, self._with_metadata(extra, metadata, checksum=True)
                announce(progress, "sending (one request)")
                response = self._put(lambda: BufferReader(payload.buffers or []), size, sent)
                progress.relative_update(size)
            else:
                sent = self._with_metadata(extra, metadata)
                size, response = self._multipart(self._buffer_parts(payload), sent, progress)
            etag = response.get("ETag")
            if set(metadata) - set(sent["Metadata"]):  # known only once the bytes were read
                announce(progress, "recording the checksum (server-side copy)")
                etag = self._replace_metadata(etag, self._with_metadata(extra, metadata))
            return size, etag

    def _with_metadata(self, extra: Mapping[str, Any], metadata: Mapping[str, str], *,
                       checksum: bool = False) -> dict[str, Any]:
        """``extra`` with the metadata; ``checksum``: a single PUT of exactly the bytes ``metadata``'s
        ``cc-checksum`` covers, which then serves as S3's checksum too (see :mod:`.checksums`)."""
        sent = {**extra, "Metadata": encode_metadata(metadata, where=self.url)}
        if checksum:
            sent.update(put_checksum(self.client, metadata, self.settings.upload_checksum))
        return sent

    def _put(self, body: Callable[[], BinaryIO], size: int, extra: Mapping[str, Any]) -> dict[str, Any]:
        # a big body: the server may digest it for longer than the read timeout before it answers
        client = self.patient_client() if size >= self.settings.patient_put_size else self.client

        def put(arguments: Mapping[str, Any]) -> dict[str, Any]:
            return Retrier(self.settings).call(
                lambda: client.put_object(Bucket=self.bucket, Key=self.key, Body=body(), ContentLength=size,
                                          **arguments),
                what=f"Upload of {self.url}",
            )

        try:
            return put(extra)
        except boto_errors.ClientError as exc:
            if not refuses_xxhash3(self.client, extra, error_code(exc)):
                raise
            return put({k: v for k, v in extra.items() if k != "ChecksumXXHASH3"})  # botocore adds its CRC32

    def _upload_stream(self, payload: Payload, extra: Mapping[str, Any], metadata: Mapping[str, str],
                       progress: Progress) -> tuple[int, dict[str, Any], dict[str, Any]]:
        """Upload a streamed payload; returns its size, the arguments sent (with the metadata) and
        the answer."""
        stream = payload.stream
        assert stream is not None
        size = payload.size
        if size is not None and size < self.settings.multipart_threshold and _seekable(stream):
            if isinstance(stream, ChecksumReader):
                announce(progress, "computing the checksum")
                stream.digest_ahead()
            window = StreamWindow(stream, size)
            sent = self._with_metadata(extra, metadata, checksum=True)
            announce(progress, "sending (one request)")
            response = self._put(lambda: (window.seek(0), window)[1], size, sent)
            progress.relative_update(size)
            return size, sent, response
        part_size = self.settings.upload_part_size(size or 0)
        buffers = _BufferPool(part_size, self.settings.threads + 1)
        first = buffers.take()
        count = _fill(stream, first)
        if count < part_size:  # the whole stream fits one part: one PUT, no multipart (read: digested)
            sent = self._with_metadata(extra, metadata, checksum=True)
            try:
                response = self._put(lambda: BufferReader([first[:count]]), count, sent)
            finally:
                buffers.give(first)
            progress.relative_update(count)
            return count, sent, response
        sent = self._with_metadata(extra, metadata)
        size, response = self._multipart(self._stream_parts(stream, buffers, first), sent, progress)
        return size, sent, response

    def _replace_metadata(self, etag: str | None, extra: Mapping[str, Any]) -> str | None:
        """Give the object just written (``etag``) the metadata ``extra["Metadata"]`` by copying
        it onto itself; a version written meanwhile by someone else is left as it is. Returns the
        ETag of the object as it now is (``etag`` when another writer came first)."""
        retrier = Retrier(self.settings)
        head = retrier.call(lambda: self.client.head_object(Bucket=self.bucket, Key=self.key),
                            what=f"Reading {self.url}")
        if head.get("ETag") != etag:
            return etag
        if head.get("ContentType"):
            extra = {"ContentType": head["ContentType"], **extra}
        checksum = part_algorithm(self.client)
        if checksum:  # a whole-object checksum of the copy, not the parts' composite one
            extra = {"ChecksumAlgorithm": checksum, **extra}
        return self._copy({"Bucket": self.bucket, "Key": self.key}, head, extra, directive="REPLACE")

    def _buffer_parts(self, payload: Payload) -> Iterator[tuple[list[memoryview], Callable[[], None]]]:
        assert payload.size is not None
        part_size = self.settings.upload_part_size(payload.size)
        for start in range(0, payload.size, part_size):
            part = payload.slice(start, min(start + part_size, payload.size))
            yield part.buffers or [], _nothing

    def _stream_parts(self, stream: BinaryIO, buffers: _BufferPool,
                      first: memoryview) -> Iterator[tuple[list[memoryview], Callable[[], None]]]:
        yield [first], lambda: buffers.give(first)
        while True:
            buffer = buffers.take()
            count = _fill(stream, buffer)
            if not count:
                buffers.give(buffer)
                return
            yield [buffer[:count]], lambda buffer=buffer: buffers.give(buffer)
            if count < len(buffer):
                return

    def _multipart(self, parts: Iterable[tuple[list[memoryview], Callable[[], None]]], extra: Mapping[str, Any],
                   progress: Progress) -> tuple[int, dict[str, Any]]:
        """A multipart upload of ``parts``; returns the object's size and the store's answer."""
        retrier = Retrier(self.settings)
        checksum = part_algorithm(self.client)
        create_args = dict(extra)
        if checksum:
            create_args["ChecksumAlgorithm"] = checksum
        created = retrier.call(
            lambda: self.client.create_multipart_upload(Bucket=self.bucket, Key=self.key, **create_args),
            what=f"Starting the multipart upload of {self.url}",
        )
        upload_id = created["UploadId"]
        sizes: list[int] = []
        try:
            tasks = (self._part_task(retrier, upload_id, number, views, release, checksum, progress)
                     for number, (views, release) in enumerate(parts, start=1)
                     if not sizes.append(sum(len(v) for v in views)))
            completed = run_parallel(tasks, self.settings.threads, retrier.cancel)
            announce(progress, "completing the upload")
            response = self._complete(retrier, upload_id, completed, opaque_etags(created),
                                      what=f"Completing the multipart upload of {self.url}")
        except BaseException as exc:
            retrier.cancel.set()
            self._abort(upload_id, exc)
            raise
        return sum(sizes), response

    def _complete(self, retrier: Retrier, upload_id: str, parts: list[dict[str, Any]], opaque: str | None, *,
                  what: str) -> dict[str, Any]:
        """CompleteMultipartUpload through the patient client; a completion whose answer was lost is
        checked (:mod:`.completion`)."""
        return complete_multipart(self.patient_client(), retrier, bucket=self.bucket, key=self.key,
                                  upload_id=upload_id, parts=parts, opaque=opaque, what=what,
                                  head_client=self.client)

    def _part_task(self, retrier: Retrier, upload_id: str, number: int, views: list[memoryview],
                   release: Callable[[], None], checksum: str | None,
                   progress: Progress) -> Callable[[], dict[str, Any]]:
        size = sum(len(v) for v in views)

        def send() -> dict[str, Any]:
            try:
                checksum_args = part_checksum(views, checksum)  # in this thread: parts hash in parallel
                response = retrier.call(
                    lambda: self.client.upload_part(
                        Bucket=self.bucket, Key=self.key, UploadId=upload_id, PartNumber=number,
                        Body=BufferReader(views, _cancelled_check(retrier.cancel)), ContentLength=size,
                        **checksum_args),
                    what=f"Upload of part {number} of {self.url}",
                )
            finally:
                release()
            progress.relative_update(size)
            part = {"PartNumber": number, "ETag": response["ETag"]}
            part.update({k: v for k, v in checksum_args.items() if k != "ChecksumAlgorithm"})
            return part

        return send

    def _abort(self, upload_id: str, cause: BaseException) -> None:
        try:
            Retrier(self.settings).call(
                lambda: self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=upload_id),
                what=f"Aborting the multipart upload of {self.url}",
            )
        except Exception as exc:
            if error_code(exc) != "NoSuchUpload":
                cause.add_note(
                    f"The failed multipart upload {upload_id} of {self.url} could not be aborted ({exc}); "
                    "its parts are billed until a lifecycle rule or abort_multipart_upload removes them"
                )

    # -- downloads -------------------------------------------------------------------------------
    def read_into(self, target: memoryview, offset: int, progress: Progress = NO_PROGRESS,
                  etag: str | None = None, first: dict[str, Any] | None = None) -> int:
        """Read bytes ``[offset, offset + len(target))`` into ``target``; returns the count.

        With ``etag`` (from ``head``), only that version is read: another one raises
        :class:`ObjectReplacedError`. ``first``: an open GET whose body holds the next
        ``ContentLength`` bytes from ``offset``, read as the first range (and closed).
        """
        with self._translated("download"):
            return self._read_into(target, offset, progress, etag, first)

    def _read_into(self, target: memoryview, offset: int, progress: Progress, etag: str | None = None,
                   first: dict[str, Any] | None = None) -> int:
        def fill(retrier: Retrier, response: Any, start: int, stop: int, etag: str | None) -> int:
            count = self._fetch(retrier, response, start, stop, target[start - offset : stop - offset], etag)
            progress.relative_update(count)
            return count

        return self._read_ranges(offset, len(target), fill, etag, first)

    def read_to_file(self, descriptor: int, size: int, progress: Progress = NO_PROGRESS,
                     etag: str | None = None, first: dict[str, Any] | None = None) -> int:
        """Write bytes ``[0, size)`` into the file ``descriptor`` at their offsets: the ranges
        :meth:`read_into` would read, each through a reused buffer of ``FILE_WINDOW`` bytes
        and ``os.pwrite``; returns the count. ``etag`` and ``first`` as for :meth:`read_into`."""
        buffers = _BufferPool(min(size, FILE_WINDOW) or 1, self.settings.threads)

        def fill(retrier: Retrier, response: Any, start: int, stop: int, etag: str | None) -> int:
            return self._fetch_to_file(retrier, response, start, stop, descriptor, buffers, progress, etag)

        with self._translated("download"):
            return self._read_ranges(0, size, fill, etag, first)

    def _read_ranges(self, offset: int, wanted: int, fill: Callable[..., int], etag: str | None,
                     first: dict[str, Any] | None = None) -> int:
        """Read ``[offset, offset + wanted)``: one GET, or parallel ranges above the download
        threshold; ``fill(retrier, response or None, start, stop, etag)`` reads one range.
        ``first`` (an open GET from ``offset``) is the first range, whatever its length."""
        retrier = Retrier(self.settings)
        if first is not None:
            response: dict[str, Any] | None = first
            first_size = int(first["ContentLength"])
        elif wanted == 0:
            retrier.call(lambda: self.client.head_object(Bucket=self.bucket, Key=self.key), what=f"Checking {self.url}")
            return 0
        else:
            first_size = wanted if wanted <= self.settings.download_threshold else self.settings.download_part_size
            response = retrier.call(lambda: self._get(offset, offset + first_size, etag),
                                    what=f"Download of {self.url}")
        if response is None:  # the object ends before offset
            return 0
        etag = etag or response.get("ETag")
        end = min(offset + wanted, _total_size(response, offset))
        if response.get("RangeIgnored"):  # the whole object is coming in this answer: no more ranges
            first_size = end - offset
        step = self.settings.download_part_size
        ranges = [(offset, min(offset + first_size, end))]
        ranges += [(start, min(start + step, end)) for start in range(offset + first_size, end, step)]
        tasks = (lambda start=start, stop=stop, index=index:
                     fill(retrier, response if index == 0 else None, start, stop, etag)
                 for index, (start, stop) in enumerate(ranges))
        try:
            return sum(run_parallel(tasks, self.settings.threads, retrier.cancel))
        finally:
            response["Body"].close()

    def open_read(self, backend: Any, progress: Progress = NO_PROGRESS,
                  byte_range: RangeByteRequest | OffsetByteRequest | None = None) -> OpenedS3Object | None:
        """One GET of the object's start (all of it up to the download threshold), or of
        ``byte_range``: the object's size, ETag and metadata come from the answer's headers, its
        bytes from the body that follows. None for an empty range or one that starts past the
        object's end: S3 answers those without the object's headers.

        S3 refuses any range of an empty object, so that one costs a second, unranged GET.
        """
        threshold = self.settings.download_threshold
        if byte_range is None:
            start, stop = 0, threshold if threshold < NO_RANGES else None
        else:
            start, stop = byte_bounds(byte_range)
            if stop is not None and stop <= start:
                return None
        retrier = Retrier(self.settings)
        with self._translated("download"):
            response = retrier.call(lambda: self._get(start, stop), what=f"Download of {self.url}")
            if response is None and start == 0:
                response = retrier.call(lambda: self.client.get_object(Bucket=self.bucket, Key=self.key),
                                        what=f"Download of {self.url}")
        if response is None:
            return None
        info = ObjectInfo(self.key, _total_size(response, start), decode_metadata(response.get("Metadata", {})),
                          response.get("LastModified"), response.get("ETag"))
        return OpenedS3Object(backend, info, self, response, progress, byte_range)

    def _get(self, start: int, stop: int | None, etag: str | None = None) -> dict[str, Any] | None:
        """An open ranged GET of ``[start, stop)`` (``stop=None``: to the end); None past the end."""
        byte_range = f"bytes={start}-{'' if stop is None else stop - 1}"
        condition = {"IfMatch": etag} if etag else {}
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key, Range=byte_range, **condition)
        except boto_errors.ClientError as exc:
            if error_code(exc) == "InvalidRange":
                return None
            if error_code(exc) in ("PreconditionFailed", "412"):
                raise ObjectReplacedError(
                    f"{self.url} was overwritten while it was being read; read it again") from None
            raise
        return self._served(response, start, stop)

    def _served(self, response: dict[str, Any], start: int, stop: int | None) -> dict[str, Any] | None:
        """``response`` as the answer to the range ``[start, stop)`` it was sent for.

        HTTP lets a server or proxy ignore ``Range`` (200 with the whole body), and a broken one
        may answer another range. An answer that starts before ``start`` is read from ``start``
        (the bytes before are skipped) and its ``ContentLength``/``ContentRange`` are those of the
        range asked for, with ``RangeIgnored`` set for a 200 (the caller then reads the rest from
        this answer instead of asking for more ranges); one that starts after it, or ends before
        the range (or the object) does, is a :class:`RangeMismatchError`, which is retried.
        """
        body = response["Body"]
        length = int(response["ContentLength"])
        header = response.get("ContentRange") or ""
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", header.strip())
        if match:
            first, last = int(match.group(1)), int(match.group(2))
            total = int(match.group(3)) if match.group(3) != "*" else None
        elif response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 200 and not header:
            first, last, total = 0, length - 1, length
            response["RangeIgnored"] = True
        else:
            first, last, total = -1, -1, None
        wanted_stop = stop if total is None else total if stop is None else min(stop, total)
        if total is not None and start >= total:
            body.close()
            return None  # what S3 answers with InvalidRange
        if first < 0 or first > start or wanted_stop is None or last + 1 < wanted_stop:
            body.close()
            asked = f"bytes={start}-{'' if stop is None else stop - 1}"
            raise RangeMismatchError(
                f"{self.url}: asked for {asked}, the server answered Content-Range {header or '(none)'} "
                f"with status {response.get('ResponseMetadata', {}).get('HTTPStatusCode')}")
        if start > first:
            _skip(body, start - first, self.url)
        response["ContentLength"] = wanted_stop - start
        response["ContentRange"] = f"bytes {start}-{wanted_stop - 1}/{total if total is not None else '*'}"
        response["Surplus"] = last + 1 > wanted_stop
        return response

    def _fetch(self, retrier: Retrier, response: Any, start: int, stop: int, target: memoryview,
               etag: str | None) -> int:
        """Read ``[start, stop)`` into ``target`` from ``response``, or from new GETs on retry."""
        opened = [response] if response is not None else []

        def attempt() -> int:
            current = opened.pop() if opened else self._get(start, stop, etag)
            if current is None:
                raise ShortReadError(f"{self.url} ended before byte {start}")
            try:
                count = read_body(current["Body"], target)
                if count < len(target):
                    raise ShortReadError(f"{self.url}: bytes {start}-{stop} ended after {count} bytes")
            except BaseException:
                current["Body"].close()
                raise
            if current.get("Surplus"):  # the server sent more than this range: drop the rest
                current["Body"].close()
            return count

        return retrier.call(attempt, what=f"Download of bytes {start}-{stop} of {self.url}")

    def _fetch_to_file(self, retrier: Retrier, response: Any, start: int, stop: int, descriptor: int,
                       buffers: _BufferPool, progress: Progress, etag: str | None) -> int:
        """Write ``[start, stop)`` into the file at its offsets from ``response`` (or new GETs on
        retry), a buffer at a time; progress counts each byte once, retries included."""
        opened = [response] if response is not None else []
        reported = start

        def attempt() -> int:
            nonlocal reported
            current = opened.pop() if opened else self._get(start, stop, etag)
            if current is None:
                raise ShortReadError(f"{self.url} ended before byte {start}")
            buffer = buffers.take()
            try:
                position = start
                while position < stop:
                    window = buffer[: min(len(buffer), stop - position)]
                    count = read_body(current["Body"], window)
                    pwrite_all(descriptor, window[:count], position)
                    position += count
                    if position > reported:
                        progress.relative_update(position - reported)
                        reported = position
                    if count < len(window):
                        raise ShortReadError(f"{self.url}: bytes {start}-{stop} ended after {position - start} bytes")
            except BaseException:
                current["Body"].close()
                raise
            finally:
                buffers.give(buffer)
            if current.get("Surplus"):  # the server sent more than this range: drop the rest
                current["Body"].close()
            return stop - start

        return retrier.call(attempt, what=f"Download of bytes {start}-{stop} of {self.url}")

    def iter_chunks(self, byte_range: tuple[int, int | None] | None, chunk_size: int, progress: Progress,
                    etag: str | None = None) -> Iterator[memoryview]:
        """The bytes in order, ``chunk_size`` at a time; a dropped connection resumes where it was
        (of the same version: the first response's ETag, or ``etag`` when given)."""
        start, stop = byte_range if byte_range else (0, None)
        if stop is not None and stop <= start:
            return
        retrier = Retrier(self.settings)
        position, end = start, stop
        response: Any = None
        failures = 0
        try:
            while end is None or position < end:
                if response is None:
                    with self._translated("download"):
                        response = retrier.call(functools.partial(self._get, position, stop, etag),
                                                what=f"Download of {self.url}")
                    if response is None:
                        return
                    etag = etag or response.get("ETag")
                    end = position + int(response["ContentLength"])
                    if position == end:
                        return
                chunk = memoryview(np.empty(min(chunk_size, end - position), dtype=np.uint8))  # read_body fills it
                try:
                    count = read_body(response["Body"], chunk)
                    if count < len(chunk):
                        raise ShortReadError(f"{self.url} ended after byte {position + count} of {end}")
                except Exception as exc:
                    response["Body"].close()
                    response = None
                    failures += 1
                    if not is_transient(exc) or failures >= self.settings.max_attempts:
                        with self._translated("download"):
                            raise
                    continue  # resume at `position` with a ranged GET of the same version
                position += count
                progress.relative_update(count)
                yield chunk
        finally:
            if response is not None:
                response["Body"].close()

    # -- copies ----------------------------------------------------------------------------------
    def copy_from(self, source_bucket: str, source_key: str, extra: Mapping[str, Any], *,
                  known_size: int | None = None) -> None:
        """Server-side copy of ``source_bucket/source_key`` here, metadata included.

        With ``known_size`` (from a listing) up to ``max_put_size`` this is one CopyObject
        request: the server copies whichever complete version it holds. Otherwise a HEAD gives
        the size and ETag first, and the copy (multipart above ``max_put_size``) is pinned to it.
        """
        source = S3Object(self.client, source_bucket, source_key, self.settings, self.patient_client)
        retrier = Retrier(self.settings)
        copy_source = {"Bucket": source_bucket, "Key": source_key}
        if known_size is not None and known_size <= self.settings.max_put_size:
            with self._translated("copy"):
                retrier.call(lambda: self.patient_client().copy_object(
                    Bucket=self.bucket, Key=self.key, CopySource=copy_source, MetadataDirective="COPY", **extra),
                    what=f"Copy of {source.url} to {self.url}")
            return
        with source._translated("copy"):
            head = retrier.call(lambda: self.client.head_object(Bucket=source_bucket, Key=source_key),
                                what=f"Reading {source.url}")
        with self._translated("copy"):
            self._copy(copy_source, head, extra, directive="COPY")

    def copy_replacing_metadata(self, source_bucket: str, source_key: str, size: int, etag: str,
                                extra: Mapping[str, Any]) -> None:
        """Server-side copy of the version ``etag`` of ``source_bucket/source_key`` (``size`` bytes)
        here, with the metadata in ``extra["Metadata"]`` instead of the source's: one CopyObject up to
        ``max_put_size``, a multipart copy above; no byte passes through the client."""
        with self._translated("copy"):
            self._copy({"Bucket": source_bucket, "Key": source_key}, {"ContentLength": size, "ETag": etag},
                       extra, directive="REPLACE")

    def _copy(self, copy_source: dict[str, str], head: Mapping[str, Any], extra: Mapping[str, Any], *,
              directive: str) -> str | None:
        """Server-side copy of the version ``head`` describes; ``directive`` REPLACE takes the
        metadata from ``extra``, COPY keeps the source's. Returns the new object's ETag."""
        if head["ContentLength"] <= self.settings.max_put_size:
            response = Retrier(self.settings).call(lambda: self.patient_client().copy_object(
                Bucket=self.bucket, Key=self.key, CopySource=copy_source, MetadataDirective=directive,
                CopySourceIfMatch=head["ETag"], **extra),
                what=f"Copy of s3://{copy_source['Bucket']}/{copy_source['Key']} to {self.url}")
            return response.get("CopyObjectResult", {}).get("ETag")
        return self._multipart_copy(copy_source, head, extra)

    def _multipart_copy(self, copy_source: dict[str, str], head: Mapping[str, Any],
                        extra: Mapping[str, Any]) -> str | None:
        size = int(head["ContentLength"])
        part_size = min(self.settings.upload_part_size(size), self.settings.max_put_size)
        retrier = Retrier(self.settings)
        create_args = {"Metadata": head.get("Metadata", {}), **extra}
        if head.get("ContentType"):
            create_args["ContentType"] = head["ContentType"]
        created = retrier.call(
            lambda: self.client.create_multipart_upload(Bucket=self.bucket, Key=self.key, **create_args),
            what=f"Starting the multipart copy to {self.url}")
        upload_id = created["UploadId"]

        def task(number: int, start: int) -> Callable[[], dict[str, Any]]:
            def copy_part() -> dict[str, Any]:
                response = retrier.call(lambda: self.patient_client().upload_part_copy(
                    Bucket=self.bucket, Key=self.key, UploadId=upload_id, PartNumber=number,
                    CopySource=copy_source, CopySourceIfMatch=head["ETag"],
                    CopySourceRange=f"bytes={start}-{min(start + part_size, size) - 1}"),
                    what=f"Copy of part {number} to {self.url}")
                return {"PartNumber": number, "ETag": response["CopyPartResult"]["ETag"]}
            return copy_part

        try:
            tasks = (task(number, start) for number, start in enumerate(range(0, size, part_size), start=1))
            parts = run_parallel(tasks, self.settings.threads, retrier.cancel)
            response = self._complete(retrier, upload_id, parts, opaque_etags(created),
                                      what=f"Completing the multipart copy to {self.url}")
        except BaseException as exc:
            retrier.cancel.set()
            self._abort(upload_id, exc)
            raise
        return response.get("ETag")


def run_parallel(tasks: Iterable[Callable[[], T]], threads: int, cancel: threading.Event) -> list[T]:
    """Run ``tasks`` on up to ``threads`` threads (:func:`cc_core.parallel.bounded_map`), results in
    order; at the first failure ``cancel`` is set, so running parts stop retrying, and it is raised."""
    return list(bounded_map(_run, tasks, in_flight=threads, cancel=cancel))


class OpenedS3Object(OpenedObject):
    """An object read from one open GET of its first bytes (all of it, up to the download
    threshold). A larger object is read with that body as the first of the parallel ranges
    :meth:`S3Object.read_into` reads, the others pinned to the GET's ETag; a body that breaks
    off is read again from where it stopped by such ranges, which retry."""

    def __init__(self, backend: Any, info: ObjectInfo, target: S3Object, response: dict[str, Any],
                 progress: Progress, byte_range: ByteRequest | None = None) -> None:
        super().__init__(backend, info, progress, byte_range)
        self._target = target
        self._response: dict[str, Any] | None = response
        self._held = self.position + int(response["ContentLength"])  # the body holds bytes [position, _held)

    def _take_response(self) -> dict[str, Any]:
        """The open GET, handed over with its body's next bytes as ``ContentLength``."""
        response, self._response = self._response, None
        assert response is not None
        response["ContentLength"] = self._held - self.position
        return response

    def _from_body(self, window: memoryview) -> int:
        """Fill ``window`` from the open body; 0 when it broke off (then closed)."""
        assert self._response is not None
        window = window[: self._held - self.position]
        try:
            count = read_body(self._response["Body"], window)
            if count < len(window):
                raise ShortReadError(f"{self._target.url} ended after byte {self.position + count} of {self._held}")
        except Exception as exc:
            self.close()
            if not is_transient(exc):
                with self._target._translated("download"):
                    raise
            return 0  # read again from self.position, by ranges of this version
        self.position += count
        self.progress.relative_update(count)
        if self.position == self._held:
            self.close()
        return count

    def readinto(self, buffer: memoryview, on_read: Callable[[memoryview], None] | None = None) -> int:
        wanted = min(len(buffer), self.end - self.position)
        if self._response is None or wanted <= 0:
            return super().readinto(buffer, on_read)
        if self.position + wanted <= self._held:
            count = self._from_body(buffer[:wanted])
        else:  # past the body: it is read in parallel with ranges of the rest
            count = self._target.read_into(buffer[:wanted], self.position, self.progress, etag=self.info.version,
                                           first=self._take_response())
            self.position += count
        if count and on_read is not None:
            on_read(buffer[:count])
        return count + (super().readinto(buffer[count:], on_read) if count < wanted else 0)

    def chunks(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[memoryview | bytes]:
        try:
            while self._response is not None:
                chunk = memoryview(np.empty(min(chunk_size, self._held - self.position), dtype=np.uint8))
                count = self._from_body(chunk)
                if count:
                    yield chunk[:count]
        finally:
            self.close()
        yield from super().chunks(chunk_size)

    def write_to_file(self, descriptor: int) -> int:
        if self._response is None or self.position:
            return super().write_to_file(descriptor)
        return self._target.read_to_file(descriptor, self.info.size, self.progress, etag=self.info.version,
                                         first=self._take_response())

    def close(self) -> None:
        if self._response is not None:
            self._response["Body"].close()
            self._response = None


def _run(task: Callable[[], T]) -> T:
    return task()


def read_body(body: Any, target: memoryview) -> int:
    """Fill ``target`` from a GET response body; returns the bytes read (fewer only at its end).

    The bytes go straight from the socket into ``target`` through the underlying
    ``http.client`` response; when a future botocore/urllib3 hides it, urllib3's ``readinto``
    is used in 1 MiB windows (it copies through a temporary of that size).
    """
    raw = getattr(body, "_raw_stream", None)
    direct = getattr(raw, "_fp", None)
    if direct is not None and hasattr(direct, "readinto") and not getattr(raw, "_decoder", None):
        count = _fill_with(direct.readinto, target, len(target))
        if count == len(target) and direct.isclosed():
            raw.release_conn()  # fully read: the connection goes back to the pool
        return count
    return _fill_with(body.readinto, target, _FALLBACK_WINDOW)


def _fill_with(readinto: Callable[[memoryview], int | None], target: memoryview, window: int) -> int:
    filled = 0
    while filled < len(target):
        count = readinto(target[filled : filled + window])
        if not count:
            break
        filled += count
    return filled


def _fill(stream: BinaryIO, target: memoryview) -> int:
    """Read from ``stream`` until ``target`` is full or the stream ends."""
    if hasattr(stream, "readinto"):
        return _fill_with(stream.readinto, target, len(target))
    filled = 0
    while filled < len(target):
        block = stream.read(len(target) - filled)
        if not block:
            break
        target[filled : filled + len(block)] = block
        filled += len(block)
    return filled


def _seekable(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable()) and stream.tell() >= 0
    except (AttributeError, OSError, ValueError):
        return False


def _total_size(response: Mapping[str, Any], offset: int) -> int:
    """The object's size from a checked answer (see :meth:`S3Object._served`)."""
    _, _, total = (response.get("ContentRange") or "").rpartition("/")
    return int(total) if total.isdigit() else offset + int(response["ContentLength"])


def _skip(body: Any, count: int, url: str) -> None:
    """Read and drop ``count`` bytes of a response body."""
    scratch = memoryview(bytearray(min(count, _FALLBACK_WINDOW)))
    while count:
        got = read_body(body, scratch[: min(count, len(scratch))])
        if not got:
            body.close()
            raise ShortReadError(f"{url}: the answer ended {count} bytes before the range asked for")
        count -= got


def _nothing() -> None:
    pass


class _BufferPool:
    """At most ``count`` part buffers, allocated on first use and reused."""

    def __init__(self, size: int, count: int) -> None:
        self._size = size
        self._free: queue.SimpleQueue[memoryview] = queue.SimpleQueue()
        self._allocated = 0
        self._count = count
        self._lock = threading.Lock()

    def take(self) -> memoryview:
        with self._lock:
            if self._free.empty() and self._allocated < self._count:
                self._allocated += 1
                return memoryview(bytearray(self._size))
        return self._free.get()

    def give(self, buffer: memoryview) -> None:
        self._free.put(buffer)


