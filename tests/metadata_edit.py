"""Edits of an object's stored metadata, as someone with write access to the store makes them."""

from __future__ import annotations

from collections.abc import Callable


def setter(key: str, value: str | None) -> Callable[[dict], None]:
    """An edit that sets ``key`` to ``value`` in a metadata dict, or removes it (``value`` None)."""
    def change(metadata: dict) -> None:
        if value is None:
            metadata.pop(key, None)
        else:
            metadata[key] = value
    return change
