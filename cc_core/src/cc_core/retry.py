"""One retry policy for every backend: how many tries, and how long to wait between them.

Modelled on obstore's ``RetryConfig``/``BackoffConfig``: the policy (attempts, exponential backoff
with a cap, jitter) is configured once, in the ``[retry]`` section, and each backend only says
which of its errors are transient (a predicate it passes to :meth:`RetryPolicy.call`) and how a
final failure reads. A backend's own section may override any ``[retry]`` key for that backend
(``[s3] max_attempts``, ``[gdrive] retries`` and the other keys of cottoncandy 1.0's development
line keep working there); a backend passes its own defaults for keys nobody set.

=================  =======================================================  =================
``[retry]`` key    meaning                                                  unit
=================  =======================================================  =================
``attempts``       tries of one request in all, the first included          count
``base_delay``     wait before the first retry; doubled for each next one   seconds
``max_delay``      longest wait between two tries                           seconds
``jitter``         ``full`` (0 .. wait), ``equal`` (wait/2 .. wait), ``none``  -
=================  =======================================================  =================
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from .errors import ConfigError

T = TypeVar("T")

JITTERS = ("full", "equal", "none")
RETRY_SECTION = "retry"


class RetryCancelled(Exception):
    """Raised by :meth:`RetryPolicy.call` when its ``cancel`` event is set (the backend translates it)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently transient failures are tried again.

    Attributes
    ----------
    attempts : int
        Tries in all, the first included (1: no retry).
    base_delay : float
        Seconds before the first retry; doubled for each next one, up to ``max_delay``.
    max_delay : float
        Longest wait between two tries, in seconds.
    jitter : str
        ``"full"``: a random wait between 0 and the backoff (AWS's recommendation for many clients
        hitting one store); ``"equal"``: between half the backoff and all of it; ``"none"``.
    """

    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 5.0
    jitter: str = "full"

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigError(f"Retry attempts = {self.attempts!r} must be at least 1 (the first try counts)")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ConfigError("Retry delays cannot be negative")
        if self.jitter not in JITTERS:
            raise ConfigError(f"Retry jitter = {self.jitter!r} must be one of {', '.join(JITTERS)}")

    @classmethod
    def from_config(cls, config: Any, section: str | None = None, *, defaults: RetryPolicy | None = None,
                    keys: dict[str, str | None] | None = None, **overrides: Any) -> RetryPolicy:
        """The policy ``[retry]`` configures, overridden by ``[section]`` and then by ``overrides``.

        Parameters
        ----------
        config : cc_core.config.Config or None
            The settings; None gives ``defaults`` with ``overrides``.
        section : str, optional
            A backend's section whose keys win over ``[retry]``'s for that backend.
        defaults : RetryPolicy, optional
            The backend's policy for keys nobody set.
        keys : dict, optional
            Names the backend's section uses for the policy's fields, where they differ
            (``{"attempts": "max_attempts"}``; None: the section has no such key); default: the
            ``[retry]`` names.
        **overrides
            Field values given in code (a backend's constructor arguments); None is ignored.
        """
        policy = defaults or cls()
        if config is not None:
            same: dict[str, str | None] = {name: name for name in _FIELDS}
            values = _read(config, RETRY_SECTION, same)
            if section is not None:
                values.update(_read(config, section, {**same, **(keys or {})}))
            policy = replace(policy, **values)
        changes = {k: v for k, v in overrides.items() if v is not None}
        return replace(policy, **changes) if changes else policy

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first)."""
        ceiling: float = min(self.max_delay, self.base_delay * 2**retry)
        if self.jitter == "full":
            return random.uniform(0, ceiling)
        if self.jitter == "equal":
            return ceiling * (0.5 + random.random() / 2)
        return ceiling

    def call(self, request: Callable[[], T], *, transient: Callable[[BaseException], bool],
             attempts: Callable[[BaseException], int] | None = None,
             on_retry: Callable[[BaseException, int, float], None] | None = None,
             cancel: threading.Event | None = None) -> T:
        """``request()``, tried again while it fails transiently.

        Parameters
        ----------
        request : callable
            One request; called again on each retry.
        transient : callable
            The backend's word on an error: whether sending the same request again may succeed.
        attempts : callable, optional
            Tries allowed for this error (at most :attr:`attempts`), e.g. fewer for timeouts.
        on_retry : callable, optional
            ``on_retry(error, retry, delay)`` before each wait (log it, resynchronise an upload).
        cancel : threading.Event, optional
            Set when the work is abandoned: no new try starts, a wait ends early.

        Raises
        ------
        Exception
            The last error, when it is not transient or the tries are used up; its
            ``retry_attempts`` attribute says how many tries were made.
        RetryCancelled
            ``cancel`` was set.
        """
        tried = 0
        while True:
            if cancel is not None and cancel.is_set():
                raise RetryCancelled("cancelled")
            try:
                return request()
            except Exception as error:
                tried += 1
                allowed = self.attempts if attempts is None else min(self.attempts, attempts(error))
                if not transient(error) or tried >= allowed:
                    error.retry_attempts = tried  # type: ignore[attr-defined]
                    raise
                wait = self.delay(tried - 1)
                if on_retry is not None:
                    on_retry(error, tried, wait)
                if cancel is None:
                    time.sleep(wait)
                elif cancel.wait(wait):
                    raise RetryCancelled("cancelled") from error


_FIELDS = {"attempts": int, "base_delay": float, "max_delay": float, "jitter": str}


def _read(config: Any, section: str, names: dict[str, str | None]) -> dict[str, Any]:
    """The policy fields set in ``section`` (under ``names``), typed; empty values are unset."""
    values: dict[str, Any] = {}
    for field, key in names.items():
        if key is None:
            continue
        kind = _FIELDS[field]
        if kind is int:
            value: Any = config.getint(section, key, fallback=None)
        elif kind is float:
            value = config.getfloat(section, key, fallback=None)
        else:
            text = (config.get(section, key, fallback="") or "").strip().lower()
            value = text or None
        if value is not None:
            values[field] = value
    return values


__all__ = ["JITTERS", "RetryCancelled", "RetryPolicy"]
