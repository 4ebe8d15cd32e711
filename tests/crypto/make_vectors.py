"""Write vectors_v2.json: known-answer vectors of the cottoncandy encryption format, version 2 (FORMAT.md).

Run once when the format version changes (``uv run python tests/crypto/make_vectors.py``); the
vectors of a released version must never change: ``vectors.json`` holds version 1's, which this
cottoncandy-crypto reads and no longer writes. Data keys, nonce prefixes and salts are fixed so
that encryption is deterministic; RSA-OAEP is randomized, so its vector is checked by decryption.
"""

from __future__ import annotations

import json
from pathlib import Path

from cc_core.integrity import seal
from cc_core.transform import ObjectPlace
from cc_crypto.format import FLAG_NAME_BOUND, NewObject, binding_metadata, context_of
from cc_crypto.keys import PassphraseKey, RsaKey, ScryptCost, SymmetricKey, format_key_id

MASTER = bytes(range(32))
DATA_KEY = bytes(range(32, 64))
PREFIX = bytes.fromhex("a0a1a2a3a4a5a6")
PLACE = ObjectPlace("a-bucket", "folder/array")
#: What the raw codec and the pipeline write for a (25,) float64 array, and user metadata with a
#: mixed-case key and a non-ASCII value (the context lower-cases keys; values are UTF-8).
ARRAY_METADATA = {"dtype": "<f8", "shape": "25", "order": "C", "cc-codec": "raw", "cc-transforms": "aes-gcm",
                  "compression": "aes-gcm", "Subject": "Zoë"}


def plaintext(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


def vector(name: str, key, size: int, segment_size: int, metadata: dict, bound: bool, **secret) -> dict:
    metadata = dict(metadata)
    new = NewObject.start(key, segment_size, context=context_of(metadata), flags=FLAG_NAME_BOUND if bound else 0,
                          data_key=DATA_KEY, nonce_prefix=PREFIX)
    if bound:
        metadata.update(binding_metadata(new.opened, PLACE))
    seal(metadata)  # cc-digest: outside the context, as cc-checksum would be
    stored = b"".join(bytes(b) for b in new.stream([plaintext(size)]))
    return {"name": name, "plaintext_size": size, "plaintext": "bytes(i % 251 for i in range(size))",
            "segment_size": segment_size, "data_key": DATA_KEY.hex(), "nonce_prefix": PREFIX.hex(),
            "key_id": format_key_id(key.key_id), "metadata": metadata, "place": str(PLACE),
            "name_bound": bound, "stored": stored.hex(), **secret}


def main() -> None:
    from Crypto.PublicKey import RSA

    aes = SymmetricKey(MASTER)
    passphrase = PassphraseKey("correct horse battery staple", cost=ScryptCost(10, 8, 1), salt=bytes(range(100, 116)))
    rsa = RsaKey(RSA.generate(2048))
    vectors = [
        vector("aes-kw, three segments, short last, name-bound", aes, 200, 64, ARRAY_METADATA, True,
               master_key=MASTER.hex()),
        vector("aes-kw, two segments, full last, not bound", aes, 128, 64, ARRAY_METADATA, False,
               master_key=MASTER.hex()),
        vector("aes-kw, empty plaintext, no metadata, not bound", aes, 0, 64, {}, False, master_key=MASTER.hex()),
        vector("scrypt passphrase, two segments, name-bound", passphrase, 100, 64, {"cc-transforms": "aes-gcm"}, True,
               passphrase="correct horse battery staple"),
        vector("rsa-oaep-sha256, decrypt only, name-bound", rsa, 70, 64, ARRAY_METADATA, True,
               private_key_pem=rsa.export()),
    ]
    path = Path(__file__).with_name("vectors_v2.json")
    path.write_text(json.dumps({"format_version": 2, "vectors": vectors}, indent=1, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    print(f"wrote {len(vectors)} vectors to {path}")


if __name__ == "__main__":
    main()
