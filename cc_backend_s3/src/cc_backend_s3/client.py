"""Building the boto3 S3 client: credentials, endpoint and botocore config.

Credentials come from the arguments, else ``[login] access_key``/``secret_key`` in the cottoncandy
config, else cottoncandy 0.4's ``AWS_ACCESS_KEY``/``AWS_SECRET_KEY`` variables, else boto3's own
chain (``AWS_ACCESS_KEY_ID``..., ``AWS_PROFILE``, ``~/.aws``, instance roles). The endpoint comes
from the argument, else ``[login] endpoint_url``, else boto3 (``AWS_ENDPOINT_URL``, AWS itself).

Clients are cached per process by their full construction arguments and the ``AWS_*``
environment, so reopening a bucket (``set_bucket``, ``cp`` between buckets) does not build a new
client each time.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.client import Config as BotoConfig

from cc_core.errors import ConfigError

from .settings import PAYLOAD_SIGNING, is_loopback

_FALSE_VALUES = ("", "false", "none", "auto")
#: cottoncandy 0.4's default ``[login] endpoint_url``, which its config files carry (and ours, so
#: that 0.4 can read them): AWS itself. Left to boto3, which picks the bucket's regional endpoint.
AWS_DEFAULT_ENDPOINTS = ("https://s3.amazonaws.com", "https://s3.amazonaws.com/")
_cache: dict[Any, Any] = {}
_cache_lock = threading.Lock()
_CACHE_SIZE = 32


def setting(settings: Any, section: str, key: str) -> str | None:
    """A config value, or None when it is empty or 0.4's ``False`` placeholder."""
    if settings is None:
        return None
    value = settings.get(section, key, fallback="") or ""
    return None if value.strip().lower() in _FALSE_VALUES else value.strip()


def resolve_keys(access_key: str | None, secret_key: str | None, settings: Any) -> tuple[str | None, str | None]:
    """Explicit keys, else the config's, else 0.4's variables; (None, None) leaves it to boto3."""
    access_key = None if access_key in (None, "", "False", False) else access_key
    secret_key = None if secret_key in (None, "", "False", False) else secret_key
    if access_key and secret_key:
        return access_key, secret_key
    configured = setting(settings, "login", "access_key"), setting(settings, "login", "secret_key")
    if all(configured):
        return configured
    legacy = os.environ.get("AWS_ACCESS_KEY"), os.environ.get("AWS_SECRET_KEY")
    if all(legacy) and not os.environ.get("AWS_ACCESS_KEY_ID"):
        return legacy
    return None, None


def resolve_endpoint(endpoint_url: str | None, settings: Any) -> str | None:
    """The endpoint given, else ``[login] endpoint_url``; None (boto3 decides) for AWS."""
    endpoint_url = endpoint_url or setting(settings, "login", "endpoint_url")
    return None if endpoint_url in AWS_DEFAULT_ENDPOINTS else endpoint_url


def client_config(user_config: BotoConfig | None, settings: Any, *, threads: int, endpoint_url: str | None,
                  signing_url: str | None = None, min_read_timeout: float | None = None) -> BotoConfig:
    """The botocore config: ours, with the caller's settings taking precedence.

    Ours: no botocore retries (the backend retries each request, part and range itself), enough
    pooled connections for the transfer threads, a bounded connect timeout, path-style addressing
    for custom endpoints (what S3-compatible servers expect), SHA-256 payload signing as
    ``[s3] payload_signing`` says (:func:`payload_signing_enabled`), and the signature version from
    ``[basic] signature_version`` when the caller's config names none. A caller's ``s3`` dict
    replaces ours whole (addressing style and payload signing included). ``signing_url``: the
    endpoint boto3 chose when ``endpoint_url`` is None (from the AWS environment or config), which
    then decides ``auto`` payload signing. ``min_read_timeout``: the read timeout is at least this,
    whatever the caller's config says (the patient client of completions and copies).
    """
    ours: dict[str, Any] = {
        "retries": {"total_max_attempts": 1},
        "max_pool_connections": max(10, 2 * threads),
        "connect_timeout": 3,
        # between two reads of an answer, not for the whole answer; S3 answers within milliseconds
        # and keeps long operations (copies, completions) alive with whitespace; other servers may
        # not, so those go through a client with [s3] complete_timeout (see the backend)
        "read_timeout": 10,
    }
    s3: dict[str, Any] = {"addressing_style": "path"} if endpoint_url else {}
    checksums = getattr(user_config, "request_checksum_calculation", None) != "when_required"
    signing = payload_signing_enabled(_payload_signing_choice(settings), signing_url or endpoint_url,
                                      checksums=checksums)
    if signing is not None:
        s3["payload_signing_enabled"] = signing
    if s3:
        ours["s3"] = s3
    signature = setting(settings, "basic", "signature_version")
    if signature:
        ours["signature_version"] = signature
    config = BotoConfig(**ours)
    config = config.merge(user_config) if user_config is not None else config
    if min_read_timeout is not None and config.read_timeout < min_read_timeout:
        config = config.merge(BotoConfig(read_timeout=min_read_timeout))
    return config


def payload_signing_enabled(choice: str, endpoint_url: str | None, *, checksums: bool = True) -> bool | None:
    """Whether botocore hashes every request body with SHA-256 for the signature (``x-amz-content-sha256``).

    Parameters
    ----------
    choice : str
        ``[s3] payload_signing``: ``true`` (always sign), ``false`` (never: ``UNSIGNED-PAYLOAD``) or
        ``auto``: sign only where the body could be changed on its way unnoticed. Every upload request of
        this backend carries a checksum header of its body (``x-amz-checksum-xxhash3`` or ``-crc32``),
        which is part of the signature and which S3 verifies before it stores anything; it detects damage,
        not a forger (a CRC or XXH3 can be recomputed for altered bytes). So ``auto`` skips the SHA-256
        pass over https (TLS authenticates the bytes; boto3 itself skips it there for streamed bodies)
        and to a loopback endpoint (no network on the way), and keeps it over plain http to another host.
    endpoint_url : str or None
        None is AWS (https).
    checksums : bool
        False when the client sends checksums only where an operation requires them (botocore's
        ``request_checksum_calculation = "when_required"``): nothing else protects the body, so
        ``auto`` signs.

    Returns
    -------
    bool or None
        ``payload_signing_enabled`` for the client's ``s3`` config; None leaves it to botocore
        (which signs over http and streamed bodies with a trailing checksum over https).
    """
    if choice == "true":
        return True
    if choice == "false":
        return False
    if not checksums:
        return None
    secure = endpoint_url is None or _is_https(endpoint_url)
    return False if secure or is_loopback(endpoint_url) else None


def _is_https(url: str) -> bool:
    return urlsplit(url).scheme.lower() == "https"


def _payload_signing_choice(settings: Any) -> str:
    value = (settings.get("s3", "payload_signing", fallback="") or "") if settings is not None else ""
    choice = value.strip().lower() or "auto"
    if choice not in PAYLOAD_SIGNING:
        raise ConfigError(f"[s3] payload_signing = {value!r} is not one of {', '.join(PAYLOAD_SIGNING)}: "
                          "auto signs request bodies over plain http to another host only, true always, false never")
    return choice


def make_client(
    *,
    access_key: str | None,
    secret_key: str | None,
    endpoint_url: str | None,
    settings: Any,
    user_config: BotoConfig | None,
    threads: int,
    client_options: dict[str, Any],
    min_read_timeout: float | None = None,
) -> Any:
    """A (cached) boto3 S3 client; ``client_options`` go to ``boto3.client`` as they are,
    except ``profile_name``, which selects the AWS profile of the session. ``min_read_timeout``:
    see :func:`client_config`."""
    access_key, secret_key = resolve_keys(access_key, secret_key, settings)
    endpoint_url = resolve_endpoint(endpoint_url, settings)
    options = dict(client_options)
    profile = options.pop("profile_name", None)
    config = client_config(user_config, settings, threads=threads, endpoint_url=endpoint_url,
                           min_read_timeout=min_read_timeout)
    if (setting(settings, "login", "verbose_boto") or "").lower() in ("true", "1", "yes", "on"):
        boto3.set_stream_logger("botocore", logging.DEBUG)
    # the AWS_* variables steer boto3's chain (keys, profile, region): a change means a new client
    environment = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))
    key = _cache_key(access_key, secret_key, endpoint_url, profile, environment, config, options)
    if key is not None:
        with _cache_lock:
            if key in _cache:
                return _cache[key]
    session = boto3.session.Session(profile_name=profile) if profile else boto3.session.Session()
    if "region_name" not in options and session.region_name is None:
        options["region_name"] = "us-east-1"  # S3 works from any region; boto3 insists on one
    client = session.client(
        "s3", endpoint_url=endpoint_url, aws_access_key_id=access_key,
        aws_secret_access_key=secret_key, config=config, **options,
    )
    chosen = client.meta.endpoint_url  # boto3's choice when endpoint_url is None: AWS, or one configured for it
    if endpoint_url is None and not _is_https(chosen):
        config = client_config(user_config, settings, threads=threads, endpoint_url=None, signing_url=chosen,
                               min_read_timeout=min_read_timeout)
        client = session.client(
            "s3", endpoint_url=None, aws_access_key_id=access_key,
            aws_secret_access_key=secret_key, config=config, **options,
        )
    if key is not None:
        with _cache_lock:
            if len(_cache) >= _CACHE_SIZE:
                _cache.pop(next(iter(_cache)))
            _cache[key] = client
    return client


def _cache_key(*parts: Any) -> Any:
    *plain, config, options = parts
    try:
        key = (*plain, _config_key(config), tuple(sorted(options.items())))
        hash(key)
    except TypeError:
        return None  # unhashable client options: build a fresh client
    return key


def _config_key(config: BotoConfig) -> Any:
    values = getattr(config, "_user_provided_options", {})
    return tuple(sorted((k, repr(v)) for k, v in values.items()))
