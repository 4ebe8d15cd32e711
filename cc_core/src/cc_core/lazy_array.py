"""Lazy arrays: read a slice of a stored array without downloading the rest.

:meth:`CCInterface.open_array <cc_core.interface.CCInterface.open_array>` returns a
:class:`LazyArray`. Opening reads the object's metadata with its first stored bytes, in one request
where the backend allows (:func:`cc_core.pipeline.open_prefix`); the array's dtype, shape and memory
order come from the metadata (raw arrays) or from the npy header in those bytes, an encryption header
is read from them too. It answers numpy basic indexing by reading only the byte ranges that hold the
selection:

1. the selection is turned into ascending ``(first index, step, count)`` per stored axis (F-ordered
   arrays are C-ordered arrays with their axes reversed);
2. :func:`plan_reads` walks the axes from the innermost out: while the gap between the bytes of
   consecutive indices is at most ``gap``, the axis is read densely (one run spans it); the axes
   outside the first sparse one give one run per combination of their indices;
3. :func:`coalesce` merges runs closer than ``gap`` (or than the decoder's granularity: an
   encrypted segment, a compressed frame) into ranges, large ranges are cut into parts of
   ``part_size``, and the parts are read in parallel (``threads``) through the object's
   :meth:`Pipeline.open_ranges <cc_core.pipeline.Pipeline.open_ranges>` decoder, opened once: it
   checks the metadata digest and the interface's required transforms, authenticates every
   encrypted segment and decompresses only the zstd-seekable frames a part lies in;
4. each run lands in its own frame of an assembly buffer (a whole number of rows of the outermost
   dense axis), and numpy slicing of that buffer gives the result.

Objects whose chain has a transform that cannot decode ranges (whole-object compression: gzip,
zstd, ...) are read whole once, on first use, and sliced in memory; :attr:`LazyArray.seekable`
says which.
Codecs take part through an optional ``stored_layout(metadata, read, name)`` method returning
``(dtype, shape, order, offset)``: where in the decoded bytes the array's elements start.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .backend import ObjectInfo
from .errors import IntegrityError, MetadataError
from .integrity import check_metadata
from .metadata import chain_names, codec_name
from .parallel import bounded_map
from .pipeline import open_prefix
from .transform import RangeDecoder

#: Runs of the selection less than this many bytes apart are read as one range: on S3 a request
#: costs about what 256 KiB cost to transfer.
DEFAULT_GAP = 256 << 10
#: Ranges longer than this are read as several parts, in parallel.
DEFAULT_PART_SIZE = 16 << 20
DEFAULT_THREADS = 4

#: One stored axis of a selection, ascending: first index, step (> 0), count.
AxisSelection = tuple[int, int, int]


@dataclass(frozen=True)
class ReadPlan:
    """The byte ranges that hold a selection and where their bytes go.

    ``run_starts`` (ascending, in the array's bytes) are runs of ``run_length`` bytes each; run
    ``i`` lands at byte ``i * frame_bytes + frame_offset`` of an assembly buffer of shape
    ``buffer_shape``, and ``buffer[frame_selection]`` is the selection, axes in stored order.
    ``ranges``: the ``(start, end)`` byte ranges to read, runs merged where they are near.
    """

    run_starts: np.ndarray
    run_length: int
    buffer_shape: tuple[int, ...]
    frame_bytes: int
    frame_offset: int
    frame_selection: tuple[slice, ...]
    ranges: list[tuple[int, int]]


def plan_reads(shape: Sequence[int], itemsize: int, selection: Sequence[AxisSelection | slice], gap: int) -> ReadPlan:
    """Plan the reads of a non-empty selection of a C-ordered array.

    Parameters
    ----------
    shape : sequence of int
        The stored array's shape, in memory order (outermost axis first).
    itemsize : int
        Bytes per element.
    selection : sequence of (first, step, count) or slice
        One ascending selection per axis (a slice with a positive step and a non-empty range).
    gap : int
        Runs at most this many bytes apart are read together.

    Returns
    -------
    ReadPlan
    """
    axes = [_ascending(s) for s in selection]
    n = len(shape)
    strides = [itemsize * int(np.prod(shape[k + 1 :], dtype=np.int64)) for k in range(n)]
    first_dense = n  # axes first_dense.. are read densely: one run spans their selection
    run_start, run_length = 0, itemsize
    starts: np.ndarray | None = None
    for k in range(n - 1, -1, -1):
        first, step, count = axes[k]
        if starts is None and (count == 1 or step * strides[k] - run_length <= gap):
            run_start += first * strides[k]
            run_length += (count - 1) * step * strides[k]
            first_dense = k
            continue
        inner = np.array([run_start], dtype=np.int64) if starts is None else starts
        indices = first + step * np.arange(count, dtype=np.int64)
        starts = (indices[:, None] * strides[k] + inner[None, :]).ravel()
    if starts is None:
        starts = np.array([run_start], dtype=np.int64)
    # the frame: whole rows of the outermost dense axis whose selection spans more than one index
    # (no dense axis: the frame is the run, one element)
    frame_axis = next((k for k in range(first_dense, n) if axes[k][2] > 1), n - 1 if first_dense < n else n)
    base = sum(axes[k][0] * strides[k] for k in range(first_dense, min(frame_axis + 1, n)))
    frame_shape: tuple[int, ...] = ()
    frame_selection: tuple[slice, ...] = ()
    if frame_axis < n:
        span = (axes[frame_axis][2] - 1) * axes[frame_axis][1] + 1
        frame_shape = (1,) * (frame_axis - first_dense) + (span, *shape[frame_axis + 1 :])
        frame_selection = (slice(0, span, axes[frame_axis][1]),
                           *(slice(f, f + (c - 1) * s + 1, s) for f, s, c in axes[frame_axis + 1 :]))
    outer = tuple(axes[k][2] for k in range(first_dense))
    return ReadPlan(
        run_starts=starts, run_length=run_length, buffer_shape=outer + frame_shape,
        frame_bytes=itemsize * int(np.prod(frame_shape, dtype=np.int64)), frame_offset=run_start - base,
        frame_selection=(slice(None),) * min(frame_axis, n) + frame_selection,
        ranges=coalesce(starts, run_length, gap))


def coalesce(starts: np.ndarray, length: int, gap: int) -> list[tuple[int, int]]:
    """``(start, end)`` ranges covering runs of ``length`` bytes at ascending ``starts``, runs at
    most ``gap`` bytes apart merged."""
    starts = np.asarray(starts, dtype=np.int64)
    breaks = np.flatnonzero(starts[1:] - (starts[:-1] + length) > gap) + 1
    firsts = np.concatenate(([0], breaks))
    lasts = np.concatenate((breaks - 1, [len(starts) - 1]))
    return [(int(starts[a]), int(starts[b]) + length) for a, b in zip(firsts, lasts, strict=True)]


def ranged_chain(pipeline: Any, names: Sequence[str]) -> bool:
    """Whether an object stored with transform chain ``names`` can be read in ranges of its decoded
    bytes: every transform decodes ranges (:attr:`cc_core.transform.Transform.decodes_ranges`, as
    aes-gcm and zstd-seekable), or there is none."""
    return all(pipeline.transform(name).decodes_ranges for name in names)


def random_access(interface: Any, metadata: Mapping[str, str]) -> bool:
    """Whether :meth:`LazyArray.__getitem__` reads only a selection's bytes of an object with this
    ``metadata``: an array codec that says where its elements lie, and a :func:`ranged_chain`."""
    codec = codec_name(metadata)
    try:
        return bool(codec) and hasattr(interface._codec(codec), "stored_layout") and ranged_chain(
            interface.pipeline, chain_names(metadata))
    except KeyError:  # a codec or transform that is not installed here
        return False


def parse_selection(text: str) -> Any:
    """A numpy basic index from text: ``"10:20, :"``, ``"-1"``, ``"..., ::-2"``, ``"None, 3"``, ``"()"``.

    Raises
    ------
    ValueError
        The text is not a comma-separated list of integers, slices, ``...`` and ``None``.
    """
    stripped = text.strip()
    if stripped in ("", "()"):
        return ()
    items: list[Any] = []
    for part in stripped.split(","):
        part = part.strip()
        try:
            if part in ("...", "Ellipsis"):
                items.append(Ellipsis)
            elif part in ("None", "newaxis"):
                items.append(None)
            elif ":" in part:
                fields = part.split(":")
                if len(fields) > 3:
                    raise ValueError(part)
                items.append(slice(*(int(f) if f.strip() else None for f in fields)))
            else:
                items.append(int(part))
        except ValueError:
            raise ValueError(
                f"{part!r} in selection {text!r} is not an integer, a slice (start:stop:step), '...' or None"
            ) from None
    return items[0] if len(items) == 1 and "," not in stripped else tuple(items)


def _ascending(selection: AxisSelection | slice) -> AxisSelection:
    if isinstance(selection, slice):
        first, stop, step = selection.start or 0, selection.stop, selection.step or 1
        return first, step, len(range(first, stop, step))
    return selection


@dataclass(frozen=True)
class _Key:
    """A basic index resolved against a shape: per stored axis ``(first, step, count)`` ascending
    (in the array's axis order), which axes are reversed, and how to shape the result."""

    axes: list[AxisSelection]
    reversed_axes: list[int]
    finish: tuple[Any, ...]  # applied last: 0 drops an integer-indexed axis, None adds one
    scalar: bool


def _resolve(key: Any, shape: tuple[int, ...]) -> _Key:
    items = key if isinstance(key, tuple) else (key,)
    for item in items:
        if not (item is None or item is Ellipsis or isinstance(item, slice)) and (
                isinstance(item, (bool, np.bool_)) or not hasattr(item, "__index__")):
            raise IndexError(
                f"A lazy array takes numpy basic indexing only (integers, slices, ..., None), not {item!r}; "
                "read the part you need first (a[start:stop]) and index that in memory"
            )
    if sum(item is Ellipsis for item in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    real = sum(item is not None and item is not Ellipsis for item in items)
    if real > len(shape):
        raise IndexError(f"too many indices for array: array is {len(shape)}-dimensional, but {real} were indexed")
    has_ellipsis = any(item is Ellipsis for item in items)
    if has_ellipsis:
        at = next(i for i, item in enumerate(items) if item is Ellipsis)
        items = items[:at] + (slice(None),) * (len(shape) - real) + items[at + 1 :]
    else:
        items = items + (slice(None),) * (len(shape) - real)
    axes: list[AxisSelection] = []
    reversed_axes: list[int] = []
    finish: list[Any] = []
    for item in items:
        if item is None:
            finish.append(None)
            continue
        length = shape[len(axes)]
        if isinstance(item, slice):
            start, stop, step = item.indices(length)
            count = len(range(start, stop, step))
            if step < 0 and count:
                reversed_axes.append(len(axes))
                start, step = start + (count - 1) * step, -step
            axes.append((start, step, count) if count else (0, 1, 0))
            finish.append(slice(None))
        else:
            index = operator.index(item)
            if not -length <= index < length:
                raise IndexError(f"index {index} is out of bounds for axis {len(axes)} with size {length}")
            axes.append((index % length, 1, 1))
            finish.append(0)
    scalar = not has_ellipsis and all(isinstance(f, int) for f in finish)  # numpy gives a scalar
    return _Key(axes, reversed_axes, tuple(finish), scalar)


class LazyArray:
    """A read-only array stored in one object, read a selection at a time.

    Made by :meth:`CCInterface.open_array <cc_core.interface.CCInterface.open_array>`. Indexing
    (numpy basic indexing) returns numpy arrays, or numpy scalars where numpy would. Pickles
    without its data (for dask workers); see the module's documentation for how reads are planned.
    """

    def __init__(self, interface: Any, name: str, info: ObjectInfo, dtype: np.dtype, shape: tuple[int, ...],
                 order: str, offset: int | None, *, threads: int, gap: int, part_size: int,
                 whole: np.ndarray | None = None, ranges: RangeDecoder | None = None) -> None:
        self.interface = interface
        self.name = name
        self.info = info
        self.dtype = dtype
        self.shape = shape
        self.order = order
        self._offset = offset  # None: the object has no random access
        self.threads = threads
        self.gap = gap
        self.part_size = part_size
        self._whole = whole
        self._ranges = ranges  # the object's decoded bytes, opened once (again after unpickling)

    @classmethod
    def open(cls, interface: Any, name: str, *, threads: int | None = None, gap: int | None = None,
             part_size: int | None = None) -> LazyArray:
        """What :meth:`CCInterface.open_array` returns: see there."""
        backend, key, _ = interface.locate(name)
        info, prefix = open_prefix(backend, key)  # the metadata and the header, one request on S3
        check_metadata(info.name, info.metadata)
        names = chain_names(info.metadata)
        interface.pipeline._check_always(info.name, names)  # an encrypted interface refuses plain objects now
        codec = codec_name(info.metadata)
        layout = getattr(interface._codec(codec), "stored_layout", None) if codec else None
        if layout is None:
            raise MetadataError(
                f"Object {name!r} is not an array stored in one object (codec: {codec or 'none, plain bytes'}); "
                "open_array reads objects written by upload_raw_array or upload_npy_array"
            )
        seekable = ranged_chain(interface.pipeline, names)
        options = {
            "threads": threads or interface.settings.getint("basic", "threads", fallback=DEFAULT_THREADS),
            "gap": DEFAULT_GAP if gap is None else gap, "part_size": part_size or DEFAULT_PART_SIZE,
        }
        if seekable:
            ranges = interface.pipeline.open_ranges(backend, key, info=info, prefix=prefix)

            def read(start: int, stop: int) -> bytes:
                return bytes(ranges.read(start, max(start, stop)))

            dtype, shape, order, offset = layout(info.metadata, read, info.name)
            if ranges.size != offset + int(np.prod(shape, dtype=object)) * dtype.itemsize:
                held = f"decodes to {ranges.size} bytes" if names else f"holds {info.size} bytes"
                error = IntegrityError if names else MetadataError
                raise error(
                    f"Object {name!r} {held} but describes {offset} bytes of header and an "
                    f"array of shape {shape} and dtype {dtype}; the object or its metadata is damaged"
                )
            return cls(interface, name, info, dtype, tuple(shape), order, offset, ranges=ranges, **options)
        if codec == "raw":  # the shape is in the metadata: the object is read on first use
            from .builtin.raw import parse_array_metadata

            dtype, shape, order = parse_array_metadata(info.metadata, info.name)
            return cls(interface, name, info, dtype, shape, order, None, **options)
        whole = interface.get_value(name, codec, progress=False)
        order = "F" if whole.flags.f_contiguous and not whole.flags.c_contiguous else "C"
        return cls(interface, name, info, whole.dtype, whole.shape, order, None, whole=whole, **options)

    # -- what numpy asks of an array-like ------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def seekable(self) -> bool:
        """Whether a selection reads only its own bytes (False: the object is read whole, once)."""
        return self._offset is not None

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = np.asarray(self[...])
        return array if dtype is None else array.astype(dtype, copy=False)

    def __repr__(self) -> str:
        access = "random access" if self.seekable else "not seekable: read whole on first use"
        return (f"<LazyArray {self.name!r} shape={self.shape} dtype={self.dtype} order={self.order} "
                f"({access})>")

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_whole": None, "_ranges": None}

    def _decoder(self) -> RangeDecoder:
        """The object's decoded bytes, read a range at a time (opened again after unpickling; two
        threads that race here open it twice, harmlessly)."""
        if self._ranges is None:
            backend, key, _ = self.interface.locate(self.name)
            self._ranges = self.interface.pipeline.open_ranges(backend, key, info=self.info)
        return self._ranges

    def to_dask(self, chunks: Any = "auto") -> Any:
        """A dask array over this object whose every chunk is a ranged read of its own bytes.

        Parameters
        ----------
        chunks : int, tuple or "auto"
            Dask chunks (``dask.array.from_array``'s argument); default: dask's ``array.chunk-size``.

        Returns
        -------
        dask.array.Array
            Picklable: workers of a distributed cluster each read their chunks (credentials and
            keys as in :mod:`cc_core.distributed`). Its name depends on the object's version, so
            a replaced object gives another name.
        """
        import dask.array as da
        from dask.base import tokenize

        token = tokenize(self.interface.backend.describe(), self.name, self.info.version, self.info.size,
                         sorted(self.info.metadata.items()), chunks)
        return da.from_array(self, chunks=chunks, name=f"open-array-{token}", lock=False,
                             meta=np.empty((0,) * self.ndim, dtype=self.dtype))

    # -- reading -------------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> Any:
        resolved = _resolve(key, self.shape)
        if not self.seekable:
            if self._whole is None:
                self._whole = self.interface.get_value(self.name, codec_name(self.info.metadata), progress=False)
            result = self._whole[key]
            return result.copy() if isinstance(result, np.ndarray) else result
        counts = [count for _, _, count in resolved.axes]
        if 0 in counts:
            block = np.empty(counts, dtype=self.dtype)
        else:
            block = self._read_block(resolved.axes)
        if resolved.reversed_axes:
            block = block[tuple(slice(None, None, -1) if k in resolved.reversed_axes else slice(None)
                                for k in range(block.ndim))]
        if resolved.scalar:
            return block[resolved.finish]  # a numpy scalar, as numpy gives
        result = block[(*resolved.finish, Ellipsis)]
        if result.base is not None and result.base.nbytes > 2 * result.nbytes + (1 << 20):
            result = result.copy(order="K")  # do not keep a large assembly buffer alive for a small view
        return result

    def _read_block(self, axes: list[AxisSelection]) -> np.ndarray:
        """The selection's elements with ascending indices, shape = the counts, in stored order."""
        fortran = self.order == "F"
        stored_shape = self.shape[::-1] if fortran else self.shape
        gap = max(self.gap, self._decoder().granularity)  # a segment or a frame is fetched once
        plan = plan_reads(stored_shape, self.dtype.itemsize, axes[::-1] if fortran else axes, gap)
        buffer = np.empty(plan.buffer_shape, dtype=self.dtype)
        flat = memoryview(buffer.reshape(-1).view(np.uint8)) if buffer.size else memoryview(bytearray(0))
        run_of_range = np.searchsorted(plan.run_starts, [start for start, _ in plan.ranges])
        pieces: list[tuple[memoryview, int]] = []
        copies: list[tuple[memoryview, int, int]] = []  # (scratch, range start, first run)
        for (start, end), first_run in zip(plan.ranges, run_of_range, strict=True):
            if end - start == plan.run_length:  # one run: read straight into its frame
                at = int(first_run) * plan.frame_bytes + plan.frame_offset
                target = flat[at : at + plan.run_length]
            else:
                target = memoryview(bytearray(end - start))
                copies.append((target, start, int(first_run)))
            pieces.extend(self._parts(target, start))
        for _ in bounded_map(self._read_piece, pieces, in_flight=min(self.threads, len(pieces))):
            pass
        for scratch, start, run in copies:
            while run < len(plan.run_starts) and plan.run_starts[run] < start + len(scratch):
                at = run * plan.frame_bytes + plan.frame_offset
                offset = int(plan.run_starts[run]) - start
                flat[at : at + plan.run_length] = scratch[offset : offset + plan.run_length]
                run += 1
        block = buffer[(*plan.frame_selection, Ellipsis)]  # shape: the counts; a 0-d array stays an array
        return block.transpose() if fortran else block

    def _parts(self, target: memoryview, start: int) -> list[tuple[memoryview, int]]:
        """``target``'s bytes from array byte ``start``, cut at multiples of ``part_size`` in the
        decoded object (an encrypted object's segments, a zstd-seekable object's frames, then
        belong to one part each when their size divides ``part_size``)."""
        absolute = self._offset + start  # type: ignore[operator]
        cuts = range((absolute // self.part_size + 1) * self.part_size, absolute + len(target), self.part_size)
        edges = [absolute, *cuts, absolute + len(target)]
        return [(target[a - absolute : b - absolute], a) for a, b in itertools.pairwise(edges)]

    def _read_piece(self, piece: tuple[memoryview, int]) -> None:
        target, start = piece
        count = self._decoder().readinto(start, target)
        if count != len(target):
            raise IntegrityError(
                f"Object {self.name!r} ends after {start + count} bytes, inside the array its metadata "
                "describes: it is truncated"
            )

__all__ = ["DEFAULT_GAP", "DEFAULT_PART_SIZE", "LazyArray", "ReadPlan", "coalesce", "parse_selection", "plan_reads",
           "random_access", "ranged_chain"]
