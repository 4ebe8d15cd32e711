"""The core's retry policy ([retry], overridden per backend section) and the typed config accessors."""

from __future__ import annotations

import pytest

from cc_core.config import load_config
from cc_core.errors import AccessDeniedError, ConfigError
from cc_core.retry import RetryCancelled, RetryPolicy


class Flaky(Exception):
    pass


def test_retry_section_configures_the_policy_and_a_backend_section_overrides_it(cc_config_dir):
    (cc_config_dir / "options.cfg").write_text(
        "[retry]\nattempts = 9\nbase_delay = 0.5\nmax_delay = 3\njitter = none\n"
        "[s3]\nmax_attempts = 2\n")
    config = load_config()
    defaults = RetryPolicy(attempts=5, base_delay=0.2, max_delay=5.0, jitter="full")
    assert RetryPolicy.from_config(config, defaults=defaults) == RetryPolicy(9, 0.5, 3.0, "none")
    s3 = RetryPolicy.from_config(config, "s3", defaults=defaults, keys={"attempts": "max_attempts"})
    assert s3 == RetryPolicy(2, 0.5, 3.0, "none")
    assert RetryPolicy.from_config(config, "s3", defaults=defaults, keys={"attempts": "max_attempts"},
                                   attempts=4).attempts == 4


def test_empty_retry_keys_leave_the_backend_defaults(cc_settings):
    defaults = RetryPolicy(attempts=7, base_delay=1.0, max_delay=32.0, jitter="equal")
    assert RetryPolicy.from_config(cc_settings, "gdrive", defaults=defaults) == defaults


def test_s3_and_drive_read_their_policy_from_the_retry_section(cc_config_dir):
    pytest.importorskip("cc_backend_s3")
    from cc_backend_s3.settings import TransferSettings

    (cc_config_dir / "options.cfg").write_text("[retry]\nattempts = 3\nmax_delay = 1.5\n[s3]\nretry_jitter = equal\n")
    config = load_config()
    settings = TransferSettings.from_settings(config)
    assert settings.retry == RetryPolicy(attempts=3, base_delay=0.2, max_delay=1.5, jitter="equal")
    assert (settings.max_attempts, settings.retry_max_delay) == (3, 1.5)  # 0.4-era names keep working


def test_drive_keeps_its_retries_key(cc_config_dir):
    pytest.importorskip("cc_backend_gdrive")
    from cc_backend_gdrive.retry import DRIVE_RETRY, DRIVE_RETRY_KEYS

    (cc_config_dir / "options.cfg").write_text("[retry]\nattempts = 3\n[gdrive]\nretry_delay = 0.25\n")
    policy = RetryPolicy.from_config(load_config(), "gdrive", defaults=DRIVE_RETRY, keys=DRIVE_RETRY_KEYS)
    assert (policy.attempts, policy.base_delay, policy.max_delay, policy.jitter) == (3, 0.25, 32.0, "equal")


@pytest.mark.parametrize("jitter, low, high", [("full", 0.0, 0.8), ("equal", 0.4, 0.8), ("none", 0.8, 0.8)])
def test_backoff_doubles_up_to_the_cap_with_jitter(jitter, low, high):
    policy = RetryPolicy(attempts=5, base_delay=0.1, max_delay=0.8, jitter=jitter)
    for _ in range(50):
        assert low <= policy.delay(3) <= high
    assert policy.delay(10) <= 0.8


def test_call_retries_transient_errors_only_and_counts_attempts():
    policy = RetryPolicy(attempts=3, base_delay=0, max_delay=0)
    calls = []

    def flaky():
        calls.append(1)
        raise Flaky("again")

    with pytest.raises(Flaky) as caught:
        policy.call(flaky, transient=lambda e: isinstance(e, Flaky))
    assert len(calls) == 3 and caught.value.retry_attempts == 3
    calls.clear()
    with pytest.raises(Flaky):
        policy.call(flaky, transient=lambda e: False)
    assert len(calls) == 1


def test_call_stops_when_cancelled():
    import threading

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(RetryCancelled):
        RetryPolicy().call(lambda: 1, transient=lambda e: True, cancel=cancel)


def test_bad_policies_are_config_errors():
    with pytest.raises(ConfigError, match="jitter"):
        RetryPolicy(jitter="sometimes")
    with pytest.raises(ConfigError, match="at least 1"):
        RetryPolicy(attempts=0)


def test_typed_accessors_say_what_a_plain_number_means(cc_config_dir):
    (cc_config_dir / "options.cfg").write_text("[x]\nplain = 8\nunit = 512KB\nratio = 0.25\nbad = lots\n")
    config = load_config()
    assert config.getsize("x", "plain") == 8
    assert config.getsize("x", "plain", unit=1 << 20) == 8 << 20
    assert config.getsize("x", "unit", unit=1 << 20) == 512 << 10
    assert config.getsize("x", "missing", fallback=3) == 3
    assert config.getfloat("x", "ratio") == 0.25
    with pytest.raises(ConfigError, match=r"\[x\] bad"):
        config.getsize("x", "bad")
    with pytest.raises(ConfigError, match=r"\[x\] bad"):
        config.getfloat("x", "bad")


def test_access_denied_is_one_core_error():
    assert issubclass(AccessDeniedError, PermissionError)
    pytest.importorskip("cc_backend_s3")
    from cc_backend_s3.retry import S3AccessError

    assert issubclass(S3AccessError, AccessDeniedError)


def test_drive_403_is_access_denied():
    pytest.importorskip("cc_backend_gdrive")
    import httplib2
    from googleapiclient.errors import HttpError

    from cc_backend_gdrive.retry import translate

    error = HttpError(httplib2.Response({"status": 403}),
                      b'{"error": {"errors": [{"reason": "insufficientFilePermissions"}], "message": "no"}}')
    translated = translate(error, "upload", "/project/x")
    assert isinstance(translated, AccessDeniedError) and "/project/x" in str(translated)
