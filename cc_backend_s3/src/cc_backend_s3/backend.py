"""The S3 backend: cottoncandy's objects in an S3 (or S3-compatible) bucket, through boto3.

Examples
--------
>>> import cottoncandy as cc
>>> cci = cc.get_interface('my-bucket', ACCESS_KEY='...', SECRET_KEY='...',
...                        endpoint_url='https://s3.example.org')          # doctest: +SKIP
>>> cci = cc.get_interface('s3://my-bucket', config=botocore.client.Config(
...                        read_timeout=120), threads=8)                   # doctest: +SKIP

Constructor options beyond the interface's (all optional): ``threads``, ``acl``, the transfer
sizes of :class:`cc_backend_s3.settings.TransferSettings` (``multipart_threshold``,
``part_size``, ``download_threshold``, ...), ``upload_args`` (extra ``put_object`` arguments
such as ``{"ServerSideEncryption": "AES256"}``), ``config`` (a ``botocore.client.Config``),
``profile_name``; anything else goes to ``boto3.client`` (``region_name``,
``aws_session_token``, ``verify``, ...).
"""

from __future__ import annotations

import builtins
import functools
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields
from typing import Any

from botocore import exceptions as boto_errors

from cc_core.backend import Backend, Capabilities, ObjectInfo, OpenedObject, Prefix
from cc_core.byteranges import ByteRequest, SuffixByteRequest, byte_bounds
from cc_core.errors import BucketNotFoundError, CottonCandyError, InvalidNameError, TransferError
from cc_core.payload import DEFAULT_CHUNK_SIZE, Payload
from cc_core.progress import NO_PROGRESS, Progress

from .client import make_client, resolve_endpoint
from .metadata import METADATA_LIMIT, decode_metadata, encode_metadata
from .retry import CREDENTIAL_CODES, Retrier, error_code, http_status, translated
from .settings import TransferSettings, is_loopback
from .transfer import S3Object, run_parallel

DELETE_BATCH = 1000
_TRANSFER_FIELDS = frozenset(f.name for f in fields(TransferSettings))
#: botocore's debug logs print request headers and the canonical request, session token included
_TOKEN_IN_LOGS = re.compile(r"""(x-amz-security-token['"]?\s*[:=]\s*b?['"]?)[^'"\s,}&]+""", re.IGNORECASE)
_LOGGERS_WITH_HEADERS = ("botocore.auth", "botocore.endpoint", "botocore.httpsession", "botocore.parsers")


class _RedactSessionTokens(logging.Filter):
    """Replaces session tokens in botocore's debug records (runs only when DEBUG is on)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _TOKEN_IN_LOGS.sub(r"\1********", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_REDACTION = _RedactSessionTokens()
for _name in _LOGGERS_WITH_HEADERS:
    logging.getLogger(_name).addFilter(_REDACTION)


class S3Backend(Backend):
    """Objects in one S3 bucket.

    Parameters
    ----------
    bucket : str or None
        The bucket (``s3://`` prefix allowed). None works for bucket operations only.
    settings : cc_core.config.Config, optional
        cottoncandy settings: ``[login]`` keys and endpoint, ``[basic]`` ACL, threads and
        signature version, ``[upload_settings]``/``[download_settings]`` transfer sizes.
    access_key, secret_key, endpoint_url : str, optional
        Default: the settings, then the AWS chain (see :mod:`cc_backend_s3.client`).
    force_bucket_creation : bool
        Create ``bucket`` when it does not exist, instead of raising BucketNotFoundError.
    check_bucket : bool
        Check now that ``bucket`` exists (one HEAD request). An unpickled interface does not: its
        bucket was checked where it was made, and a missing bucket fails the first request.
    config : botocore.client.Config, optional
        Passed to boto3; its settings win over the backend's defaults.
    upload_args : mapping, optional
        Extra arguments for every ``put_object``/``create_multipart_upload``.
    **options
        Transfer settings (``threads``, ``acl``, ``part_size``, ...) and ``boto3.client`` options.
    """

    capabilities = Capabilities(buckets=True, server_side_copy=True, metadata_limit=METADATA_LIMIT,
                                lowercase_metadata_keys=True)

    def __init__(
        self,
        bucket: str | None,
        *,
        settings: Any = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        endpoint_url: str | None = None,
        force_bucket_creation: bool = False,
        check_bucket: bool = True,
        config: Any = None,
        upload_args: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        if bucket and bucket.lower().startswith("s3://"):
            bucket = bucket[5:].split("/", 1)[0]
        super().__init__(bucket or None, settings=settings)
        endpoint_url = resolve_endpoint(endpoint_url, settings)
        transfer = {k: options.pop(k) for k in list(options) if k in _TRANSFER_FIELDS}
        if "default_acl" in options:
            transfer.setdefault("acl", options.pop("default_acl"))
        self.transfer = TransferSettings.from_settings(settings, loopback=is_loopback(endpoint_url), **transfer)
        self.upload_args = dict(upload_args or {})
        self.endpoint_url = endpoint_url
        client_arguments = {"access_key": access_key, "secret_key": secret_key, "endpoint_url": endpoint_url,
                            "settings": settings, "user_config": config, "threads": self.transfer.threads,
                            "client_options": options}
        self.client = make_client(**client_arguments)
        self._make_patient_client = functools.partial(make_client, **client_arguments,
                                                      min_read_timeout=self.transfer.complete_timeout)
        if self.bucket and check_bucket and not self.bucket_exists(self.bucket):
            if not force_bucket_creation:
                raise BucketNotFoundError(
                    self.bucket, "create it with create_bucket() or pass force_bucket_creation=True")
            self.create_bucket(self.bucket)

    # -- cottoncandy 0.4's S3Client attributes (``cci.backend_interface.bucket_name``, ``.url``) --
    @property
    def bucket_name(self) -> str | None:
        return self.bucket

    @property
    def url(self) -> str:
        """The endpoint the client talks to (given, configured, or the AWS one boto3 chose)."""
        return self.client.meta.endpoint_url

    @functools.cached_property
    def patient_client(self) -> Any:
        """The client of requests a server may work on for minutes before it answers (completing a
        multipart upload or copy, server-side copies): :attr:`client` with the read timeout ``[s3]
        complete_timeout`` (at least the client's own). Made on first use."""
        return self._make_patient_client()

    # -- helpers ---------------------------------------------------------------------------------
    def describe(self) -> str:
        return f"s3://{self.bucket}" if self.bucket else "s3 (no bucket)"

    def pickle_options(self) -> dict[str, Any]:
        # Every option the user gave travels with the interface already (without the keys);
        # repeating them here would pass them twice. Credentials are resolved again in the worker,
        # and the bucket is not checked again by each task that unpickles the interface.
        return {"check_bucket": False}

    def _require_bucket(self, bucket: str | None = None) -> str:
        bucket = bucket or self.bucket
        if not bucket:
            raise CottonCandyError("No bucket selected: pass one to get_interface() or call set_bucket()")
        return bucket

    def _object(self, name: str, bucket: str | None = None, transfer: TransferSettings | None = None) -> S3Object:
        return S3Object(self.client, self._require_bucket(bucket), name, transfer or self.transfer,
                        lambda: self.patient_client)

    def _call(self, request: Any, *, what: str, name: str | None = None, bucket: str | None = None) -> Any:
        """Run one request with retries, turning failures into cottoncandy errors."""
        with translated(bucket=bucket or self.bucket, name=name, action=what):
            return Retrier(self.transfer).call(request, what=what)

    def _in_bucket(self, bucket: str) -> S3Backend:
        """This backend's client and settings, working in another bucket."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        other.bucket = bucket
        return other

    def _write_args(self, acl: str | None) -> dict[str, Any]:
        args = dict(self.upload_args)
        acl = acl or self.transfer.acl
        if acl and acl != "private":  # private is every object's default: no header needed
            args["ACL"] = acl
        return args

    # -- objects ---------------------------------------------------------------------------------
    def put(self, name: str, payload: Payload, metadata: Mapping[str, str], *, progress: Progress = NO_PROGRESS,
            **options: Any) -> ObjectInfo:
        """Upload ``payload``; ``acl=`` and ``threads=`` per call, other options are ignored."""
        target = self._object(name, transfer=self.transfer.with_options(threads=options.get("threads")))
        encode_metadata(metadata, where=target.url)  # refused before anything is sent
        size, etag = target.upload(payload, self._write_args(options.get("acl")), progress, metadata)
        return ObjectInfo(name, size, decode_metadata(encode_metadata(metadata, where=target.url)), None, etag)

    def get_into(self, name: str, buffer: memoryview, *, byte_range: ByteRequest | None = None,
                 version: str | None = None, progress: Progress = NO_PROGRESS, on_read: Any = None) -> int:
        """Read into ``buffer``; with ``version`` (the ETag ``head`` gave), that version only."""
        view = buffer.cast("B") if buffer.format != "B" or buffer.ndim != 1 else buffer
        start, stop = self._bounds(name, byte_range)
        return self._object(name).read_into(view if stop is None else view[: stop - start], start, progress,
                                            etag=version)

    def open_read(self, name: str, *, progress: Progress = NO_PROGRESS,
                  byte_range: ByteRequest | None = None) -> OpenedObject:
        """One GET, no HEAD: the object's size (``Content-Range``), ETag and metadata come from the
        GET's headers; past the download threshold the rest comes in parallel ranges pinned to that
        ETag. With ``byte_range``, one GET of that range; a suffix, or a range that starts past the
        object's end (S3 answers it with an error, without the headers), is the default's HEAD."""
        if not isinstance(byte_range, SuffixByteRequest):
            opened = self._object(name).open_read(self, progress, byte_range)
            if opened is not None:
                return opened
        return super().open_read(name, progress=progress, byte_range=byte_range)

    def get_into_file(self, name: str, descriptor: int, size: int, *, progress: Progress = NO_PROGRESS,
                      version: str | None = None) -> int:
        """As :meth:`get_into` (parallel ranges above the download threshold), each range written
        to the file ``descriptor`` at its offset through a reused buffer."""
        return self._object(name).read_to_file(descriptor, size, progress, etag=version)

    def iter_chunks(self, name: str, *, byte_range: ByteRequest | None = None,
                    chunk_size: int = DEFAULT_CHUNK_SIZE, version: str | None = None,
                    progress: Progress = NO_PROGRESS) -> Iterator[memoryview]:
        return self._object(name).iter_chunks(self._bounds(name, byte_range), chunk_size, progress, etag=version)

    def _bounds(self, name: str, byte_range: ByteRequest | None) -> tuple[int, int | None]:
        """``(start, stop)`` of a range; a suffix costs a HEAD for the object's size."""
        size = self.head(name).size if isinstance(byte_range, SuffixByteRequest) else None
        return byte_bounds(byte_range, size)

    def head(self, name: str) -> ObjectInfo:
        bucket = self._require_bucket()
        response = self._call(lambda: self.client.head_object(Bucket=bucket, Key=name),
                              what="reading the metadata", name=name)
        return ObjectInfo(name, int(response["ContentLength"]), decode_metadata(response.get("Metadata", {})),
                          response.get("LastModified"), response.get("ETag"))

    def list(self, prefix: str = "", delimiter: str | None = None) -> Iterator[ObjectInfo | Prefix]:
        """Every object under ``prefix``, page after page (S3 sends at most 1,000 per page)."""
        bucket = self._require_bucket()
        arguments: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if delimiter:
            arguments["Delimiter"] = delimiter
        while True:
            page = self._call(lambda: self.client.list_objects_v2(**arguments), what=f"listing {prefix!r}")
            entries: list[ObjectInfo | Prefix] = [
                ObjectInfo(item["Key"], int(item["Size"]), {}, item.get("LastModified"))
                for item in page.get("Contents", [])]
            entries += [Prefix(item["Prefix"]) for item in page.get("CommonPrefixes", [])]
            entries.sort(key=lambda entry: entry.name)
            yield from entries
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            arguments["ContinuationToken"] = token

    def copy(self, source: str, destination: str, *, source_bucket: str | None = None) -> None:
        """Server-side copy with metadata (multipart copy above ``max_put_size``, 5 GiB)."""
        target = self._object(destination)
        target.copy_from(self._require_bucket(source_bucket), source, self._write_args(None))

    def copy_listed(self, source: ObjectInfo, destination: str, *, source_bucket: str | None = None) -> None:
        """:meth:`copy` with the size a listing gave: one CopyObject request up to ``max_put_size``."""
        target = self._object(destination)
        target.copy_from(self._require_bucket(source_bucket), source.name, self._write_args(None),
                         known_size=source.size)

    def copy_with_metadata(self, source: ObjectInfo, destination: str, metadata: Mapping[str, str], *,
                           source_bucket: str | None = None) -> None:
        """Server-side copy of the version ``source`` describes (its ETag) with new ``metadata``."""
        target = self._object(destination)
        extra = {**self._write_args(None), "Metadata": encode_metadata(metadata, where=target.url)}
        if source.version is None:
            source = self._in_bucket(self._require_bucket(source_bucket)).head(source.name)
        target.copy_replacing_metadata(self._require_bucket(source_bucket), source.name, source.size,
                                       str(source.version), extra)

    def delete_many(self, names: Iterable[str]) -> None:
        """Delete in batches of 1,000 keys (S3's limit per request), batches in parallel."""
        bucket = self._require_bucket()
        batch: list[str] = []
        batches: list[list[str]] = []
        for name in names:
            batch.append(name)
            if len(batch) == DELETE_BATCH:
                batches.append(batch)
                batch = []
        if batch:
            batches.append(batch)
        retrier = Retrier(self.transfer)
        run_parallel((functools.partial(self._delete_batch, bucket, chunk) for chunk in batches),
                     self.transfer.threads, retrier.cancel)

    def _delete_batch(self, bucket: str, names: builtins.list[str]) -> None:
        request = {"Objects": [{"Key": name} for name in names], "Quiet": True}
        response = self._call(lambda: self.client.delete_objects(Bucket=bucket, Delete=request),
                              what=f"deleting {len(names)} objects")
        errors = response.get("Errors", [])
        if errors:
            shown = "; ".join(f"{e.get('Key')}: {e.get('Code')} ({e.get('Message', '')})" for e in errors[:5])
            more = f" and {len(errors) - 5} more" if len(errors) > 5 else ""
            raise TransferError(f"S3 did not delete {len(errors)} object(s) of s3://{bucket}: {shown}{more}")

    # -- buckets ---------------------------------------------------------------------------------
    def list_buckets(self) -> builtins.list[str]:  # ``list`` here is the method
        names: builtins.list[str] = []
        arguments: dict[str, Any] = {}
        while True:
            page = self._call(lambda: self.client.list_buckets(**arguments), what="listing buckets")
            names += [bucket["Name"] for bucket in page.get("Buckets", [])]
            token = page.get("ContinuationToken")
            if not token:
                return sorted(names)
            arguments["ContinuationToken"] = token

    def bucket_exists(self, bucket: str) -> bool:
        """True if the bucket exists (also when it exists but these credentials may not list it)."""
        with translated(bucket=bucket, action="checking the bucket"):
            try:
                Retrier(self.transfer).call(lambda: self.client.head_bucket(Bucket=bucket), what=f"Checking s3://{bucket}")
            except boto_errors.ClientError as exc:
                if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
                    return False
                if http_status(exc) == 403 and error_code(exc) in ("403", "AccessDenied", "Forbidden"):
                    self._check_credentials(bucket)
                    return True  # it exists, but belongs to someone else or HeadBucket is not allowed
                raise
        return True

    def _check_credentials(self, bucket: str) -> None:
        """After a bare 403 to HeadBucket (a HEAD answer has no body to say why), ask once with a
        request whose answer names the reason: wrong keys are an error now, at construction, not
        at the first transfer; a plain AccessDenied leaves the bucket usable as far as allowed."""
        try:
            self.client.list_objects_v2(Bucket=bucket, MaxKeys=0)
        except boto_errors.ClientError as exc:
            if error_code(exc) in CREDENTIAL_CODES:
                raise


    def create_bucket(self, bucket: str, **options: Any) -> None:
        """Create ``bucket`` (``acl=`` optional); a bucket these credentials own already is fine."""
        _check_bucket_name(bucket)
        arguments: dict[str, Any] = {"Bucket": bucket}
        acl = options.get("acl") or self.transfer.acl
        if acl and acl != "private":
            arguments["ACL"] = acl
        region = self.client.meta.region_name
        if region and region != "us-east-1":
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
        with translated(bucket=bucket, action="creating the bucket"):
            try:
                Retrier(self.transfer).call(lambda: self.client.create_bucket(**arguments), what=f"Creating s3://{bucket}")
            except boto_errors.ClientError as exc:
                if error_code(exc) == "BucketAlreadyOwnedByYou":
                    return
                if error_code(exc) == "BucketAlreadyExists":
                    raise CottonCandyError(
                        f"Bucket name {bucket!r} is taken by another account (bucket names are global): "
                        "choose another") from None
                raise

    def delete_bucket(self, bucket: str) -> None:
        """Remove an empty bucket; a bucket with objects is refused with a clear error."""
        with translated(bucket=bucket, action="removing the bucket"):
            try:
                Retrier(self.transfer).call(lambda: self.client.delete_bucket(Bucket=bucket), what=f"Removing s3://{bucket}")
            except boto_errors.ClientError as exc:
                if error_code(exc) != "BucketNotEmpty":
                    raise
                some = [e.name for _, e in zip(range(3), self._in_bucket(bucket).list(), strict=False)]
                raise CottonCandyError(
                    f"Bucket {bucket!r} is not empty (it holds {', '.join(map(repr, some))}...): remove "
                    "its objects first, e.g. rm(folder, recursive=True) for each folder, then the bucket"
                ) from None


def _check_bucket_name(bucket: str) -> None:
    if not (3 <= len(bucket) <= 63) or "/" in bucket or bucket != bucket.strip():
        raise InvalidNameError(
            f"{bucket!r} is not an S3 bucket name: 3 to 63 lower-case letters, digits, '.' and '-'")
