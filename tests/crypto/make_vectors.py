"""Write vectors.json: known-answer vectors of the cottoncandy encryption format (FORMAT.md).

Run once when the format version changes (``uv run python tests/crypto/make_vectors.py``); the
vectors of a released version must never change. Data keys, nonce prefixes and salts are fixed so
that encryption is deterministic; RSA-OAEP is randomized, so its vector is checked by decryption.
"""

from __future__ import annotations

import json
from pathlib import Path

from cc_crypto.format import encrypt_stream
from cc_crypto.keys import PassphraseKey, RsaKey, ScryptCost, SymmetricKey, format_key_id

MASTER = bytes(range(32))
DATA_KEY = bytes(range(32, 64))
PREFIX = bytes.fromhex("a0a1a2a3a4a5a6")


def plaintext(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


def vector(name: str, key, size: int, segment_size: int, **secret) -> dict:
    stored = b"".join(bytes(b) for b in encrypt_stream([plaintext(size)], key, segment_size,
                                                       data_key=DATA_KEY, nonce_prefix=PREFIX))
    return {"name": name, "plaintext_size": size, "plaintext": "bytes(i % 251 for i in range(size))",
            "segment_size": segment_size, "data_key": DATA_KEY.hex(), "nonce_prefix": PREFIX.hex(),
            "key_id": format_key_id(key.key_id), "stored": stored.hex(), **secret}


def main() -> None:
    from Crypto.PublicKey import RSA

    aes = SymmetricKey(MASTER)
    passphrase = PassphraseKey("correct horse battery staple", cost=ScryptCost(10, 8, 1), salt=bytes(range(100, 116)))
    rsa = RsaKey(RSA.generate(2048))
    vectors = [
        vector("aes-kw, three segments, short last", aes, 150, 64, master_key=MASTER.hex()),
        vector("aes-kw, two segments, full last", aes, 128, 64, master_key=MASTER.hex()),
        vector("aes-kw, empty plaintext", aes, 0, 64, master_key=MASTER.hex()),
        vector("scrypt passphrase, two segments", passphrase, 100, 64,
               passphrase="correct horse battery staple"),
        vector("rsa-oaep-sha256, decrypt only", rsa, 70, 64, private_key_pem=rsa.export()),
    ]
    path = Path(__file__).with_name("vectors.json")
    path.write_text(json.dumps({"format_version": 1, "vectors": vectors}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(vectors)} vectors to {path}")


if __name__ == "__main__":
    main()
