"""The raw array codec: an array's bytes as they sit in memory, described by metadata.

The metadata is what cottoncandy 0.4 writes (``dtype``, ``shape``, ``order``), so 0.4 reads these
objects and this codec reads 0.4's. Structured and sub-array dtypes, which ``dtype.str`` cannot
describe, add the full description under ``cc-dtype``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..codec import ByteSource, Encoded, ObjectCodec
from ..errors import IntegrityError, InvalidArrayError, MetadataError
from ..payload import Payload, byte_view

DTYPE_DESCRIPTION_KEY = "cc-dtype"


def array_layout(array: np.ndarray) -> tuple[np.ndarray, str]:
    """The array in a contiguous layout (a copy only for strided views) and its order letter."""
    if array.flags.c_contiguous:
        return array, "C"
    if array.flags.f_contiguous:
        return array, "F"
    return np.ascontiguousarray(array), "C"


def writable_bytes(array: np.ndarray) -> memoryview:
    """A flat, writable byte view of a contiguous array's memory."""
    flat = array.reshape(-1, order="A") if array.ndim else array.reshape(1)
    return memoryview(flat.view(np.uint8))


#: Arrays of at least this many bytes start on a page boundary (see :func:`new_array`).
PAGE_ALIGNED_FROM = 1 << 20
_PAGE = 4096


def new_array(shape: tuple[int, ...], dtype: np.dtype, order: str, name: str) -> np.ndarray:
    """``np.empty`` for an object's array; a size no memory can hold is an error naming the object.

    An array of :data:`PAGE_ALIGNED_FROM` bytes or more starts on a page boundary, as the stored
    bytes do in a file: the kernel copies a file's pages into memory 1.3-1.5x slower when the
    destination lies a few bytes past the source's offset in the page (``malloc`` puts a large
    ``np.empty`` 16 bytes past a page boundary; measured on AMD EPYC, see benchmarks/RESULTS.md,
    "Local disk and encryption"). Such an array is a view of a slightly larger block (its ``base``),
    at most a page more.
    """
    try:
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if nbytes < PAGE_ALIGNED_FROM:
            return np.empty(shape, dtype=dtype, order=order)
        block = np.empty(nbytes + _PAGE, dtype=np.uint8)
        return np.ndarray(shape, dtype=dtype, buffer=block, offset=-block.ctypes.data % _PAGE, order=order)
    except (MemoryError, ValueError) as exc:
        raise MetadataError(
            f"Object {name!r} describes an array of shape {shape} and dtype {dtype}, which cannot be "
            f"allocated here ({exc}); if its metadata is right, read it on a machine with more memory"
        ) from None


def array_metadata(array: np.ndarray, order: str) -> dict[str, str]:
    metadata = {
        "dtype": array.dtype.str,
        "shape": ",".join(str(n) for n in array.shape),
        "order": order,
    }
    if array.dtype.fields is not None or array.dtype.subdtype is not None:
        metadata[DTYPE_DESCRIPTION_KEY] = json.dumps(np.lib.format.dtype_to_descr(array.dtype))
    return metadata


def parse_array_metadata(metadata: Mapping[str, str], name: str = "") -> tuple[np.dtype, tuple[int, ...], str]:
    """dtype, shape and order from raw-array metadata, with errors that name the object."""
    where = f"Object {name!r}" if name else "The object"
    try:
        if DTYPE_DESCRIPTION_KEY in metadata:
            description = json.loads(metadata[DTYPE_DESCRIPTION_KEY])
            dtype = np.dtype(np.lib.format.descr_to_dtype(_as_descr(description)))
        else:
            dtype = np.dtype(metadata["dtype"])
    except KeyError:
        raise MetadataError(f"{where} has no 'dtype' in its metadata; it is not a raw array") from None
    except (TypeError, ValueError) as exc:
        raise MetadataError(f"{where} has an invalid dtype in its metadata: {exc}") from None
    if dtype.hasobject:
        raise MetadataError(f"{where} claims an object dtype, which raw arrays never hold")
    shape_text = metadata.get("shape")
    if shape_text is None:
        raise MetadataError(f"{where} has no 'shape' in its metadata; it is not a raw array")
    try:
        shape = tuple(int(part) for part in shape_text.strip("()[] ").split(",") if part.strip())
    except ValueError:
        raise MetadataError(f"{where} has a shape that is not a list of integers: {shape_text!r}") from None
    if any(n < 0 for n in shape):
        raise MetadataError(f"{where} has a negative dimension in its shape: {shape_text!r}")
    order = metadata.get("order", "C").upper()
    if order not in ("C", "F"):
        raise MetadataError(f"{where} has order {order!r}; expected 'C' or 'F'")
    return dtype, shape, order


def _as_descr(description: Any) -> Any:
    """JSON turns descr tuples into lists; numpy wants tuples back: each field, a titled field's
    ``(title, name)``, a sub-array's shape, and nested structures the same way."""
    if not isinstance(description, list):
        return description
    fields = []
    for name, kind, *shape in description:
        fields.append((tuple(name) if isinstance(name, list) else name, _as_descr(kind),
                       *(tuple(s) if isinstance(s, list) else s for s in shape)))
    return fields


def refuse_unstorable(value: Any, method: str) -> None:
    """Raise InvalidArrayError for a value that ``method`` cannot store exactly (any array codec).

    Object dtypes are refused by each codec, which says what it would have done with them.
    """
    if not isinstance(value, np.ndarray):
        raise InvalidArrayError(f"{method} needs a numpy array, not {type(value).__name__}")
    if isinstance(value, np.ma.MaskedArray):
        raise InvalidArrayError(
            f"{method} cannot store a masked array: its bytes hold the data only, and the mask would be "
            "lost. Store value.data and value.mask as two arrays (e.g. dict2cloud(name, {'data': value.data, "
            "'mask': np.ma.getmaskarray(value)})), or value.filled(fill_value) if a fill value will do"
        )


class RawCodec(ObjectCodec):
    """A numpy array as its raw bytes plus ``dtype``/``shape``/``order`` metadata."""

    name = "raw"

    def encode(self, value: Any, **options: Any) -> Encoded:
        refuse_unstorable(value, "upload_raw_array")
        if value.dtype.hasobject:
            raise InvalidArrayError(
                f"Arrays of dtype {value.dtype} hold Python objects, not bytes, and cannot be stored "
                "raw; convert to a fixed-width dtype (e.g. astype('U')) or use upload_pickle"
            )
        array, order = array_layout(value)
        return Encoded(Payload([byte_view(array)]), array_metadata(array, order))

    def stored_layout(self, metadata: Mapping[str, str], read: Any,
                      name: str = "") -> tuple[np.dtype, tuple[int, ...], str, int]:
        """dtype, shape, order and where the elements start (byte 0): what a ranged read of a
        selection needs (see :mod:`cc_core.lazy_array`); ``read`` is not needed."""
        return (*parse_array_metadata(metadata, name), 0)

    def decode(self, metadata: Mapping[str, str], source: ByteSource, **options: Any) -> np.ndarray:
        dtype, shape, order = parse_array_metadata(metadata, source.name)
        expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
        source.expect(expected, f"shape {shape} of {dtype}")
        array = new_array(shape, dtype, order, source.name)
        received = source.readinto(writable_bytes(array)) if expected else 0
        if received != expected or source.readinto(memoryview(bytearray(1))):
            raise IntegrityError(
                f"Object {source.name!r} decodes to {'fewer' if received < expected else 'more'} bytes "
                f"than its metadata describes ({expected} for shape {shape} of {dtype})"
            )
        return array
