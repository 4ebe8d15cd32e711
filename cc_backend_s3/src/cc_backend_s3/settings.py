"""Transfer settings of the S3 backend: config file values, overridden per backend or per call.

The config keys are cottoncandy 0.4's (see ``cc_core/defaults.cfg``): ``[basic] threads`` and
``default_acl``; ``[upload_settings] mpu_chunksize``, ``min_mpu_size``, ``max_put_size``,
``max_mpu_parts`` (plain numbers are MB, as in 0.4; ``"512KB"`` style sizes are accepted too);
``[download_settings] mpd_chunksize``. The thresholds, which may be ``auto``, are ``[s3]
multipart_threshold`` and ``download_threshold``: 0.4 reads the config file too and parses its own
``mpu_use_threshold`` with ``int()``, so ``auto`` cannot go there. 0.4's ``mpu_use_threshold`` and
``mpd_use_threshold`` count where the user's file or environment sets them but not the [s3] keys
(a file 0.4 wrote). Plain numbers in all these size keys are MB. The retry policy is the core's
(:class:`cc_core.retry.RetryPolicy`): ``[retry]``, overridden by ``[s3] max_attempts``,
``retry_base_delay``, ``retry_max_delay`` (seconds) and ``retry_jitter``; ``[s3]
timeout_attempts`` bounds the tries of a request that timed out, and ``[s3] complete_timeout`` is the read
timeout of the requests a server may work on for minutes before it answers (completions, server-side copies).
``[s3] upload_checksum`` picks the checksum single PUTs carry (:mod:`cc_backend_s3.checksums`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlsplit

from cc_core.errors import ConfigError
from cc_core.retry import JITTERS, RetryPolicy

MB = 1 << 20
#: S3's own limits: a single PUT or part copy is at most 5 GiB, a part at least 5 MiB.
S3_MAX_PUT = 5 * (1 << 30)
S3_MIN_PART = 5 * MB
#: A download threshold no object reaches: every read is one GET.
NO_RANGES = 1 << 62
#: S3's retry policy where neither ``[retry]`` nor ``[s3]`` sets one: many clients may hit one
#: bucket, so waits are fully jittered (AWS's advice).
S3_RETRY = RetryPolicy(attempts=5, base_delay=0.2, max_delay=5.0, jitter="full")
#: Names of the retry policy's fields in the ``[s3]`` section (and among the backend's options).
#: Values of ``[s3] upload_checksum`` (see :mod:`cc_backend_s3.checksums`).
UPLOAD_CHECKSUMS = ("xxhash3", "crc32")
#: Values of ``[s3] payload_signing`` (see :func:`cc_backend_s3.client.payload_signing_enabled`).
PAYLOAD_SIGNING = ("auto", "true", "false")
S3_RETRY_KEYS = {"attempts": "max_attempts", "base_delay": "retry_base_delay", "max_delay": "retry_max_delay",
                 "jitter": "retry_jitter"}


@dataclass(frozen=True)
class TransferSettings:
    """How the backend splits and parallelises transfers.

    Attributes
    ----------
    threads : int
        Parallel part uploads / ranged downloads per transfer.
    acl : str
        Canned ACL of new objects and buckets (``private`` sends no ACL header at all).
    multipart_threshold : int
        Uploads of at least this many bytes use a multipart upload.
    part_size : int
        Bytes per uploaded part (grown when an upload would need more than ``max_parts``).
    min_part_size : int
        Smallest part S3 accepts (all parts but the last).
    max_parts : int
        Most parts one multipart upload may have.
    max_put_size : int
        Largest single PUT / server-side copy; bigger copies run as multipart copies.
    download_threshold : int
        Reads of more than this many bytes are split into parallel ranged GETs.
    download_part_size : int
        Bytes per ranged GET.
    max_attempts : int
        Tries per request (or part, or range) before a transient error is reported.
    timeout_attempts : int
        Tries of a request that timed out (an endpoint that accepts and does not answer): with
        the client's 3 s connect and 10 s read timeouts, silence ends within 40 s.
    complete_timeout : float
        Seconds to wait for the answer to a request the server may work on for minutes with nothing
        to send: CompleteMultipartUpload (the server joins the parts) and server-side copies. S3 keeps
        such requests alive with whitespace, but S3-compatible servers may not (moto takes about 5 s
        per GiB), and a retry sent while the first request still runs can make both fail. These
        requests go through a second client with this read timeout (at least the client's own);
        the backend's, not per call.
    patient_put_size : int
        Single PUTs of at least this many bytes wait ``complete_timeout`` for their answer too: the
        server digests and stores the whole body before it answers (moto: a 3 GiB PUT timed out at
        10 s on every attempt). Smaller PUTs keep the client's read timeout, so a silent endpoint
        is noticed in seconds.
    retry_base_delay, retry_max_delay : float
        Exponential backoff: the n-th retry waits up to ``min(retry_max_delay, retry_base_delay *
        2**n)`` seconds.
    retry_jitter : str
        ``full`` (default), ``equal`` or ``none``: see :class:`cc_core.retry.RetryPolicy`.
    upload_checksum : str
        ``xxhash3`` (default): a single PUT sends the object's ``cc-checksum`` as S3's XXHASH3
        checksum (one hash for both checks); ``crc32``: botocore's CRC32, for stores without XXHASH3.
    """

    threads: int = 4
    acl: str = "private"
    multipart_threshold: int = 64 * MB
    part_size: int = 32 * MB
    min_part_size: int = S3_MIN_PART
    max_parts: int = 10_000
    max_put_size: int = S3_MAX_PUT
    download_threshold: int = 32 * MB
    download_part_size: int = 16 * MB
    max_attempts: int = S3_RETRY.attempts
    timeout_attempts: int = 3
    complete_timeout: float = 300.0
    patient_put_size: int = 256 * MB
    retry_base_delay: float = S3_RETRY.base_delay
    retry_max_delay: float = S3_RETRY.max_delay
    retry_jitter: str = S3_RETRY.jitter
    upload_checksum: str = "xxhash3"

    @classmethod
    def from_settings(cls, settings: Any, *, loopback: bool = False, **overrides: Any) -> TransferSettings:
        """Read the cottoncandy config (``settings`` may be None), then apply ``overrides``.

        ``loopback``: the endpoint is on this machine, so ``auto`` thresholds mean one GET per
        read and one PUT per upload up to ``max_put_size`` (ranges and parts help only when a
        single stream is network-bound; on loopback they only add work for the server, which
        joins the parts: a 128 MiB upload to moto takes 0.72 s in 32 MiB parts, 0.50 s whole).
        """
        values: dict[str, Any] = {}
        if settings is not None:
            values = {
                "threads": settings.getint("basic", "threads", fallback=None),
                "acl": (settings.get("basic", "default_acl", fallback="") or "").strip() or None,
                "multipart_threshold": _size(settings, *_threshold_key(
                    settings, ("s3", "multipart_threshold"), ("upload_settings", "mpu_use_threshold"))),
                "part_size": _size(settings, "upload_settings", "mpu_chunksize"),
                "min_part_size": _size(settings, "upload_settings", "min_mpu_size"),
                "max_parts": settings.getint("upload_settings", "max_mpu_parts", fallback=None),
                "max_put_size": _size(settings, "upload_settings", "max_put_size"),
                "download_threshold": _size(settings, *_threshold_key(
                    settings, ("s3", "download_threshold"), ("download_settings", "mpd_use_threshold"))),
                "download_part_size": _size(settings, "download_settings", "mpd_chunksize"),
                "timeout_attempts": settings.getint("s3", "timeout_attempts", fallback=None),
                "complete_timeout": settings.getfloat("s3", "complete_timeout", fallback=None),
                "upload_checksum": (settings.get("s3", "upload_checksum", fallback="") or "").strip().lower() or None,
            }
            policy = RetryPolicy.from_config(settings, "s3", defaults=S3_RETRY, keys=S3_RETRY_KEYS)
            values.update({S3_RETRY_KEYS[name]: getattr(policy, name) for name in S3_RETRY_KEYS})
        if loopback and values.get("download_threshold") is None:
            values["download_threshold"] = NO_RANGES
        if loopback and values.get("multipart_threshold") is None:
            values["multipart_threshold"] = values.get("max_put_size") or S3_MAX_PUT
        values.update(overrides)
        result = cls(**{k: v for k, v in values.items() if v is not None})
        result.check()
        return result

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy of every request, part and range."""
        return RetryPolicy(attempts=self.max_attempts, base_delay=self.retry_base_delay,
                           max_delay=self.retry_max_delay, jitter=self.retry_jitter)

    def with_options(self, **overrides: Any) -> TransferSettings:
        """A copy with the given (non-None) fields replaced, e.g. per-call ``threads``/``acl``."""
        known = {f.name for f in fields(self)}
        changes = {k: v for k, v in overrides.items() if k in known and v is not None}
        if not changes:
            return self
        result = replace(self, **changes)
        result.check()
        return result

    def check(self) -> None:
        for name in ("threads", "part_size", "min_part_size", "max_parts", "download_part_size", "max_attempts",
                     "timeout_attempts"):
            if getattr(self, name) < 1:
                raise ConfigError(f"S3 transfer setting {name} = {getattr(self, name)!r} must be at least 1")
        if not self.complete_timeout >= 1:
            raise ConfigError(f"S3 transfer setting complete_timeout = {self.complete_timeout!r} must be at least 1 "
                              "(seconds to wait for the answer to a completion or a server-side copy)")
        if self.multipart_threshold < 0 or self.download_threshold < 0:
            raise ConfigError("S3 multipart and download thresholds cannot be negative")
        if self.retry_jitter not in JITTERS:
            raise ConfigError(f"S3 transfer setting retry_jitter = {self.retry_jitter!r} must be one of "
                              f"{', '.join(JITTERS)}")
        if self.upload_checksum not in UPLOAD_CHECKSUMS:
            raise ConfigError(f"S3 transfer setting upload_checksum = {self.upload_checksum!r} must be one of "
                              f"{', '.join(UPLOAD_CHECKSUMS)} (crc32 for S3-compatible stores that reject XXHASH3)")

    def upload_part_size(self, size: int) -> int:
        """The part size for an upload of ``size`` bytes: configured, at least S3's minimum,
        and large enough to need no more than ``max_parts`` parts."""
        part = max(self.part_size, self.min_part_size)
        needed = -(-size // self.max_parts)
        return max(part, needed)


def is_loopback(endpoint_url: str | None) -> bool:
    """Whether ``endpoint_url`` names a server on this machine (127.0.0.0/8, ::1, localhost)."""
    if not endpoint_url:
        return False
    host = urlsplit(endpoint_url if "://" in endpoint_url else f"//{endpoint_url}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _threshold_key(settings: Any, key: tuple[str, str], key_04: tuple[str, str]) -> tuple[str, str]:
    """Where a threshold is set: ``key``, unless only cottoncandy 0.4's ``key_04`` was chosen by
    the user (a config file 0.4 wrote, or a variable naming the old key)."""
    if settings.get(*key, fallback=None) is None or (not settings.is_set(*key) and settings.is_set(*key_04)):
        return key_04
    return key


def _size(settings: Any, section: str, key: str) -> int | None:
    """A size setting: plain numbers are MB (cottoncandy 0.4's unit), ``auto`` is None."""
    if (settings.get(section, key, fallback="") or "").strip().lower() == "auto":
        return None
    return settings.getsize(section, key, unit=MB)
