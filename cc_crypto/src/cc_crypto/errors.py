"""Errors of the encryption plugin: each says what is wrong with which object, and what to do.

They derive from cottoncandy's own errors, so ``except IntegrityError`` catches every object that
does not decrypt, and ``except ConfigError`` a missing or unusable key. Errors about an object
carry ``object_name``; the decoder does not know it, the pipeline fills it in (``None`` until then)
and the message then names the object.
"""

from __future__ import annotations

from cc_core.errors import ConfigError, IntegrityError


class _AboutAnObject:
    """A message of the form "Object 'name' <detail>" once the object's name is known."""

    def __init__(self, detail: str, *, key_id: str = "", object_name: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.key_id = key_id
        self.object_name = object_name

    def __str__(self) -> str:
        subject = f"Object {self.object_name!r}" if self.object_name else "The object"
        return f"{subject} {self.detail}"


class DecryptionError(_AboutAnObject, IntegrityError):
    """An encrypted object does not decrypt: damaged, truncated, extended or reordered bytes."""


class NameBindingError(DecryptionError):
    """A name-bound object is read at another name than the one it was sealed for (or its tag is gone)."""


class UnsupportedFormatError(DecryptionError):
    """The object's header names a format version or algorithm this cc-crypto does not read."""


class NotEncryptedError(DecryptionError):
    """Bytes given to the decryptor do not start with a cottoncandy encryption header."""


class KeyMismatchError(DecryptionError):
    """The object was encrypted under a master key that is not available here (``key_id``)."""


class MasterKeyError(ConfigError):
    """A key file or key value cannot be used, or no master key is available."""


class MasterKeyMissingError(_AboutAnObject, MasterKeyError):
    """Decrypting needs a master key (``key_id``) and none is configured."""
