"""Glob patterns over object names.

``*`` matches within one path segment, ``?`` one character, ``[...]`` a character class, and
``**`` any number of segments (including none). Listing is limited to the pattern's literal prefix,
the text before its first wildcard, so a glob in a bucket of millions of keys reads only the part
of the listing it can match.
"""

from __future__ import annotations

import re
from functools import lru_cache

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
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end < 0:
                out.append(re.escape(char))
                i += 1
                continue
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("".join(out) + r"\Z")


def matches(pattern: str, name: str) -> bool:
    return compile_pattern(pattern).match(name) is not None
