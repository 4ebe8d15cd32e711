"""Object names and URLs: validation and splitting.

An object name is a ``/``-separated relative path. A leading ``/`` is accepted and dropped, as
cottoncandy 0.4 did (``cci.glob('/path/to/*')``). Names that could mean two objects or escape a
root folder are refused before anything is written.
"""

from __future__ import annotations

from .errors import InvalidNameError

MAX_NAME_BYTES = 1024


def object_name(name: str) -> str:
    """Validate and normalise the name of one object.

    Raises
    ------
    InvalidNameError
        The name is not a string, is empty or only slashes, ends with ``/``, has an empty, ``.``
        or ``..`` segment, contains a NUL byte, or is longer than 1,024 UTF-8 bytes.
    """
    if not isinstance(name, str):
        raise InvalidNameError(f"An object name must be a string, not {type(name).__name__}: {name!r}")
    stripped = name.lstrip("/")
    if not stripped:
        raise InvalidNameError(f"Object name {name!r} is empty: give the object a name such as 'data/a'")
    if stripped.endswith("/"):
        raise InvalidNameError(f"Object name {name!r} ends with '/', which names a folder, not an object")
    _check_segments(name, stripped)
    return stripped


def prefix_name(prefix: str) -> str:
    """Validate a listing prefix: like an object name, but may be empty or end with ``/``."""
    if not isinstance(prefix, str):
        raise InvalidNameError(f"A prefix must be a string, not {type(prefix).__name__}")
    stripped = prefix.lstrip("/")
    body = stripped.rstrip("/")
    if body:
        _check_segments(prefix, body)
    return stripped


def _check_segments(original: str, stripped: str) -> None:
    if "\x00" in stripped:
        raise InvalidNameError(f"Object name {original!r} contains a NUL byte")
    if len(stripped.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise InvalidNameError(
            f"Object name {original[:60]!r}... is longer than {MAX_NAME_BYTES} bytes in UTF-8"
        )
    for segment in stripped.split("/"):
        if segment in ("", ".", ".."):
            shown = segment or "an empty segment ('//')"
            raise InvalidNameError(
                f"Object name {original!r} has {shown!r} in it; names are plain paths without "
                "'.', '..' or '//'"
            )


def join(*parts: str) -> str:
    """Join name parts with single slashes (``join('a/', '/b') == 'a/b'``)."""
    return "/".join(part.strip("/") for part in parts if part.strip("/"))


def split_url(url: str) -> tuple[str, str, str]:
    """Split ``scheme://bucket/key`` into ``(scheme, bucket, key)``; ``("", "", url)`` if no URL."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return "", "", url
    bucket, _, key = rest.partition("/")
    return scheme.lower(), bucket, key
