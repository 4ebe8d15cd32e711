"""Which S3 failures are transient, and error translation for S3 requests.

Every request (and every part or range of a parallel transfer) runs through :meth:`Retrier.call`,
under the core's :class:`cc_core.retry.RetryPolicy` (``[retry]``, overridden by ``[s3]``): transient
failures (5xx, SlowDown and other throttling, connection resets, timeouts, short reads) are
retried; permanent ones (missing object or bucket, access denied, bad credentials) fail at once.
Whatever escapes is a cottoncandy error that names the object and says what to do.

botocore's own retries are switched off in the client this backend builds (unless the caller's
``botocore.client.Config`` sets ``retries``), so attempts are not multiplied.
"""

from __future__ import annotations

import http.client
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from botocore import exceptions as boto_errors
from urllib3 import exceptions as urllib3_errors

from cc_core.errors import AccessDeniedError, BucketNotFoundError, CottonCandyError, ObjectNotFoundError, TransferError
from cc_core.progressbar import in_terminal
from cc_core.retry import RetryCancelled

from .settings import TransferSettings

T = TypeVar("T")

TRANSIENT_CODES = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
    "RequestThrottledException", "TooManyRequests", "TooManyRequestsException",
    "RequestLimitExceeded", "ProvisionedThroughputExceededException", "BandwidthLimitExceeded",
    "RequestTimeout", "RequestTimeoutException", "InternalError", "ServiceUnavailable",
    "PriorRequestNotComplete", "EC2ThrottledException", "IDPCommunicationError",
    # bytes damaged on the way: sending them again is the cure
    "BadDigest", "XAmzContentSHA256Mismatch", "IncompleteBody",
})
CREDENTIAL_CODES = frozenset({
    "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
    "TokenRefreshRequired", "InvalidClientTokenId", "AuthFailure", "UnrecognizedClientException",
})
MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchVersion"})
_NETWORK_ERRORS = (
    boto_errors.ConnectionClosedError, boto_errors.EndpointConnectionError,
    boto_errors.ReadTimeoutError, boto_errors.ConnectTimeoutError, boto_errors.ResponseStreamingError,
    boto_errors.IncompleteReadError, boto_errors.ProxyConnectionError,
    urllib3_errors.ProtocolError, urllib3_errors.ReadTimeoutError, urllib3_errors.NewConnectionError,
    http.client.IncompleteRead, http.client.RemoteDisconnected, ConnectionError, TimeoutError,
)
_TIMEOUT_ERRORS = (boto_errors.ReadTimeoutError, boto_errors.ConnectTimeoutError, urllib3_errors.ReadTimeoutError,
                   TimeoutError)
_TIMEOUT_CODES = frozenset({"RequestTimeout", "RequestTimeoutException"})
_log = logging.getLogger("cc_backend_s3")
_CONNECT_ERRORS = (boto_errors.EndpointConnectionError, boto_errors.ConnectTimeoutError,
                   urllib3_errors.NewConnectionError)


class S3AccessError(AccessDeniedError):
    """S3 refused the request: access denied (403), or the credentials are wrong or missing."""


class TransferCancelled(CottonCandyError):
    """Another part of the same transfer failed, or the caller cancelled it."""


class ShortReadError(CottonCandyError, ConnectionError):
    """The connection ended before the announced bytes arrived (retried like a reset)."""


def error_code(exc: BaseException) -> str:
    if isinstance(exc, boto_errors.ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def http_status(exc: BaseException) -> int:
    if isinstance(exc, boto_errors.ClientError):
        return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return 0


def is_transient(exc: BaseException) -> bool:
    """Whether sending the same request again may succeed."""
    if isinstance(exc, boto_errors.SSLError):
        return False  # a certificate problem does not heal by itself
    if isinstance(exc, _NETWORK_ERRORS):
        return True
    if isinstance(exc, boto_errors.ClientError):
        status = http_status(exc)
        return error_code(exc) in TRANSIENT_CODES or status >= 500 or status == 429
    return False


def answer_lost(exc: BaseException) -> bool:
    """Whether a failed request may have been carried out: it was sent (a connection was made), and
    its answer did not arrive (a read timeout, a connection closed or reset before the answer ended)."""
    return isinstance(exc, _NETWORK_ERRORS) and not isinstance(exc, _CONNECT_ERRORS)


class Retrier:
    """Runs requests under the backend's retry policy; thread-safe.

    Parameters
    ----------
    settings : TransferSettings
        Its ``retry`` policy, and ``timeout_attempts`` (fewer tries for a request that timed out).
    cancel : threading.Event, optional
        Set when the transfer is abandoned: no new attempt starts, waiting stops early.
    """

    def __init__(self, settings: TransferSettings, cancel: threading.Event | None = None) -> None:
        self.settings = settings
        self.policy = settings.retry
        self.cancel = cancel or threading.Event()

    def call(self, request: Callable[[], T], *, what: str) -> T:
        """``request()``, retried while it fails transiently; ``what`` names it in errors."""
        def attempts(exc: BaseException) -> int:
            return self.settings.timeout_attempts if _timed_out(exc) else self.policy.attempts

        def on_retry(exc: BaseException, retry: int, delay: float) -> None:
            if _timed_out(exc):  # the user has waited a timeout already: say why nothing happens
                _log.log(logging.WARNING if in_terminal() else logging.INFO,
                         "cottoncandy: %s timed out (%s); retry %d of %d in %.1f s",
                         what, describe(exc), retry, min(attempts(exc), self.policy.attempts) - 1, delay)

        try:
            return self.policy.call(request, transient=is_transient, attempts=attempts, on_retry=on_retry,
                                    cancel=self.cancel)
        except RetryCancelled as exc:
            raise TransferCancelled(f"{what}: cancelled") from exc.__cause__
        except Exception as exc:
            if not is_transient(exc):
                raise
            tried = getattr(exc, "retry_attempts", 1)
            hint = ("check endpoint_url and the network" if isinstance(exc, _CONNECT_ERRORS) or _timed_out(exc)
                    else "the store or the network kept failing; try again later")
            raise TransferError(f"{what} failed after {tried} attempts: {describe(exc)}; {hint}") from exc


def _timed_out(exc: BaseException) -> bool:
    """A timeout: the endpoint took a connection or a request and did not answer in time."""
    return isinstance(exc, _TIMEOUT_ERRORS) or error_code(exc) in _TIMEOUT_CODES


def describe(exc: BaseException) -> str:
    code = error_code(exc)
    if code:
        message = exc.response.get("Error", {}).get("Message", "")  # type: ignore[attr-defined]
        return f"{code} ({message})" if message else code
    return f"{type(exc).__name__}: {exc}"


def translate(exc: BaseException, *, bucket: str | None, name: str | None = None, action: str = "") -> BaseException:
    """The cottoncandy error to raise for a failed request about ``bucket``/``name``.

    Errors that are cottoncandy errors already pass through unchanged.
    """
    if isinstance(exc, CottonCandyError):
        return exc
    where = f"s3://{bucket}/{name}" if name else f"s3://{bucket}" if bucket else "S3"
    doing = f" ({action})" if action else ""
    code = error_code(exc)
    if isinstance(exc, (boto_errors.NoCredentialsError, boto_errors.PartialCredentialsError)):
        return S3AccessError(
            f"No usable AWS credentials for {where}{doing}: pass ACCESS_KEY/SECRET_KEY to "
            "get_interface, set [login] access_key/secret_key in the cottoncandy config, or use the "
            "AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials)"
        )
    if code == "NoSuchBucket":
        return BucketNotFoundError(str(bucket),
                                   "create it (create_bucket, or force_bucket_creation=True) or check the name")
    if name and code in MISSING_OBJECT_CODES:
        return ObjectNotFoundError(name, f"s3://{bucket}")
    if code in CREDENTIAL_CODES:
        return S3AccessError(
            f"S3 rejected the credentials for {where}{doing}: {describe(exc)}. Check the access key and "
            "secret key (get_interface arguments, [login] in the config, or the AWS_* variables)"
        )
    if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled", "AccountProblem"):
        return S3AccessError(
            f"Access denied to {where}{doing}: {describe(exc)}. The credentials work but lack "
            "permission: check the bucket policy and the user's IAM policy"
        )
    if code == "AccessControlListNotSupported":
        return S3AccessError(
            f"The bucket of {where} has ACLs disabled (Object Ownership: bucket owner enforced), so "
            "acl= cannot be set: use acl='private' or set [basic] default_acl = private"
        )
    if isinstance(exc, boto_errors.EndpointConnectionError):
        return TransferError(f"Cannot reach the S3 endpoint for {where}{doing}: {exc}. "
                             "Check endpoint_url and the network")
    if isinstance(exc, boto_errors.ClientError):
        return TransferError(f"S3 refused {action or 'the request'} on {where}: {describe(exc)}")
    if isinstance(exc, boto_errors.BotoCoreError):
        return TransferError(f"S3 request on {where}{doing} failed: {exc}")
    return exc


@contextmanager
def translated(*, bucket: str | None, name: str | None = None, action: str = "") -> Iterator[None]:
    """Turn boto errors raised inside the block into cottoncandy errors (see :func:`translate`)."""
    try:
        yield
    except Exception as exc:
        error = translate(exc, bucket=bucket, name=name, action=action)
        if error is exc:
            raise
        raise error from exc
