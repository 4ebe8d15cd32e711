"""Known answers for cottoncandy 0.3's AES-CBC objects: cc_crypto.legacy03 decrypts them, and refuses
wrong keys and damaged bytes with an error instead of returning garbage."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from cc_crypto.errors import DecryptionError, MasterKeyError
from cc_crypto.legacy03 import Legacy03Keys, decrypt_aes, parse_aes_key, read_rsa_key

VECTORS = json.loads(Path(__file__).with_name("legacy03_vectors.json").read_text(encoding="utf-8"))["vectors"]
AES_VECTORS = [v for v in VECTORS if v["method"] == "AES"]
RSA_VECTORS = [v for v in VECTORS if v["method"] == "RSA"]


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def decrypt(stored: bytes, key: bytes, chunk_size: int = 1 << 20) -> bytes:
    return b"".join(bytes(c) for c in decrypt_aes(chunked(stored, chunk_size), key))


@pytest.mark.parametrize("vector", AES_VECTORS, ids=lambda v: v["name"])
@pytest.mark.parametrize("chunk_size", [1, 7, 16, 1 << 20])
def test_aes_vectors_decrypt(vector, chunk_size):
    stored = bytes.fromhex(vector["stored"])
    assert stored[:16] == bytes.fromhex(vector["iv"])
    assert decrypt(stored, bytes.fromhex(vector["key"]), chunk_size) == bytes.fromhex(vector["plaintext"])


@pytest.mark.parametrize("vector", RSA_VECTORS, ids=lambda v: v["name"])
def test_rsa_vectors_decrypt(vector, tmp_path):
    key_file = tmp_path / "rsa.pem"
    key_file.write_text(vector["private_key_pem"])
    keys = Legacy03Keys(rsa_key=read_rsa_key(key_file), rsa_source=str(key_file))
    data_key = keys.data_key({"key": vector["metadata_key"]})
    assert data_key == bytes.fromhex(vector["data_key"])
    assert decrypt(bytes.fromhex(vector["stored"]), data_key) == bytes.fromhex(vector["plaintext"])


def test_rsa_key_in_drive_property_chunks(tmp_path):
    """0.3's Drive client stored the wrapped key in 96-character properties keyChunk0, keyChunk1, ..."""
    vector = RSA_VECTORS[0]
    key_file = tmp_path / "rsa.pem"
    key_file.write_text(vector["private_key_pem"])
    wrapped = vector["metadata_key"]
    parts = [wrapped[i : i + 96] for i in range(0, len(wrapped), 96)]
    metadata = {"key": "in chunks", "keyChunks": str(len(parts)), **{f"keyChunk{i}": p for i, p in enumerate(parts)}}
    keys = Legacy03Keys(rsa_key=read_rsa_key(key_file))
    assert keys.data_key(metadata) == bytes.fromhex(vector["data_key"])
    assert keys.data_key({k.lower(): v for k, v in metadata.items()}) == bytes.fromhex(vector["data_key"])  # S3 lower-cases


@pytest.mark.parametrize("vector", AES_VECTORS, ids=lambda v: v["name"])
def test_wrong_key_is_an_error_not_garbage(vector):
    wrong = bytes(reversed(bytes.fromhex(vector["key"])))
    with pytest.raises(DecryptionError, match="wrong key|damaged"):
        decrypt(bytes.fromhex(vector["stored"]), wrong)


@pytest.mark.parametrize("position", [-1, -9, -17, 15])
def test_damaged_padding_or_length_is_an_error(position):
    vector = AES_VECTORS[0]
    stored = bytearray.fromhex(vector["stored"])
    stored[position] ^= 0x01  # the last block (length field, spaces) or the IV of a one-block tail
    if position == 15:  # a flipped IV bit flips the first plaintext block: CBC cannot notice that
        assert decrypt(bytes(stored), bytes.fromhex(vector["key"])) != bytes.fromhex(vector["plaintext"])
        return
    with pytest.raises(DecryptionError, match="unauthenticated|damaged"):
        decrypt(bytes(stored), bytes.fromhex(vector["key"]))


@pytest.mark.parametrize("cut", [1, 16, 17])
def test_truncated_or_short_objects_are_errors(cut):
    vector = AES_VECTORS[1]
    stored = bytes.fromhex(vector["stored"])
    with pytest.raises(DecryptionError, match="0.3"):
        decrypt(stored[:-cut], bytes.fromhex(vector["key"]))
    with pytest.raises(DecryptionError, match="0.3"):
        decrypt(stored[:20], bytes.fromhex(vector["key"]))


def test_aes_keys_as_0_3_stored_them():
    key = bytes(range(32))
    text = base64.b64encode(key).decode()
    assert parse_aes_key(key) == key
    assert parse_aes_key(text) == key
    assert parse_aes_key(f"b'{text}'") == key  # 0.3 on Python 3 wrote str(b64encode(key))
    for bad in (b"short", "not base64!", base64.b64encode(b"x" * 20).decode()):
        with pytest.raises(MasterKeyError, match="16, 24 or 32"):
            parse_aes_key(bad)


def test_rsa_key_file_errors_name_the_file(tmp_path):
    from Crypto.PublicKey import RSA

    public = tmp_path / "public.pem"
    public.write_bytes(RSA.generate(2048).publickey().export_key())
    with pytest.raises(MasterKeyError, match="public.pem.*private"):
        read_rsa_key(public)
    with pytest.raises(MasterKeyError, match="missing.pem"):
        read_rsa_key(tmp_path / "missing.pem")
