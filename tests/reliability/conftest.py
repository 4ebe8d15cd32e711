"""Fixtures of the reliability tests: the moto server of ``tests/s3``, a fault proxy in front of it,
and S3 interfaces that talk to moto through the proxy with small parts and quick retries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("cc_backend_s3", reason="the S3 backend plugin is not installed")
pytest.importorskip("moto", reason="moto is needed for the S3 fault tests")

from botocore.client import Config as BotoConfig
from s3.conftest import ACCESS_KEY, SECRET_KEY, SMALL_PART, moto_endpoint, s3_bucket, s3_client  # noqa: F401

from cc_core.interface import CCInterface

from .faultproxy import FaultProxy

#: Transfer settings of proxied interfaces: several parts and ranges for a ~1 MiB array.
TRANSFER = {
    "min_part_size": SMALL_PART, "part_size": SMALL_PART, "multipart_threshold": 2 * SMALL_PART,
    "download_threshold": 2 * SMALL_PART, "download_part_size": SMALL_PART, "threads": 2,
    "max_attempts": 4, "timeout_attempts": 4, "retry_base_delay": 0.01, "retry_max_delay": 0.05,
}


@pytest.fixture(scope="session")
def fault_proxy_server(moto_endpoint: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(moto_endpoint).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def fault_proxy(fault_proxy_server: FaultProxy) -> Iterator[FaultProxy]:
    """The proxy, with no rules and an empty log for this test."""
    fault_proxy_server.reset()
    yield fault_proxy_server
    fault_proxy_server.reset()


@pytest.fixture
def proxied(fault_proxy: FaultProxy, s3_bucket: str, cc_settings: Any):
    """``proxied(**options)``: a CCInterface on ``s3_bucket`` through the proxy (a 1 s read
    timeout, 4 attempts per request with millisecond backoff); options override :data:`TRANSFER`."""

    def make(**options: Any) -> CCInterface:
        settings = {**TRANSFER, **options}
        config = settings.pop("config", BotoConfig(read_timeout=1, connect_timeout=1))
        return CCInterface(s3_bucket, ACCESS_KEY, SECRET_KEY, url=fault_proxy.url, backend="s3",
                           settings=cc_settings, verbose=False, config=config, **settings)

    return make
