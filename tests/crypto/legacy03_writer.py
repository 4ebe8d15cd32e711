"""cottoncandy 0.3's encrypted objects, written from the format description alone.

``FORMATS-cottoncandy-0.4.md`` ("Encrypted objects of cottoncandy 0.3") and 0.3's ``Encryption.py``
(``AESEncryption.encrypt_stream``) followed step by step with pycryptodome, as 0.3 itself used it,
and nothing of cc_crypto: the reader under test never reads bytes it produced itself. The helpers
put objects straight into a local folder or an S3 bucket, bypassing cottoncandy's pipeline.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

CHUNK_SIZE = 64 * 1024  # 0.3 encrypted in 64 KiB chunks of one CBC stream


def encrypt_aes(plaintext: bytes, key: bytes, iv: bytes | None = None) -> bytes:
    """IV, then AES-CBC of ``plaintext || b' ' * pad || uint64_le(len(plaintext))``, chunk by chunk."""
    from Crypto.Cipher import AES

    iv = os.urandom(16) if iv is None else iv
    encryptor = AES.new(key, AES.MODE_CBC, iv)
    stream, out = io.BytesIO(plaintext), [iv]
    while True:
        chunk = stream.read(CHUNK_SIZE)
        if len(chunk) == 0 or len(chunk) % 16:
            pad = 16 - (len(chunk) + 8) % 16
            out.append(encryptor.encrypt(chunk + b" " * pad + struct.pack("<Q", len(plaintext))))
            return b"".join(out)
        out.append(encryptor.encrypt(chunk))


def encrypt_rsa(plaintext: bytes, public_pem: bytes, data_key: bytes | None = None,
                iv: bytes | None = None) -> tuple[bytes, str]:
    """The body under a fresh AES-256 key, and that key RSA-OAEP(SHA-1)-wrapped, base64: the ``key`` metadata."""
    from Crypto.Cipher import PKCS1_OAEP
    from Crypto.PublicKey import RSA

    data_key = os.urandom(32) if data_key is None else data_key
    wrapped = PKCS1_OAEP.new(RSA.import_key(public_pem)).encrypt(data_key)
    return encrypt_aes(plaintext, data_key, iv), base64.b64encode(wrapped).decode("ascii")


def serialise(kind: str, value: Any, compression: str = "gzip") -> tuple[bytes, dict[str, str]]:
    """What 0.3 encrypted for each upload method, and the metadata it stored in clear."""
    if kind == "raw":
        array = np.ascontiguousarray(value)
        body = gzip.compress(array.tobytes(), 9) if compression == "gzip" else array.tobytes()
        return body, {"dtype": array.dtype.str, "shape": ",".join(map(str, array.shape)),
                      "compression": compression, "order": "C"}
    if kind == "json":
        return json.dumps(value).encode("utf-8"), {}
    if kind == "npy":
        buffer = io.BytesIO()
        np.save(buffer, value)
        return buffer.getvalue(), {}
    assert kind == "bytes"
    return bytes(value), {}


def put_local(root: str | Path, name: str, body: bytes, metadata: dict[str, str]) -> None:
    """An object of the local backend: the file ``NAME`` and ``NAME.meta.json`` beside it."""
    path = Path(root, *name.split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    Path(f"{path}.meta.json").write_text(json.dumps(metadata), encoding="utf-8")


def put_s3(client: Any, bucket: str, name: str, body: bytes, metadata: dict[str, str]) -> None:
    """An S3 object with user metadata (``x-amz-meta-*``), as 0.3's ``upload_stream`` put it."""
    client.put_object(Bucket=bucket, Key=name, Body=body, Metadata=metadata)
