"""Known-answer vectors pin format versions 1 (``vectors.json``, read only) and 2 (``vectors_v2.json``);
a reader written from FORMAT.md alone decrypts them, checking version 2's metadata and name tag."""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
import warnings
from pathlib import Path

import pytest

from cc_core.transform import ObjectPlace
from cc_crypto.format import FLAG_NAME_BOUND, NewObject, binding_metadata, context_of, parse_header
from cc_crypto.keys import PassphraseKey, ScryptCost, SymmetricKey, parse_key
from cc_crypto.transform import AesGcmTransform


def _load(file: str, version: int) -> list[dict]:
    vectors = json.loads(Path(__file__).with_name(file).read_text(encoding="utf-8"))["vectors"]
    return [{**vector, "version": version} for vector in vectors]


V1_VECTORS = _load("vectors.json", 1)
V2_VECTORS = _load("vectors_v2.json", 2)
VECTORS = V1_VECTORS + V2_VECTORS


class Refused(Exception):
    """The reference reader refuses the object."""


def reference_context(metadata: dict) -> bytes:
    """FORMAT.md's canonical encoding of the metadata, written independently of cc_crypto."""
    skipped = {"cc-digest", "cc-checksum", "cc-name-tag", "cc-sealed-for"}
    entries = sorted((k.encode().lower(), v.encode()) for k, v in metadata.items() if k.lower() not in skipped)
    out = struct.pack(">I", len(entries))
    for key, value in entries:
        out += struct.pack(">I", len(key)) + key + struct.pack(">I", len(value)) + value
    return out


def plaintext(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


def reference_decrypt(stored: bytes, vector: dict, metadata: dict | None = None, place: str | None = None) -> bytes:
    """FORMAT.md, followed step by step with pycryptodome primitives and nothing of cc_crypto.

    ``metadata`` and ``place``: the object's metadata and bucket/name (default: the vector's).
    """
    from Crypto.Cipher import AES, PKCS1_OAEP
    from Crypto.Hash import SHA256
    from Crypto.Protocol.KDF import scrypt
    from Crypto.PublicKey import RSA

    metadata = vector.get("metadata", {}) if metadata is None else metadata
    place = vector.get("place", "") if place is None else place
    version = stored[8]
    assert stored[:8] == b"\x89CCENC\r\n" and version in (1, 2)
    algorithm = stored[9]
    (length,) = struct.unpack(">H", stored[10:12])
    (segment_size,) = struct.unpack(">I", stored[12:16])
    prefix, key_id = stored[16:23], stored[23:39]
    (wrapped_size,) = struct.unpack(">H", stored[39:41])
    wrapped = stored[41 : 41 + wrapped_size]
    flags_size = 1 if version == 2 else 0
    parameters = stored[41 + wrapped_size : length - 64 - flags_size]
    flags = stored[length - 65] if version == 2 else 0
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
        return hmac.new(data_key, b"cottoncandy/aes-gcm/v%d/" % version + label, hashlib.sha256).digest()

    assert commitment == derive(b"commitment")
    context = reference_context(metadata) if version == 2 else b""
    if mac != hmac.new(derive(b"header"), stored[: length - 32] + context, hashlib.sha256).digest():
        raise Refused("header or metadata")
    if flags & 1:
        identity = place.encode()
        expected = hmac.new(derive(b"name"), struct.pack(">I", len(identity)) + identity + mac, hashlib.sha256)
        lowered = {k.lower(): v for k, v in metadata.items()}
        if lowered.get("cc-name-tag") != expected.hexdigest():
            raise Refused("name")
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


@pytest.mark.parametrize("vector", VECTORS, ids=[f"v{v['version']}: {v['name']}" for v in VECTORS])
def test_reference_reader_decrypts_the_vectors(vector):
    assert reference_decrypt(bytes.fromhex(vector["stored"]), vector) == plaintext(vector["plaintext_size"])
    assert bytes.fromhex(vector["stored"])[8] == vector["version"]


@pytest.mark.parametrize("vector", V2_VECTORS, ids=[v["name"] for v in V2_VECTORS])
def test_the_reference_reader_refuses_edits_and_other_names(vector):
    stored = bytes.fromhex(vector["stored"])
    for key in [*vector["metadata"], "added"]:
        if key in ("cc-digest", "cc-checksum", "cc-sealed-for"):
            continue  # outside the context (cc-name-tag is checked by the name binding)
        edited = {**vector["metadata"], key: vector["metadata"].get(key, "") + "x"}
        if key == "cc-name-tag" and not vector["name_bound"]:
            continue
        with pytest.raises(Refused):
            reference_decrypt(stored, vector, metadata=edited)
    if vector["name_bound"]:
        with pytest.raises(Refused, match="name"):
            reference_decrypt(stored, vector, place="a-bucket/another")
    else:
        assert reference_decrypt(stored, vector, place="a-bucket/another") == plaintext(vector["plaintext_size"])


def _key(vector):
    if "master_key" in vector:
        return SymmetricKey(bytes.fromhex(vector["master_key"]))
    if "passphrase" in vector:  # the salt and cost that the header records
        parameters = parse_header(bytes.fromhex(vector["stored"])).parameters
        return PassphraseKey(vector["passphrase"], cost=ScryptCost(*parameters[16:]), salt=parameters[:16])
    return parse_key(vector["private_key_pem"])


PLACE = ObjectPlace("a-bucket", "folder/array")


@pytest.mark.parametrize("vector", VECTORS, ids=[f"v{v['version']}: {v['name']}" for v in VECTORS])
def test_cc_crypto_decrypts_the_vectors(vector):
    key = _key(vector)
    assert key.key_id.hex() == vector["key_id"]
    stored = bytes.fromhex(vector["stored"])
    reader = AesGcmTransform(key=key).for_reading(vector.get("metadata", {}), PLACE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # version 1's warning
        out = b"".join(bytes(b) for b in reader.decode([stored]))
    assert out == plaintext(vector["plaintext_size"])


@pytest.mark.parametrize("vector", [v for v in V2_VECTORS if "private_key_pem" not in v], ids=lambda v: v["name"])
def test_encryption_reproduces_the_vectors(vector):
    stored, key = bytes.fromhex(vector["stored"]), _key(vector)
    metadata = {k: v for k, v in vector["metadata"].items() if k not in ("cc-digest", "cc-name-tag", "cc-sealed-for")}
    new = NewObject.start(key, vector["segment_size"], context=context_of(metadata),
                          flags=FLAG_NAME_BOUND if vector["name_bound"] else 0,
                          data_key=bytes.fromhex(vector["data_key"]), nonce_prefix=bytes.fromhex(vector["nonce_prefix"]))
    assert b"".join(bytes(b) for b in new.stream([plaintext(vector["plaintext_size"])])) == stored
    if vector["name_bound"]:
        assert binding_metadata(new.opened, PLACE).items() <= vector["metadata"].items()
