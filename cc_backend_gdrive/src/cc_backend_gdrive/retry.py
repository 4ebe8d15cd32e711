"""Retrying Drive calls: which failures are transient, and backoff.

Transient: HTTP 429, 5xx, 403 with reason ``rateLimitExceeded`` / ``userRateLimitExceeded``,
and transport failures (a dropped connection, a timeout, a reset). Everything else fails at once
with an error that names the Drive path and says what Drive answered.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from googleapiclient.errors import HttpError
from oauth2client.client import AccessTokenRefreshError

from cc_core.errors import ConfigError, ObjectNotFoundError, TransferError

T = TypeVar("T")

RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


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


@dataclass
class RetryPolicy:
    """How often and how patiently transient failures are retried.

    Attributes
    ----------
    attempts : int
        Tries in all, the first included.
    base_delay : float
        Seconds before the first retry; doubled each time (with jitter), capped by ``max_delay``.
    max_delay : float
        Longest wait between two tries, in seconds.
    """

    attempts: int = 7
    base_delay: float = 1.0
    max_delay: float = 32.0

    def delay(self, retry: int) -> float:
        return min(self.max_delay, self.base_delay * 2**retry) * (0.5 + random.random() / 2)

    def call(self, function: Callable[[], T], what: str, path: str,
             on_retry: Callable[[BaseException], None] | None = None) -> T:
        """Run ``function``, retrying transient failures; translate the final failure.

        Parameters
        ----------
        function : callable
            One Drive request (or one resumable step); called again on each retry.
        what : str
            The operation, for messages (``"upload"``, ``"list"``).
        path : str
            The Drive path the operation is about, for messages.
        on_retry : callable, optional
            Called with the error before each retry (a resumable upload resynchronises there).
        """
        for attempt in range(self.attempts):
            try:
                return function()
            except Exception as error:  # noqa: BLE001 - classified below, re-raised translated
                if not is_transient(error) or attempt == self.attempts - 1:
                    raise translate(error, what, path, attempts=attempt + 1) from error
                if on_retry is not None:
                    on_retry(error)
                time.sleep(self.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover


def translate(error: BaseException, what: str, path: str, *, attempts: int = 1) -> Exception:
    """A cottoncandy error for a failed Drive request, naming the path and the cause."""
    if isinstance(error, (ObjectNotFoundError, TransferError, ConfigError)):
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
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    return TransferError(f"Google Drive {what} of {path!r} failed{tries}: {detail}")
