"""An endpoint that accepts connections and never answers: the error comes within a bound set by
the timeouts and names the endpoint, and in a terminal each retry says what timed out."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest
from botocore.client import Config as BotoConfig

from cc_backend_s3 import retry
from cc_backend_s3.backend import S3Backend
from cc_backend_s3.client import client_config
from cc_backend_s3.settings import TransferSettings
from cc_core.errors import TransferError


@pytest.fixture
def silent_endpoint():
    """``http://127.0.0.1:<port>`` of a server that accepts every connection and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stopping.set()
    listener.close()
    for connection in held:
        connection.close()


def test_default_timeouts_bound_the_silence_well_under_a_minute():
    config = client_config(None, None, threads=4, endpoint_url="http://127.0.0.1:9")
    settings = TransferSettings()
    tries = min(settings.max_attempts, settings.timeout_attempts)
    backoff = sum(min(settings.retry_max_delay, settings.retry_base_delay * 2 ** n) for n in range(tries - 1))
    assert (config.connect_timeout + config.read_timeout) * tries + backoff < 45


def test_a_silent_endpoint_fails_in_bounded_time_naming_it(silent_endpoint, cc_settings, caplog, monkeypatch):
    monkeypatch.setattr(retry, "in_terminal", lambda: True)
    caplog.set_level(logging.INFO, logger="cc_backend_s3")
    started = time.monotonic()
    with pytest.raises(TransferError, match=rf"(?s)failed after 3 attempts.*{silent_endpoint}"):
        S3Backend("some-bucket", settings=cc_settings, access_key="a", secret_key="b", endpoint_url=silent_endpoint,
                  config=BotoConfig(read_timeout=0.5, connect_timeout=0.5), retry_base_delay=0.01)
    assert time.monotonic() - started < 3 * 0.5 + 2
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(said) == 2, said
    assert all("some-bucket" in line and "timed out" in line and "retry" in line for line in said), said


def test_retries_are_quiet_outside_a_terminal(silent_endpoint, cc_settings, caplog, monkeypatch):
    monkeypatch.setattr(retry, "in_terminal", lambda: False)
    caplog.set_level(logging.INFO, logger="cc_backend_s3")
    with pytest.raises(TransferError):
        S3Backend("some-bucket", settings=cc_settings, access_key="a", secret_key="b", endpoint_url=silent_endpoint,
                  config=BotoConfig(read_timeout=0.3, connect_timeout=0.3), retry_base_delay=0.01)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len([r for r in caplog.records if "timed out" in r.getMessage()]) == 2
