"""Known-answer vectors pin format version 1; a reader written from FORMAT.md alone decrypts them."""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
from pathlib import Path

import pytest

from cc_crypto.format import encrypt_stream, parse_header
from cc_crypto.keys import PassphraseKey, ScryptCost, SymmetricKey, parse_key
from cc_crypto.transform import AesGcmTransform

VECTORS = json.loads(Path(__file__).with_name("vectors.json").read_text(encoding="utf-8"))["vectors"]


def plaintext(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


def reference_decrypt(stored: bytes, vector: dict) -> bytes:
    """FORMAT.md, followed step by step with pycryptodome primitives and nothing of cc_crypto."""
    from Crypto.Cipher import AES, PKCS1_OAEP
    from Crypto.Hash import SHA256
    from Crypto.Protocol.KDF import scrypt
    from Crypto.PublicKey import RSA

    assert stored[:8] == b"\x89CCENC\r\n" and stored[8] == 1
    algorithm = stored[9]
    (length,) = struct.unpack(">H", stored[10:12])
    (segment_size,) = struct.unpack(">I", stored[12:16])
    prefix, key_id = stored[16:23], stored[23:39]
    (wrapped_size,) = struct.unpack(">H", stored[39:41])
    wrapped = stored[41 : 41 + wrapped_size]
    parameters = stored[41 + wrapped_size : length - 64]
    commitment, mac = stored[length - 64 : length - 32], stored[length - 32 : length]

    def fingerprint(label: bytes, material: bytes) -> bytes:
        return hashlib.sha256(b"cottoncandy/key-id/v1/" + label + b"\x00" + material).digest()[:16]

    if algorithm == 1:
        master = bytes.fromhex(vector["master_key"])
        assert key_id == fingerprint(b"aes-256", master)
        data_key = AES.new(master, AES.MODE_KW).unseal(wrapped)
    elif algorithm == 2:
        pem = "\n".join(line for line in vector["private_key_pem"].splitlines() if not line.startswith("#"))
        private = RSA.import_key(pem)
        assert key_id == fingerprint(b"rsa", private.public_key().export_key(format="DER"))
        data_key = PKCS1_OAEP.new(private, hashAlgo=SHA256).decrypt(wrapped)
    else:
        assert algorithm == 3 and len(parameters) == 19
        salt, (log_n, r, p) = parameters[:16], parameters[16:]
        kek = scrypt(vector["passphrase"].encode(), salt, 32, N=2**log_n, r=r, p=p)
        assert key_id == fingerprint(b"scrypt", fingerprint(b"aes-256", kek))
        data_key = AES.new(kek, AES.MODE_KW).unseal(wrapped)

    def derive(label: bytes) -> bytes:
        return hmac.new(data_key, b"cottoncandy/aes-gcm/v1/" + label, hashlib.sha256).digest()

    assert commitment == derive(b"commitment")
    assert mac == hmac.new(derive(b"header"), stored[: length - 32], hashlib.sha256).digest()
    body, out, index = stored[length:], [], 0
    step = segment_size + 16
    while True:
        sealed = body[index * step : (index + 1) * step]
        last = (index + 1) * step >= len(body)
        nonce = prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")
        cipher = AES.new(derive(b"segment"), AES.MODE_GCM, nonce=nonce)
        out.append(cipher.decrypt_and_verify(sealed[:-16], sealed[-16:]))
        if last:
            return b"".join(out)
        index += 1


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_reference_reader_decrypts_the_vectors(vector):
    assert reference_decrypt(bytes.fromhex(vector["stored"]), vector) == plaintext(vector["plaintext_size"])


def _key(vector):
    if "master_key" in vector:
        return SymmetricKey(bytes.fromhex(vector["master_key"]))
    if "passphrase" in vector:  # the salt and cost that the header records
        parameters = parse_header(bytes.fromhex(vector["stored"])).parameters
        return PassphraseKey(vector["passphrase"], cost=ScryptCost(*parameters[16:]), salt=parameters[:16])
    return parse_key(vector["private_key_pem"])


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_cc_crypto_decrypts_the_vectors(vector):
    key = _key(vector)
    assert key.key_id.hex() == vector["key_id"]
    stored = bytes.fromhex(vector["stored"])
    out = b"".join(bytes(b) for b in AesGcmTransform(key=key).decode([stored]))
    assert out == plaintext(vector["plaintext_size"])


@pytest.mark.parametrize("vector", [v for v in VECTORS if "private_key_pem" not in v], ids=lambda v: v["name"])
def test_encryption_reproduces_the_vectors(vector):
    stored, key = bytes.fromhex(vector["stored"]), _key(vector)
    produced = b"".join(bytes(b) for b in encrypt_stream(
        [plaintext(vector["plaintext_size"])], key, vector["segment_size"],
        data_key=bytes.fromhex(vector["data_key"]), nonce_prefix=bytes.fromhex(vector["nonce_prefix"])))
    assert produced == stored
