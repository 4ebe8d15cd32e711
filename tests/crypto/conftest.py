"""Fixtures of the encryption tests: keys, and encrypted interfaces on the local and memory backends."""

from __future__ import annotations

import uuid

import pytest

import cottoncandy as cc
from cc_crypto.keys import PassphraseKey, RsaKey, ScryptCost, SymmetricKey


@pytest.fixture(autouse=True)
def _no_key_from_the_environment(monkeypatch):
    """Keys come only from what each test sets up, never from the developer's shell."""
    for variable in ("CC_ENCRYPTION_MASTER_KEY", "CC_ENCRYPTION_PASSPHRASE", "CC_ENCRYPTION_KEY_FILE",
                     "CC_ENCRYPTION_SEGMENT_SIZE", "CC_PIPELINE_TRANSFORMS"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(scope="session")
def rsa_private():
    from Crypto.PublicKey import RSA

    return RsaKey(RSA.generate(2048))


@pytest.fixture(params=["aes", "rsa", "passphrase"])
def master_key(request, rsa_private):
    """One master key of each kind (the passphrase at a cheap scrypt cost)."""
    if request.param == "aes":
        return SymmetricKey.generate()
    if request.param == "rsa":
        return rsa_private
    return PassphraseKey("a passphrase for tests", cost=ScryptCost(log_n=10))


@pytest.fixture(params=["local", "memory"])
def backend_name(request):
    return request.param


@pytest.fixture
def make_interface(tmp_path, cc_settings, backend_name):
    """``make_interface(encrypted=True, **options)``: an interface on one shared bucket of the backend."""
    bucket = str(tmp_path / "store") if backend_name == "local" else f"test-{uuid.uuid4().hex}"

    def make(encrypted: bool = True, **options):
        factory = cc.get_encrypted_interface if encrypted else cc.get_interface
        return factory(bucket, backend=backend_name, force_bucket_creation=True, settings=cc_settings,
                       verbose=False, **options)

    return make


@pytest.fixture
def encrypted(make_interface):
    return make_interface()
