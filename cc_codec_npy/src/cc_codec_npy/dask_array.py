"""The dask layout: an array as raw-array chunks plus a ``metadata.json`` that dask can rebuild.

Layout (cottoncandy 0.4's)::

    NAME/pt0000, NAME/pt0001, ...   one raw array per chunk, in C order of the chunk grid
    NAME/metadata.json              {"shape", "dtype", "chunks", "chunk_sizes",
                                     "dask": [[chunk index, part name], ...]}

Uploading accepts a numpy array (split along ``axis`` into chunks of about ``buffersize`` bytes,
or near-cubic chunks with ``axis=None``) or a dask array (its own chunks, or rechunked when a
``buffersize`` is given); a dask array is computed chunk by chunk as the parts are stored, never
whole, on the active dask scheduler: with a ``dask.distributed`` Client each worker computes and
stores its own chunks, and only ``metadata.json`` is written by the caller. ``dask_target`` gives
the same layout to ``da.store``. Downloading reads only ``metadata.json``; computing a slice of
the result fetches only the chunks it touches. The graph's tasks hold the interface (which
pickles without secrets, see :mod:`cc_core.distributed`) and part names.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
from collections.abc import Sequence
from typing import Any

import dask
import dask.array as da
import numpy as np
from dask.base import tokenize

from cc_core import names
from cc_core.builtin.raw import DTYPE_DESCRIPTION_KEY, parse_array_metadata
from cc_core.codec import LayoutCodec
from cc_core.errors import InvalidArrayError, MetadataError
from cc_core.parallel import bounded_map

from .transfers import thread_count

METADATA_NAME = "metadata.json"
PART_FORMAT = "pt%04i"
MB = 1024 * 1024

Chunks = tuple[tuple[int, ...], ...]


def plan_chunks(shape: Sequence[int], itemsize: int, axis: int | None, buffersize: int) -> Chunks:
    """dask-style chunks of about ``buffersize`` bytes each.

    Parameters
    ----------
    shape : sequence of int
        The array's shape.
    itemsize : int
        Bytes per element.
    axis : int or None
        Split along this axis only (whole extent on the others), or near-cubic chunks if None.
    buffersize : int
        Target bytes per chunk; a chunk holds at least one element (one slab along ``axis``).
    """
    ndim = len(shape)
    if ndim == 0:
        return ()
    if buffersize < 1:
        raise ValueError(f"buffersize must be a positive number of bytes, not {buffersize}")
    elements = max(1, buffersize // max(1, itemsize))
    if axis is None:
        sides = _cubic_sides(shape, elements)
    else:
        if not -ndim <= axis < ndim:
            raise ValueError(f"axis {axis} is out of range for an array of {ndim} dimensions")
        axis %= ndim
        across = math.prod(n for d, n in enumerate(shape) if d != axis)
        sides = list(shape)
        sides[axis] = max(1, elements // max(1, across))
    return tuple(_split(n, side) for n, side in zip(shape, sides, strict=True))


def _cubic_sides(shape: Sequence[int], elements: int) -> list[int]:
    """Equal sides where the shape allows; short dimensions are taken whole first."""
    sides = list(shape)
    remaining = float(elements)
    by_length = sorted(range(len(shape)), key=lambda d: shape[d])
    for position, dim in enumerate(by_length):
        left = len(shape) - position
        side = max(1, min(shape[dim], int(remaining ** (1.0 / left) + 1e-9)))
        sides[dim] = side
        remaining = max(1.0, remaining / side)
    return sides


def _split(length: int, side: int) -> tuple[int, ...]:
    if length == 0:
        return (0,)
    side = max(1, min(side, length))
    return tuple(min(side, length - start) for start in range(0, length, side))


def _offsets(chunks: Chunks) -> list[list[int]]:
    return [[0, *np.cumsum(dim).tolist()] for dim in chunks]


class _PartWriter:
    """Stores one block of the chunk grid as a raw-array part (a target for ``da.store``)."""

    def __init__(self, interface: Any, name: str, chunks: Chunks, compression: Any) -> None:
        self.interface = interface
        self.name = name
        self.offsets = _offsets(chunks)
        self.grid = tuple(len(dim) for dim in chunks)
        self.compression = compression

    def part_name(self, index: tuple[int, ...]) -> str:
        number = int(np.ravel_multi_index(index, self.grid)) if self.grid else 0
        return names.join(self.name, PART_FORMAT % number)

    def block_slices(self, index: tuple[int, ...]) -> tuple[slice, ...]:
        return tuple(slice(offsets[i], offsets[i + 1]) for offsets, i in zip(self.offsets, index, strict=False))

    def write(self, index: tuple[int, ...], block: np.ndarray) -> None:
        self.interface.upload_raw_array(self.part_name(index), np.asarray(block), compression=self.compression)

    def __setitem__(self, region: tuple[slice, ...], block: np.ndarray) -> None:
        index = tuple(bisect.bisect_right(offsets, s.start or 0) - 1
                      for offsets, s in zip(self.offsets, region, strict=False))
        if tuple(region) != self.block_slices(index):
            raise ValueError(
                f"Array {self.name!r} is stored in chunks {self.chunks}; a region {region} that is not one "
                f"chunk cannot be written: rechunk the array to target.chunks before da.store"
            )
        self.write(index, block)

    @property
    def chunks(self) -> Chunks:
        return tuple(tuple(b - a for a, b in itertools.pairwise(offsets)) for offsets in self.offsets)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(offsets[-1] for offsets in self.offsets)

    def __repr__(self) -> str:
        return f"<cottoncandy dask target {self.name!r} chunks={self.chunks}>"


def _is_dask_array(value: Any) -> bool:
    return type(value).__module__.startswith("dask.") and hasattr(value, "chunks") and hasattr(value, "dask")


class DaskCodec(LayoutCodec):
    """Arrays as chunk objects plus ``metadata.json``, read back as ``dask.array.Array``."""

    name = "dask"

    def upload(
        self,
        interface: Any,
        /,
        name: str,
        value: Any,
        *,
        axis: int | None = -1,
        buffersize: int | None = None,
        threads: int | None = None,
        compression: Any = None,
        compute: bool = True,
        **metakwargs: Any,
    ) -> Any:
        """Store ``value`` (numpy or dask array) under ``name``.

        A dask array is computed on the active dask scheduler (a ``dask.distributed`` Client's
        workers store their own chunks), or on ``threads`` threads when none is set.

        Parameters
        ----------
        axis : int or None
            Axis to split a numpy array along; None for near-cubic chunks.
        buffersize : int, optional
            Bytes per chunk; default ``[upload_settings] dask_chunksize`` MB for numpy arrays, the
            array's own chunks for dask arrays.
        threads : int, optional
            Parts uploaded at once; default ``[basic] threads``.
        compression : bool or str, optional
            Compression of each part, as in ``upload_raw_array``.
        compute : bool
            False: store nothing now and return a ``dask.delayed.Delayed`` that stores the parts
            and then ``metadata.json`` when it is computed (a dask array only).
        **metakwargs
            Metadata stored with ``metadata.json``.

        Returns
        -------
        None, or the Delayed when ``compute`` is False.
        """
        name = names.object_name(name)
        threads = thread_count(interface, threads)
        dask_input = _is_dask_array(value)
        if not dask_input:
            if not isinstance(value, np.ndarray):
                value = np.asarray(value)
            if value.dtype.hasobject:
                raise InvalidArrayError(f"Cannot store {name!r}: arrays of dtype object hold Python objects, not bytes")
        if dask_input and buffersize is None:
            chunks: Chunks = tuple(tuple(int(c) for c in dim) for dim in value.chunks)
        else:
            if buffersize is None:
                buffersize = interface.settings.getint("upload_settings", "dask_chunksize", fallback=100) * MB
            chunks = plan_chunks(value.shape, value.dtype.itemsize, axis, int(buffersize))
        writer = _PartWriter(interface, name, chunks, compression)
        grid = [tuple(index) for index in np.ndindex(*writer.grid)]
        metadata = _layout_metadata(writer, value.dtype)
        if dask_input:
            if tuple(value.chunks) != chunks:
                value = value.rechunk(chunks)
            if not compute:
                parts = da.store(value, writer, lock=False, compute=False)  # type: ignore[arg-type]  # see below
                return dask.delayed(_finish, pure=False)(interface, name, metadata, metakwargs, parts)
            # the caller's scheduler (a distributed Client: its workers); threads when none is set
            threaded = {"scheduler": "threads", "num_workers": threads}
            scheduler: dict[str, Any] = {} if dask.base.get_scheduler() is not None else threaded
            # dask's annotation omits what its docs allow: any target with __setitem__
            da.store(value, writer, lock=False, **scheduler)  # type: ignore[arg-type]
        elif not compute:
            raise TypeError("compute=False needs a dask array; a numpy array is in memory here and is stored now")
        else:
            list(bounded_map(lambda index: writer.write(index, value[writer.block_slices(index)]), grid,
                             in_flight=threads))
        _finish(interface, name, metadata, metakwargs)
        return None

    def target(self, interface: Any, name: str, like: Any, *, compression: Any = None,
               **metakwargs: Any) -> _PartWriter:
        """A ``da.store`` target writing the layout of ``upload_dask_array`` for arrays shaped and
        chunked as ``like``; ``metadata.json`` is written now (the parts as they are stored)."""
        name = names.object_name(name)
        chunks = tuple(tuple(int(c) for c in dim) for dim in like.chunks)
        writer = _PartWriter(interface, name, chunks, compression)
        _finish(interface, name, _layout_metadata(writer, np.dtype(like.dtype)), metakwargs)
        return writer

    def download(self, interface: Any, /, name: str, *, dask_name: str = "array", threads: int | None = None,
                 **options: Any) -> Any:
        """A lazy ``dask.array.Array`` over the parts under ``name`` (only metadata.json is read).

        ``threads`` is accepted for cottoncandy 0.4 compatibility; the dask scheduler that
        computes the array decides how many parts move at once.
        """
        name = names.object_name(name)
        metadata = interface.download_json(names.join(name, METADATA_NAME))
        try:
            shape = tuple(int(n) for n in metadata["shape"])
            chunks = tuple(tuple(int(c) for c in dim) for dim in metadata["chunks"])
            description = {"dtype": metadata["dtype"], "shape": ""}
            if DTYPE_DESCRIPTION_KEY in metadata:
                description[DTYPE_DESCRIPTION_KEY] = metadata[DTYPE_DESCRIPTION_KEY]
            dtype = parse_array_metadata(description, names.join(name, METADATA_NAME))[0]
            parts = [(tuple(int(i) for i in index), str(part)) for index, part in metadata["dask"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise MetadataError(
                f"{names.join(name, METADATA_NAME)!r} does not describe a dask array ({exc!r}); "
                "was it written by upload_dask_array?"
            ) from None
        if tuple(sum(dim) for dim in chunks) != shape:
            raise MetadataError(f"{names.join(name, METADATA_NAME)!r}: chunks {chunks} do not add up to shape {shape}")
        key = f"{dask_name}-{tokenize(interface.describe(), name, metadata)}"
        graph = {}
        for index, part in parts:
            if len(index) != len(chunks) or not all(0 <= i < len(dim) for i, dim in zip(index, chunks, strict=True)):
                raise MetadataError(f"{names.join(name, METADATA_NAME)!r} lists chunk {index} outside its chunk grid")
            expected = tuple(dim[i] for dim, i in zip(chunks, index, strict=True))
            graph[(key, *index)] = (load_part, interface, _part_under(name, part), expected, dtype)
        missing = math.prod(len(dim) for dim in chunks) - len(graph)
        if missing:
            raise MetadataError(f"{names.join(name, METADATA_NAME)!r} lists no part for {missing} chunk(s)")
        return da.Array(graph, key, chunks, dtype=dtype, shape=shape)


def _layout_metadata(writer: _PartWriter, dtype: np.dtype) -> dict[str, Any]:
    """The content of ``metadata.json`` for the chunk grid of ``writer`` (cottoncandy 0.4's keys)."""
    grid = [tuple(index) for index in np.ndindex(*writer.grid)]
    metadata: dict[str, Any] = {
        "shape": list(writer.shape),
        "dtype": dtype.str,
        "dask": [[list(index), writer.part_name(index)] for index in grid],
        "chunk_sizes": [[s.stop - s.start for s in writer.block_slices(index)] for index in grid],
        "chunks": [list(dim) for dim in writer.chunks],
    }
    if dtype.fields is not None or dtype.subdtype is not None:
        metadata[DTYPE_DESCRIPTION_KEY] = json.dumps(np.lib.format.dtype_to_descr(dtype))
    return metadata


def _finish(interface: Any, name: str, metadata: dict[str, Any], metakwargs: dict[str, Any], *stored: Any) -> None:
    """Write ``metadata.json`` (after the parts ``stored`` stands for, in a delayed upload)."""
    interface.upload_json(names.join(name, METADATA_NAME), metadata, **metakwargs)


def _part_under(name: str, part: str) -> str:
    """The part's name; 0.4 stored full names, which point elsewhere once the array was moved."""
    part = part.lstrip("/")
    if part.startswith(name + "/"):
        return part
    return names.join(name, part.rsplit("/", 1)[-1])


def load_part(interface: Any, part: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Download one chunk and check it is the chunk ``metadata.json`` describes (a dask task)."""
    block = interface.download_raw_array(part)
    if block.shape != shape or block.dtype != dtype:
        raise MetadataError(
            f"Part {part!r} holds shape {block.shape} of {block.dtype}, but the dask metadata expects "
            f"shape {shape} of {dtype}; the array's objects are damaged or were replaced"
        )
    return block
