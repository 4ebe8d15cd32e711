"""cc_crypto: client-side encryption for cottoncandy.

``cc.get_encrypted_interface(...)`` encrypts every object before it leaves the machine with the
``aes-gcm`` transform registered here: a fresh data key per object, wrapped by your master key,
and AES-256-GCM in authenticated segments. The format is described in FORMAT.md.

Names are imported on first use, so that loading the plugin imports neither pycryptodome (the key
wrapping) nor cryptography (OpenSSL's AES-GCM, which seals the segments).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AesGcmTransform": "transform", "read_range": "transform", "seal_of": "transform", "pin": "transform",
    "UnauthenticatedMetadataWarning": "transform", "NameBindingError": "errors",
    "KeyRing": "keys", "MasterKey": "keys", "SymmetricKey": "keys", "RsaKey": "keys",
    "PassphraseKey": "keys", "ScryptCost": "keys", "parse_key": "keys", "MasterKeyCreatedWarning": "keys",
    "DecryptionError": "errors", "KeyMismatchError": "errors", "MasterKeyError": "errors",
    "MasterKeyMissingError": "errors", "NotEncryptedError": "errors", "UnsupportedFormatError": "errors",
    "Legacy03Transform": "legacy03", "UnauthenticatedObjectWarning": "legacy03",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
