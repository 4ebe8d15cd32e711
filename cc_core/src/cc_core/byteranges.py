"""Typed byte ranges: which bytes of an object a read asks for (zarr v3's ``ByteRequest``).

One value, one convention, everywhere a backend reads part of an object: ``get_into`` and
``iter_chunks`` take ``byte_range: ByteRequest | None`` (None: the whole object).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RangeByteRequest:
    """Bytes ``[start, end)``: ``end`` is exclusive, as in a Python slice."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"A byte range needs 0 <= start <= end, not [{self.start}, {self.end})")


@dataclass(frozen=True)
class OffsetByteRequest:
    """Bytes from ``offset`` to the object's end."""

    offset: int

    def __post_init__(self) -> None:
        if self.offset < 0:
            raise ValueError(f"A byte offset cannot be negative ({self.offset})")


@dataclass(frozen=True)
class SuffixByteRequest:
    """The last ``suffix`` bytes (the whole object when it is shorter)."""

    suffix: int

    def __post_init__(self) -> None:
        if self.suffix < 0:
            raise ValueError(f"A byte suffix cannot be negative ({self.suffix})")


ByteRequest = RangeByteRequest | OffsetByteRequest | SuffixByteRequest


def byte_bounds(byte_range: ByteRequest | None, size: int | None = None) -> tuple[int, int | None]:
    """``(start, stop)`` of ``byte_range`` in an object of ``size`` bytes, clipped to it.

    ``stop`` is None for "to the end" when ``size`` is not known. A :class:`SuffixByteRequest`
    needs ``size`` (a backend that cannot ask for a suffix directly heads the object first).
    Ranges past the end give an empty ``(size, size)``, never an error.
    """
    if byte_range is None:
        start, stop = 0, size
    elif isinstance(byte_range, RangeByteRequest):
        start, stop = byte_range.start, byte_range.end
    elif isinstance(byte_range, OffsetByteRequest):
        start, stop = byte_range.offset, size
    elif isinstance(byte_range, SuffixByteRequest):
        if size is None:
            raise ValueError("A SuffixByteRequest needs the object's size")
        start, stop = max(size - byte_range.suffix, 0), size
    else:
        raise TypeError(f"byte_range must be a RangeByteRequest, OffsetByteRequest or SuffixByteRequest, "
                        f"not {byte_range!r}")
    if size is not None:
        start, stop = min(start, size), min(size if stop is None else stop, size)
    return start, stop


__all__ = ["ByteRequest", "OffsetByteRequest", "RangeByteRequest", "SuffixByteRequest", "byte_bounds"]
