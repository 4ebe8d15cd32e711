"""Glob patterns over object names.

``*`` matches within one path segment, ``?`` one character, ``[...]`` a character class, and
``**`` any number of segments (including none); none of them matches a ``/`` otherwise. As in
:mod:`fnmatch`, ``[!...]`` negates a class and backslashes are plain characters. Listing is
limited to the pattern's literal prefix, the text before its first wildcard, so a glob in a
bucket of millions of keys reads only the part of the listing it can match.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .errors import InvalidNameError

MAGIC = re.compile(r"[*?\[]")


def has_magic(pattern: str) -> bool:
    return MAGIC.search(pattern) is not None


def literal_prefix(pattern: str) -> str:
    """The text before the first wildcard."""
    match = MAGIC.search(pattern)
    return pattern if match is None else pattern[: match.start()]


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A regular expression equivalent to the glob ``pattern`` (whole-name match)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            start = i + 2 if pattern.startswith("!", i + 1) else i + 1
            end = pattern.find("]", start + 1 if pattern.startswith("]", start) else start)  # "[]]", "[!]]"
            if end < 0:
                out.append(re.escape(char))
                i += 1
                continue
            out.append(_character_class(pattern[i + 1 : end]))
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    try:
        return re.compile("".join(out) + r"\Z")
    except re.error as exc:
        raise InvalidNameError(f"Glob pattern {pattern!r} is not valid: {exc}") from None


def _character_class(body: str) -> str:
    """A regular-expression class for the glob class ``[body]``; it never matches ``/``."""
    negate = body.startswith("!")
    if negate:
        body = body[1:]
    body = re.sub(r"([\\\[&~|^])", r"\\\1", body)  # literal in a glob class, special in a regex one
    return f"(?!/)[{'^' if negate else ''}{body}]"


def matches(pattern: str, name: str) -> bool:
    return compile_pattern(pattern).match(name) is not None
