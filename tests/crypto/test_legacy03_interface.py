"""Objects cottoncandy 0.3's get_encrypted_interface wrote read back through today's encrypted
interface, on the local backend and on S3 (moto). The objects are put straight into the folder or
bucket by :mod:`legacy03_writer`, written from the format description, never by our pipeline."""

from __future__ import annotations

import base64
import contextlib
import uuid
import warnings
from pathlib import Path

import numpy as np
import pytest
from legacy03_writer import encrypt_aes, encrypt_rsa, put_local, put_s3, serialise

import cottoncandy as cc
from cc_core.config import load_config
from cc_core.errors import ConfigError, IntegrityError, UnknownComponentError
from cc_crypto.errors import DecryptionError, MasterKeyError
from cc_crypto.legacy03 import UnauthenticatedObjectWarning

with contextlib.suppress(ImportError):  # the S3 suite's moto server and client, where the S3 plugin and moto are installed
    from s3.conftest import moto_endpoint, s3_client  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore::cc_crypto.keys.MasterKeyCreatedWarning")

AES_KEY = bytes(range(100, 132))
RNG = np.random.default_rng(3)
VALUES = {
    "arrays/gzipped": ("raw", RNG.random((40, 30)), "gzip"),
    "arrays/plain": ("raw", RNG.integers(0, 255, (300, 100), dtype=np.uint8), "False"),  # > 64 KiB: 0.3's chunks
    "arrays/scalar": ("raw", np.float64(2.5), "False"),
    "doc.json": ("json", {"subject": "S1", "runs": [1, 2, 3]}, None),
    "arrays/as.npy": ("npy", np.arange(12, dtype="<i4").reshape(3, 4), None),
    "blob": ("bytes", bytes(range(256)) * 300, None),
}


class Store:
    """Where 0.3 objects are put (bypassing cottoncandy) and interfaces are opened, local or S3."""

    def __init__(self, kind: str, request) -> None:
        self.kind = kind
        if kind == "local":
            self.bucket = str(request.getfixturevalue("tmp_path") / "store")
            Path(self.bucket).mkdir()
            self.options = {"backend": "local"}
        else:
            pytest.importorskip("cc_backend_s3", reason="the S3 backend plugin is not installed")
            pytest.importorskip("moto", reason="moto is needed for S3 tests")
            from s3.conftest import ACCESS_KEY, SECRET_KEY, SMALL_PART

            endpoint = request.getfixturevalue("moto_endpoint")
            self.client = request.getfixturevalue("s3_client")
            self.bucket = f"cc-legacy03-{uuid.uuid4().hex[:12]}"
            self.client.create_bucket(Bucket=self.bucket)
            self.options = {"backend": "s3", "ACCESS_KEY": ACCESS_KEY, "SECRET_KEY": SECRET_KEY,
                            "endpoint_url": endpoint, "min_part_size": SMALL_PART}

    def put(self, name: str, body: bytes, metadata: dict[str, str]) -> None:
        if self.kind == "local":
            put_local(self.bucket, name, body, metadata)
        else:
            put_s3(self.client, self.bucket, name, body, metadata)

    def put_03(self, name: str, kind: str, value, compression: str | None = None, *, key: bytes = AES_KEY,
               rsa_public: bytes | None = None) -> None:
        plaintext, metadata = serialise(kind, value, compression or "gzip")
        if rsa_public is None:
            self.put(name, encrypt_aes(plaintext, key), metadata)
        else:
            body, wrapped = encrypt_rsa(plaintext, rsa_public)
            self.put(name, body, {**metadata, "key": wrapped})

    def stored(self, name: str) -> bytes:
        if self.kind == "local":
            return Path(self.bucket, name).read_bytes()
        return self.client.get_object(Bucket=self.bucket, Key=name)["Body"].read()

    def open(self, **options):
        return cc.get_encrypted_interface(self.bucket, settings=load_config(), verbose=False, **self.options, **options)


def read(interface, name: str, kind: str):
    method = {"raw": interface.download_raw_array, "json": interface.download_json,
              "npy": interface.download_npy_array, "bytes": interface.download_object}[kind]
    return method(name)


def check(value, got) -> None:
    if isinstance(value, (np.ndarray, np.generic)):
        np.testing.assert_array_equal(got, value)
        assert got.dtype == np.asarray(value).dtype
    else:
        assert got == value


@pytest.fixture(params=["local", "s3"])
def store(request, cc_config_dir):
    return Store(request.param, request)


@pytest.fixture(scope="module")
def rsa_files(tmp_path_factory):
    from Crypto.PublicKey import RSA

    folder = tmp_path_factory.mktemp("rsa")
    key = RSA.generate(2048)
    (folder / "private.pem").write_bytes(key.export_key())
    (folder / "public.pem").write_bytes(key.publickey().export_key())
    return folder / "private.pem", folder / "public.pem"


def configure_03_key(cc_config_dir: Path, key: bytes = AES_KEY, *, py3_repr: bool = False) -> None:
    """0.3's options.cfg: ``[encryption] method = AES`` and the key, base64."""
    text = base64.b64encode(key).decode()
    text = f"b'{text}'" if py3_repr else text
    path = cc_config_dir / "options.cfg"
    path.write_text(f"[encryption]\nmethod = AES\nkey = {text}\n")
    path.chmod(0o600)


@pytest.mark.parametrize("py3_repr", [False, True], ids=["base64", "py3-bytes-repr"])
def test_03_aes_objects_read_with_the_key_in_options_cfg(store, cc_config_dir, py3_repr):
    configure_03_key(cc_config_dir, py3_repr=py3_repr)
    for name, (kind, value, compression) in VALUES.items():
        store.put_03(name, kind, value, compression)
    cci = store.open()
    for name, (kind, value, _) in VALUES.items():
        with pytest.warns(UnauthenticatedObjectWarning, match=rf"{name!r}.*cottoncandy key migrate"):
            check(value, read(cci, name, kind))


def test_warning_once_per_object_and_new_writes_are_current(store, cc_config_dir):
    configure_03_key(cc_config_dir)
    store.put_03("doc.json", "json", {"a": 1})
    cci = store.open()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            assert cci.download_json("doc.json") == {"a": 1}
    assert [w.category for w in caught] == [UnauthenticatedObjectWarning]
    cci.upload_json("new.json", {"b": 2})
    assert store.stored("new.json")[:8] == b"\x89CCENC\r\n"  # never the 0.3 format
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnauthenticatedObjectWarning)
        assert cci.download_json("new.json") == {"b": 2}


def test_03_signature_aes_key_given_explicitly(store):
    store.put_03("arrays/gzipped", "raw", VALUES["arrays/gzipped"][1], "gzip", key=bytes(range(16)))
    for given in (bytes(range(16)), base64.b64encode(bytes(range(16))).decode()):
        cci = store.open(encryption="AES", encryptionKey=given)
        with pytest.warns(UnauthenticatedObjectWarning):
            check(VALUES["arrays/gzipped"][1], cci.download_raw_array("arrays/gzipped"))


def test_03_signature_rsa_key_file(store, rsa_files):
    private, public = rsa_files
    for name, (kind, value, compression) in VALUES.items():
        store.put_03(name, kind, value, compression, rsa_public=public.read_bytes())
    cci = store.open(encryption="RSA", encryptionKey=str(private))
    for name, (kind, value, _) in VALUES.items():
        with pytest.warns(UnauthenticatedObjectWarning):
            check(value, read(cci, name, kind))
    cci.upload_object("new", b"written now")
    assert store.stored("new")[:8] == b"\x89CCENC\r\n"
    assert cci.download_object("new") == b"written now"


def test_wrong_aes_key_is_an_error_naming_the_object(store):
    store.put_03("arrays/gzipped", "raw", VALUES["arrays/gzipped"][1], "gzip")
    store.put_03("blob", "bytes", VALUES["blob"][1])
    cci = store.open(encryption="AES", encryptionKey=bytes(32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnauthenticatedObjectWarning)
        for name, method in (("arrays/gzipped", cci.download_raw_array), ("blob", cci.download_object)):
            with pytest.raises(DecryptionError, match=rf"Object {name!r} .*wrong key"):
                method(name)


def test_damaged_03_object_is_an_error(store, cc_config_dir):
    configure_03_key(cc_config_dir)
    body = bytearray(encrypt_aes(b"x" * 1000, AES_KEY))
    body[-3] ^= 0x40  # the length field
    store.put("damaged", bytes(body), {})
    store.put("truncated", encrypt_aes(b"x" * 1000, AES_KEY)[:-5], {})
    cci = store.open()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnauthenticatedObjectWarning)
        with pytest.raises(DecryptionError, match="'damaged' .*damaged"):
            cci.download_object("damaged")
        with pytest.raises(DecryptionError, match="'truncated' .*truncated"):
            cci.download_object("truncated")


def test_without_a_03_key_the_error_says_which_key_to_give(store, rsa_files):
    store.put_03("aes-object", "bytes", b"abc")
    store.put_03("rsa-object", "bytes", b"abc", rsa_public=rsa_files[1].read_bytes())
    cci = store.open()
    with pytest.raises(IntegrityError, match=r"'aes-object'.*encryptionKey="):
        cci.download_object("aes-object")
    with pytest.raises(IntegrityError, match=r"'rsa-object'.*encryption='RSA'"):
        cci.download_object("rsa-object")
    aes_only = store.open(encryption="AES", encryptionKey=AES_KEY)
    with pytest.raises(ConfigError, match=r"'rsa-object'.*encryption='RSA'"):
        aes_only.download_object("rsa-object")


def test_03_signature_mistakes_fail_at_once(store, rsa_files):
    with pytest.raises(MasterKeyError, match="16, 24 or 32"):
        store.open(encryption="AES", encryptionKey=b"too short")
    with pytest.raises(MasterKeyError, match="encryptionKey="):
        store.open(encryption="RSA")
    with pytest.raises(MasterKeyError, match="public.pem.*private key"):
        store.open(encryption="RSA", encryptionKey=str(rsa_files[1]))
    with pytest.raises(MasterKeyError, match="nowhere.pem"):
        store.open(encryption="RSA", encryptionKey="/nowhere.pem")
    with pytest.raises(TypeError, match="encryption='AES'.*key="):
        store.open(encryptionKey=AES_KEY)
    with pytest.raises(UnknownComponentError, match="aes-gcm"):
        store.open(encryption="DES")
