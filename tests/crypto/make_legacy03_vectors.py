"""Write legacy03_vectors.json: known answers for cottoncandy 0.3's encrypted objects.

0.3's format is frozen, so these never change; run this only to rebuild the file
(``uv run python tests/crypto/make_legacy03_vectors.py``). Keys and IVs are fixed so the AES
vectors are deterministic; RSA-OAEP is randomized, so the RSA vectors are checked by decryption.
The bytes come from :mod:`legacy03_writer` (pycryptodome, from the format description).
"""

from __future__ import annotations

import json
from pathlib import Path

from legacy03_writer import encrypt_aes, encrypt_rsa

IV = bytes(range(0xA0, 0xB0))


def plaintext(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


def aes_vector(name: str, key: bytes, size: int) -> dict:
    text = plaintext(size)
    return {"name": name, "method": "AES", "key": key.hex(), "iv": IV.hex(), "plaintext": text.hex(),
            "stored": encrypt_aes(text, key, IV).hex()}


def main() -> None:
    from Crypto.PublicKey import RSA

    rsa = RSA.generate(2048)
    private_pem = rsa.export_key().decode("ascii")  # PKCS#1 PEM, as 0.3's exportKey() wrote it
    data_key = bytes(range(64, 96))
    vectors = [
        aes_vector("AES-256, 20 bytes: 4 spaces of padding", bytes(range(32)), 20),
        aes_vector("AES-256, 32 bytes: a multiple of 16, 8 spaces", bytes(range(32)), 32),
        aes_vector("AES-256, 8 bytes: 16 spaces, the most padding", bytes(range(32)), 8),
        aes_vector("AES-256, 7 bytes: 1 space, the least padding", bytes(range(32)), 7),
        aes_vector("AES-256, empty plaintext", bytes(range(32)), 0),
        aes_vector("AES-128, 40 bytes", bytes(range(16)), 40),
        aes_vector("AES-192, 100 bytes", bytes(range(24)), 100),
    ]
    for size in (50, 0):
        text = plaintext(size)
        stored, wrapped = encrypt_rsa(text, rsa.publickey().export_key(), data_key, IV)
        vectors.append({"name": f"RSA-OAEP-SHA1 wrapped AES-256, {size} bytes", "method": "RSA",
                        "private_key_pem": private_pem, "metadata_key": wrapped, "data_key": data_key.hex(),
                        "iv": IV.hex(), "plaintext": text.hex(), "stored": stored.hex()})
    path = Path(__file__).with_name("legacy03_vectors.json")
    path.write_text(json.dumps({"format": "cottoncandy 0.3 get_encrypted_interface", "vectors": vectors},
                               indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(vectors)} vectors to {path}")


if __name__ == "__main__":
    main()
