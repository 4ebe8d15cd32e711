"""Exceptions raised by cottoncandy.

Every error names the object or component it is about and, where there is one, what the user can
do about it. All of them derive from :class:`CottonCandyError`; the ones that mean "bad argument"
also derive from :class:`ValueError`, and "not found" from :class:`KeyError`-free
:class:`FileNotFoundError`, so callers that caught the builtin types in cottoncandy 0.4 keep working.
"""

from __future__ import annotations


class CottonCandyError(Exception):
    """Base class of every error cottoncandy raises on purpose."""


class ObjectNotFoundError(CottonCandyError, FileNotFoundError):
    """The named object (or bucket) does not exist."""

    def __init__(self, name: str, where: str = "") -> None:
        self.name = name
        location = f" in {where}" if where else ""
        super().__init__(f"Object {name!r} does not exist{location}")

    def __str__(self) -> str:  # FileNotFoundError would format (errno, strerror) otherwise
        return self.args[0]


class ObjectExistsError(CottonCandyError, FileExistsError):
    """The destination of a copy or move exists and ``overwrite`` was not given."""


class BucketNotFoundError(CottonCandyError, FileNotFoundError):
    """The bucket (or root folder) does not exist."""

    def __init__(self, bucket: str, hint: str = "") -> None:
        self.bucket = bucket
        super().__init__(f"Bucket {bucket!r} does not exist" + (f": {hint}" if hint else ""))

    def __str__(self) -> str:
        return self.args[0]


class InvalidNameError(CottonCandyError, ValueError):
    """An object or bucket name is empty, too long, or would escape its root."""


class InvalidArrayError(CottonCandyError, ValueError):
    """An array cannot be stored as asked (object dtype, unsupported layout, ...)."""


class MetadataError(CottonCandyError, ValueError):
    """An object's metadata is missing, malformed, too large, or disagrees with its data."""


class IntegrityError(CottonCandyError):
    """Stored bytes do not match what was written (checksum, size or authentication failure)."""


class ObjectChangedError(CottonCandyError):
    """The object was replaced while it was being read; reading again gets one whole version."""


class AccessDeniedError(CottonCandyError, PermissionError):
    """The store refused the request: access denied (S3's 403, a Drive file the account may not
    touch), or the credentials are wrong or missing. The message says which, and what to check."""

    def __str__(self) -> str:  # PermissionError would format (errno, strerror) otherwise
        return self.args[0]


class ConfigError(CottonCandyError, ValueError):
    """The configuration file or an environment override is invalid."""


class UnknownComponentError(CottonCandyError, KeyError):
    """No installed plugin provides a backend, codec or transform under the asked name."""

    def __str__(self) -> str:
        return self.args[0]


class PluginConflictError(CottonCandyError, LookupError):
    """Two installed plugins register one name and config does not say which one to use."""


class MissingDependencyError(CottonCandyError, ImportError):
    """A component is known but its plugin (or a library it needs) is not installed or is broken."""


class UnsupportedOperationError(CottonCandyError, NotImplementedError):
    """The backend does not offer this operation (see its capability flags)."""


class TransferError(CottonCandyError, OSError):
    """A transfer failed for good after the retries the backend allows."""
