"""The npy codec: an array as the bytes of a standard ``.npy`` file.

Objects hold exactly what :func:`numpy.save` writes, so ``np.load`` reads them and cottoncandy
0.4's ``download_npy_array`` reads objects written here (and the reverse). The header is built in
memory and the body is the array's own buffer: nothing is copied to a temporary file. Reading
reads the whole object with one request when its size is known (no transform in the way): the array is
a view of the body in that buffer. Otherwise it parses the header from the first block and reads
the body straight into the new array.

Arrays of Python objects are refused both ways: npy stores them as pickles, and cottoncandy never
unpickles implicitly.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np

from cc_core.builtin.raw import array_layout, new_array, refuse_unstorable, writable_bytes
from cc_core.codec import ByteSource, Encoded, ObjectCodec
from cc_core.errors import IntegrityError, InvalidArrayError, MetadataError
from cc_core.payload import Payload, byte_view

MAGIC = b"\x93NUMPY"
FIRST_BLOCK = 4096
ALIGNMENT = 64


def npy_header(array: np.ndarray) -> bytes:
    """The ``.npy`` header :func:`numpy.save` writes for ``array`` (contiguous, C or F order).

    The oldest format version that can hold the header is used, as numpy does.
    """
    description = np.lib.format.header_data_from_array_1_0(array)
    header = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(header, description)
    except ValueError:  # the header is longer than 65,535 bytes (a large structured dtype)
        header = io.BytesIO()
        np.lib.format.write_array_header_2_0(header, description)
    return header.getvalue()


class NpyCodec(ObjectCodec):
    """Arrays as standard ``.npy`` bytes."""

    name = "npy"

    def encode(self, value: Any, **options: Any) -> Encoded:
        refuse_unstorable(value, "upload_npy_array")
        if value.dtype.hasobject:
            raise InvalidArrayError(
                f"Arrays of dtype {value.dtype} hold Python objects, which npy stores as pickles; "
                "convert to a fixed-width dtype (e.g. astype('U')) or use upload_pickle"
            )
        array, _ = array_layout(value)
        return Encoded(Payload([npy_header(array), byte_view(array)]))

    def decode(self, metadata: Mapping[str, str], source: ByteSource, **options: Any) -> np.ndarray:
        if source.size is not None:
            return _read_whole(source, source.size)
        block = bytearray(FIRST_BLOCK if source.size is None else min(FIRST_BLOCK, source.size))
        filled = source.readinto(memoryview(block))
        del block[filled:]
        header_end = _header_length(block, source.name)
        if header_end > len(block):
            more = bytearray(header_end - len(block))
            if source.readinto(memoryview(more)) != len(more):
                raise IntegrityError(f"Object {source.name!r} ends inside its npy header: it is truncated")
            block += more
        shape, fortran_order, dtype = _parse_header(bytes(block[:header_end]), source.name)
        source.expect(header_end + int(np.prod(shape, dtype=object)) * dtype.itemsize,
                      f"an npy header of shape {shape} and dtype {dtype}")
        array = new_array(shape, dtype, "F" if fortran_order else "C", source.name)
        target = writable_bytes(array) if array.size else memoryview(bytearray(0))
        early = memoryview(block)[header_end:]
        if len(early) > len(target):
            raise IntegrityError(f"Object {source.name!r} has more bytes than its npy header describes")
        target[: len(early)] = early
        received = len(early) + (source.readinto(target[len(early) :]) if len(target) > len(early) else 0)
        _check_body(source.name, received, len(target), shape, dtype,
                    more=bool(source.readinto(memoryview(bytearray(1)))))
        return array


    def stored_layout(self, metadata: Mapping[str, str], read: Any,
                      name: str = "") -> tuple[np.dtype, tuple[int, ...], str, int]:
        """dtype, shape, order and where the elements start, from the header alone: ``read(start,
        stop)`` returns decoded bytes of the object (one small ranged read; two for a long header)."""
        block = bytes(read(0, FIRST_BLOCK))
        header_end = _header_length(block, name)
        if header_end > len(block):
            block += bytes(read(len(block), header_end))
        if header_end > len(block):
            raise IntegrityError(f"Object {name!r} ends inside its npy header: it is truncated")
        shape, fortran_order, dtype = _parse_header(block[:header_end], name)
        return dtype, shape, "F" if fortran_order else "C", header_end


def _read_whole(source: ByteSource, size: int) -> np.ndarray:
    """An object of known size read with one request (a second one for the header costs a round
    trip on S3), the array a view of the body within the aligned buffer it was read into."""
    memory = np.empty(size + ALIGNMENT, dtype=np.uint8)
    start = -memory.ctypes.data % ALIGNMENT  # numpy pads headers to 64 bytes: the body is aligned too
    stored = memory[start : start + size]
    received = source.readinto(stored.data)
    if received < size:
        raise IntegrityError(f"Object {source.name!r} ends after {received} of its {size} bytes: it is truncated")
    header_end = _header_length(bytes(stored[:12]), source.name)
    if header_end > size:
        raise IntegrityError(f"Object {source.name!r} ends inside its npy header: it is truncated")
    shape, fortran_order, dtype = _parse_header(bytes(stored[:header_end]), source.name)
    expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
    _check_body(source.name, size - header_end, expected, shape, dtype)
    return np.ndarray(shape, dtype=dtype, buffer=stored, offset=header_end, order="F" if fortran_order else "C")


def _check_body(name: str, received: int, expected: int, shape: tuple[int, ...], dtype: np.dtype,
                more: bool = False) -> None:
    if received != expected or more:
        raise IntegrityError(
            f"Object {name!r} holds {'fewer' if received < expected else 'more'} bytes "
            f"than its npy header describes ({expected} for shape {shape} of {dtype})"
        )


def _header_length(block: bytes | bytearray, name: str) -> int:
    """Total size of the magic, version, length field and header text."""
    if len(block) < 10 or not block.startswith(MAGIC):
        raise MetadataError(
            f"Object {name!r} is not an npy file (it does not start with the npy magic bytes); "
            "read it with the download method that matches how it was written"
        )
    major = block[6]
    if major == 1:
        return 10 + struct.unpack("<H", bytes(block[8:10]))[0]
    if major in (2, 3):
        if len(block) < 12:
            raise IntegrityError(f"Object {name!r} ends inside its npy header: it is truncated")
        return 12 + struct.unpack("<I", bytes(block[8:12]))[0]
    raise MetadataError(f"Object {name!r} is npy format version {major}.{block[7]}, which numpy cannot read")


def _parse_header(header: bytes, name: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    stream = io.BytesIO(header)
    try:
        version = np.lib.format.read_magic(stream)
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran_order, dtype = reader(stream, max_header_size=max(10000, len(header)))
    except ValueError as exc:
        raise MetadataError(f"Object {name!r} has an invalid npy header: {exc}") from None
    if dtype.hasobject:
        raise MetadataError(
            f"Object {name!r} holds an npy array of Python objects (a pickle); cottoncandy does not "
            "unpickle implicitly: load it with numpy.load(..., allow_pickle=True) if you trust it"
        )
    return shape, fortran_order, dtype
