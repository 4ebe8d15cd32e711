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

import boto3
from botocore.client import Config as BotoConfig

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


def client_config(user_config: BotoConfig | None, settings: Any, *, threads: int, custom_endpoint: bool) -> BotoConfig:
    """The botocore config: ours, with the caller's settings taking precedence.

    Ours: no botocore retries (the backend retries each request, part and range itself), enough
    pooled connections for the transfer threads, a bounded connect timeout, path-style addressing
    for custom endpoints (what S3-compatible servers expect), and the signature version from
    ``[basic] signature_version`` when the caller's config names none.
    """
    ours: dict[str, Any] = {
        "retries": {"total_max_attempts": 1},
        "max_pool_connections": max(10, 2 * threads),
        "connect_timeout": 3,
        # between two reads of an answer, not for the whole answer; S3 answers within milliseconds
        # and keeps long operations (copies, completions) alive with whitespace
        "read_timeout": 10,
    }
    if custom_endpoint:
        ours["s3"] = {"addressing_style": "path"}
    signature = setting(settings, "basic", "signature_version")
    if signature:
        ours["signature_version"] = signature
    config = BotoConfig(**ours)
    return config.merge(user_config) if user_config is not None else config


def make_client(
    *,
    access_key: str | None,
    secret_key: str | None,
    endpoint_url: str | None,
    settings: Any,
    user_config: BotoConfig | None,
    threads: int,
    client_options: dict[str, Any],
) -> Any:
    """A (cached) boto3 S3 client; ``client_options`` go to ``boto3.client`` as they are,
    except ``profile_name``, which selects the AWS profile of the session."""
    access_key, secret_key = resolve_keys(access_key, secret_key, settings)
    endpoint_url = resolve_endpoint(endpoint_url, settings)
    options = dict(client_options)
    profile = options.pop("profile_name", None)
    config = client_config(user_config, settings, threads=threads, custom_endpoint=bool(endpoint_url))
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
