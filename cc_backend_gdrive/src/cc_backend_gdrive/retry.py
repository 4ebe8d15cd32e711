"""Retrying Drive calls: which failures are transient, and how a final failure reads.

The policy (tries, backoff, jitter) is the core's :class:`cc_core.retry.RetryPolicy`: ``[retry]``,
overridden by ``[gdrive] retries`` (retries after the first try), ``retry_delay``,
``retry_max_delay`` and ``retry_jitter``. Transient: HTTP 429, 5xx, 403 with reason
``rateLimitExceeded`` / ``userRateLimitExceeded``, and transport failures (a dropped connection, a
timeout, a reset). Everything else fails at once with an error that names the Drive path and says
what Drive answered; a 403 for another reason is an :class:`~cc_core.errors.AccessDeniedError`.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from collections.abc import Callable
from typing import TypeVar

from googleapiclient.errors import HttpError
from oauth2client.client import AccessTokenRefreshError

from cc_core.errors import AccessDeniedError, ConfigError, ObjectNotFoundError, TransferError
from cc_core.retry import RetryPolicy

T = TypeVar("T")

RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Drive's retry policy where neither ``[retry]`` nor ``[gdrive]`` sets one: rate limits need patience.
DRIVE_RETRY = RetryPolicy(attempts=7, base_delay=1.0, max_delay=32.0, jitter="equal")
#: Names of the policy's fields in ``[gdrive]`` (``retries`` counts retries, so it is read apart).
DRIVE_RETRY_KEYS = {"attempts": None, "base_delay": "retry_delay", "max_delay": "retry_max_delay",
                    "jitter": "retry_jitter"}


def error_reason(error: HttpError) -> tuple[str, str]:
    """(reason, message) from Drive's error JSON: ``{"error": {"errors": [{"reason": ...}]}}``."""
    try:
        body = json.loads(error.content.decode("utf-8"))["error"]
        details = body.get("errors") or [{}]
        return str(details[0].get("reason", "")), str(body.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return "", error.content.decode("utf-8", "replace")[:200] if error.content else ""


def status_of(error: BaseException) -> int | None:
    """The HTTP status of a googleapiclient error, else None."""
    return int(error.resp.status) if isinstance(error, HttpError) else None


def is_transient(error: BaseException) -> bool:
    """Whether retrying the same request may succeed."""
    if isinstance(error, HttpError):
        status = status_of(error)
        if status in TRANSIENT_STATUSES:
            return True
        return status == 403 and error_reason(error)[0] in RATE_LIMIT_REASONS
    return isinstance(error, (ConnectionError, TimeoutError, socket.timeout, http.client.HTTPException, ssl.SSLError))


def call(policy: RetryPolicy, function: Callable[[], T], what: str, path: str,
         on_retry: Callable[[BaseException], None] | None = None) -> T:
    """Run ``function`` under ``policy``, retrying transient failures; translate the final failure.

    Parameters
    ----------
    policy : RetryPolicy
        The backend's policy.
    function : callable
        One Drive request (or one resumable step); called again on each retry.
    what : str
        The operation, for messages (``"upload"``, ``"list"``).
    path : str
        The Drive path the operation is about, for messages.
    on_retry : callable, optional
        Called with the error before each retry (a resumable upload resynchronises there).
    """
    try:
        return policy.call(function, transient=is_transient,
                           on_retry=None if on_retry is None else lambda error, retry, delay: on_retry(error))
    except Exception as error:
        raise translate(error, what, path, attempts=getattr(error, "retry_attempts", 1)) from error


def translate(error: BaseException, what: str, path: str, *, attempts: int = 1) -> Exception:
    """A cottoncandy error for a failed Drive request, naming the path and the cause."""
    if isinstance(error, (ObjectNotFoundError, TransferError, ConfigError, AccessDeniedError)):
        return error
    status = status_of(error)
    if status == 404:
        return ObjectNotFoundError(path, "Google Drive")
    if isinstance(error, HttpError):
        reason, message = error_reason(error)
        detail = f"HTTP {status} {reason}: {message}".rstrip(": ")
    else:
        detail = f"{type(error).__name__}: {error}"
    if status == 401 or isinstance(error, AccessTokenRefreshError):
        return ConfigError(
            f"Google Drive rejected the credentials ({what} of {path!r}: {detail}). "
            "Delete the saved credentials file and authenticate again (cottoncandy gdrive-auth)"
        )
    if status == 403:
        return AccessDeniedError(
            f"Google Drive refused the {what} of {path!r} ({detail}): the signed-in account may not do "
            "this; check the folder's sharing settings"
        )
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    return TransferError(f"Google Drive {what} of {path!r} failed{tries}: {detail}")
