"""Groups: a nested mapping of arrays as one raw array per leaf, and a lazy h5py-like view of them.

Layout (cottoncandy 0.4's ``dict2cloud``): ``{"a": x, "deep": {"b": y}}`` stored as ``NAME`` becomes
the raw arrays ``NAME/a`` and ``NAME/deep/b``; there is no group-level object. Objects whose last
name segment starts with ``.cc-`` are cottoncandy's own sidecars (HDF5 attributes) and are not
leaves.

:func:`GroupCodec.download` lists the group once (not folder by folder) and downloads the leaves
in parallel. With ``lazy=True`` it returns a :class:`Group` instead: ``keys()``, ``group["a/b"]``,
and :class:`Dataset` objects whose ``shape``, ``dtype`` and ``nbytes`` come from metadata alone;
``load()`` or slicing downloads data (slicing an uncompressed C-order dataset along its first
axis reads only the rows asked for).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from typing import Any

import numpy as np

from cc_core import names
from cc_core.backend import ObjectInfo, Prefix
from cc_core.browser import attribute_name
from cc_core.builtin.raw import parse_array_metadata, writable_bytes
from cc_core.byteranges import RangeByteRequest
from cc_core.caller import warn
from cc_core.codec import LayoutCodec
from cc_core.errors import IntegrityError, InvalidArrayError, InvalidNameError, MetadataError, ObjectNotFoundError
from cc_core.metadata import LEGACY_COMPRESSION_KEY, LEGACY_GZIP_KEY, RESERVED_PREFIX, chain_names
from cc_core.parallel import bounded_map

from .transfers import thread_count

SIDECAR_PREFIX = ".cc-"
ARRAY_KEYS = ("dtype", "shape", "order", LEGACY_COMPRESSION_KEY, LEGACY_GZIP_KEY)


class GroupNotFoundError(ObjectNotFoundError):
    """Nothing is stored under a group's prefix."""

    def __init__(self, name: str, where: str, hint: str = "") -> None:
        super().__init__(name, where)
        self.args = (f"No group {name!r} in {where}: nothing is stored under {name + '/'!r}{hint}",)


def is_sidecar(name: str) -> bool:
    """True for cottoncandy's own bookkeeping objects inside a group (not leaves)."""
    return name.rsplit("/", 1)[-1].startswith(SIDECAR_PREFIX)


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``[(relative path, leaf)]`` for a nested mapping; keys are checked to be plain names."""
    leaves: list[tuple[str, Any]] = []
    for key, value in mapping.items():
        if not isinstance(key, str) or not key or "/" in key or key in (".", "..") or key.startswith(SIDECAR_PREFIX):
            raise InvalidNameError(
                f"Group key {key!r} (under {prefix or 'the root'!r}) must be a non-empty string without "
                f"'/', not '.' or '..', and not starting with {SIDECAR_PREFIX!r}; nest mappings instead of "
                "writing paths"
            )
        path = f"{prefix}/{key}" if prefix else key
        if isinstance(value, Mapping):
            leaves += flatten(value, path)
        else:
            leaves.append((path, value))
    return leaves


def nest(leaves: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """The nested dict for ``[(relative path, value)]``."""
    root: dict[str, Any] = {}
    for path, value in leaves:
        node = root
        *folders, leaf = path.split("/")
        for folder in folders:
            node = node.setdefault(folder, {})
        node[leaf] = value
    return root


def group_prefix(name: str) -> str:
    """The listing prefix of the group ``name`` ("" for the bucket's root)."""
    return name + "/" if name else ""


def list_leaves(interface: Any, name: str) -> list[str]:
    """Names of the objects under ``name/`` (sidecars excluded), with one listing."""
    return [e.name for e in interface.list(group_prefix(name))
            if isinstance(e, ObjectInfo) and not is_sidecar(e.name)]


def missing_group(interface: Any, name: str) -> GroupNotFoundError:
    hint = "; it is a single object: read it with download_raw_array" if name and interface.exists(name) else ""
    return GroupNotFoundError(name, interface.describe(), hint)


class GroupCodec(LayoutCodec):
    """Nested mappings of arrays as one raw array per leaf."""

    name = "group"

    def upload(
        self,
        interface: Any,
        /,
        name: str,
        value: Mapping[str, Any],
        *,
        acl: str | None = None,
        verbose: bool = True,
        threads: int | None = None,
        compression: Any = None,
        **metadata: Any,
    ) -> None:
        """Store every leaf of ``value`` as the raw array ``name/key/...``, in parallel.

        Leaves that are not numpy arrays go through ``np.asarray``. ``metadata`` is stored with
        every leaf.
        """
        name = names.object_name(name)
        if not isinstance(value, Mapping):
            raise InvalidArrayError(f"dict2cloud needs a mapping of arrays, not {type(value).__name__}")
        leaves = flatten(value)

        def store(leaf: tuple[str, Any]) -> None:
            path, array = leaf
            array = array if isinstance(array, np.ndarray) else np.asarray(array)
            if array.dtype.hasobject:
                raise InvalidArrayError(
                    f"Group leaf {path!r} of {name!r} is not a fixed-width array (it became dtype object); "
                    "convert it to a numeric or string array"
                )
            interface.upload_raw_array(names.join(name, path), array, compression=compression, acl=acl, **metadata)

        list(bounded_map(store, leaves, in_flight=thread_count(interface, threads)))
        if verbose:
            print(f'uploaded arrays in "{name}"')

    def download(
        self,
        interface: Any,
        /,
        name: str,
        *,
        verbose: bool = True,
        keys: Iterable[str] | str | None = None,
        threads: int | None = None,
        lazy: bool = False,
        **options: Any,
    ) -> Any:
        """The nested dict of arrays under ``name`` (or, with ``lazy=True``, a :class:`Group`).

        ``keys`` limits the download to those children. An object under the group that is not a
        raw array becomes None, with a warning (as in cottoncandy 0.4).

        Raises
        ------
        GroupNotFoundError
            Nothing is stored under ``name/`` (cottoncandy 0.4 returned None).
        """
        name = names.prefix_name(name).rstrip("/")
        if lazy:
            group = Group(interface, name)
            if not group.keys():
                raise missing_group(interface, name)
            return group
        found = list_leaves(interface, name)
        if not found:
            raise missing_group(interface, name)
        if keys is not None:
            wanted = [keys] if isinstance(keys, str) else list(keys)
            selected = []
            for key in wanted:
                under = [n for n in found if n == names.join(name, key) or n.startswith(names.join(name, key) + "/")]
                if not under:
                    raise ObjectNotFoundError(names.join(name, key), interface.describe())
                selected += under
            found = sorted(set(selected))
        arrays = bounded_map(lambda leaf: _load_leaf(interface, leaf), found,
                             in_flight=thread_count(interface, threads))
        if verbose:
            print(f'Downloaded arrays in "{name}"')
        return nest((leaf[len(group_prefix(name)) :], array) for leaf, array in zip(found, arrays, strict=True))


def _load_leaf(interface: Any, name: str) -> np.ndarray | None:
    try:
        return interface.download_raw_array(name)
    except MetadataError as exc:
        warn(f"Could not download {name!r} as an array, stored None instead: {exc}")
        return None


class Group:
    """A lazy, h5py-like view of the group stored under ``name``: nothing is read until asked.

    Each group lists its children once, when first asked, and keeps the list (and the child
    objects) until :meth:`refresh`: children written or removed meanwhile are seen after it.
    """

    def __init__(self, interface: Any, name: str) -> None:
        self._interface = interface
        self.name = name
        self._listed: dict[str, bool] | None = None
        self._nodes: dict[str, Group | Dataset] = {}

    def refresh(self) -> None:
        """Forget the listed children (of this group and of the subgroups it gave): list again when asked."""
        self._listed = None
        self._nodes.clear()

    def _children(self) -> dict[str, bool]:
        """Direct children: name -> True for a subgroup, False for a dataset."""
        if self._listed is None:
            prefix = group_prefix(self.name)
            children: dict[str, bool] = {}
            for entry in self._interface.list(prefix, delimiter="/"):
                child = entry.name[len(prefix) :].rstrip("/")
                if child and not is_sidecar(child):
                    children[child] = isinstance(entry, Prefix)
            self._listed = children
        return self._listed

    def keys(self) -> list[str]:
        """Sorted names of the direct children (datasets and subgroups)."""
        return sorted(self._children())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._children())

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __getitem__(self, key: str) -> Group | Dataset:
        if not isinstance(key, str) or not key.strip("/"):
            raise KeyError(f"Group keys are child names such as 'a' or 'a/b', not {key!r}")
        node: Group = self
        *folders, leaf = key.strip("/").split("/")
        for folder in folders:
            child = node[folder]
            if not isinstance(child, Group):
                raise KeyError(f"{child.name!r} is a dataset, not a group")
            node = child
        return node._child(leaf)

    def _child(self, leaf: str) -> Group | Dataset:
        if leaf not in self._nodes:
            children = self._children()
            if leaf not in children:
                raise KeyError(f"No {leaf!r} in group {self.name!r}; "
                               f"it has: {', '.join(sorted(children)) or 'nothing'}")
            path = names.join(self.name, leaf)
            self._nodes[leaf] = Group(self._interface, path) if children[leaf] else Dataset(self._interface, path)
        return self._nodes[leaf]

    def items(self) -> list[tuple[str, Group | Dataset]]:
        return [(key, self[key]) for key in self.keys()]

    def values(self) -> list[Group | Dataset]:
        return [self[key] for key in self.keys()]

    def load(self, key: str | None = None) -> Any:
        """Download everything under this group as a nested dict (or only ``key``)."""
        if key is not None:
            return self[key].load()
        return self._interface.get_value(self.name, "group", verbose=False)

    # as in cottoncandy 0.4's browser: children as attributes under mangled names (a.grp -> a_DOT_grp)
    def __getattr__(self, attribute: str) -> Group | Dataset:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        for child in self._children():
            if attribute_name(child) == attribute or child == attribute:
                return self[child]
        raise AttributeError(f"Group {self.name!r} has no child {attribute!r}")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {attribute_name(child) for child in self._children()})

    def __repr__(self) -> str:
        return f"<cottoncandy-group <{self._interface.describe()}> ({self.name or '/'}: {len(self)} keys)>"


class Dataset:
    """One stored raw array, h5py style: metadata without downloading, data on ``load()``/slicing."""

    def __init__(self, interface: Any, name: str) -> None:
        self._interface = interface
        self.name = name

    @cached_property
    def _info(self) -> ObjectInfo:
        return self._interface.head(self.name)

    @cached_property
    def _layout(self) -> tuple[np.dtype, tuple[int, ...], str]:
        return parse_array_metadata(self._info.metadata, self.name)

    @property
    def dtype(self) -> np.dtype:
        return self._layout[0]

    @property
    def shape(self) -> tuple[int, ...]:
        return self._layout[1]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def compression(self) -> list[str]:
        """The transforms applied to the stored bytes (empty for raw bytes)."""
        return chain_names(self._info.metadata)

    @property
    def attrs(self) -> dict[str, str]:
        """The user metadata stored with the array."""
        return {k: v for k, v in self._info.metadata.items()
                if k.lower() not in ARRAY_KEYS and not k.lower().startswith(RESERVED_PREFIX)}

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d dataset")
        return self.shape[0]

    def load(self) -> np.ndarray:
        """Download the whole array."""
        return self._interface.download_raw_array(self.name)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = self.load()
        return array if dtype is None else array.astype(dtype, copy=False)

    def __getitem__(self, key: Any) -> Any:
        rows = self._row_range(key)
        if rows is None:
            return self.load()[key]
        start, stop, local = rows
        return self._read_rows(start, stop)[local]

    def _row_range(self, key: Any) -> tuple[int, int, Any] | None:
        """(first row, end row, index into those rows) when ``key`` can be read as a row range."""
        if self.compression or self._layout[2] != "C" or not self.shape:
            return None
        first, rest = (key[0], key[1:]) if isinstance(key, tuple) and key else (key, ())
        if any(k is Ellipsis or k is None for k in rest):
            return None
        if isinstance(first, (int, np.integer)) and not isinstance(first, bool):
            row = int(first) + (self.shape[0] if first < 0 else 0)
            if not 0 <= row < self.shape[0]:
                raise IndexError(f"index {first} is out of bounds for dataset {self.name!r} of shape {self.shape}")
            return row, row + 1, (0, *rest)
        if isinstance(first, slice) and (first.step is None or first.step > 0):
            start, stop, step = first.indices(self.shape[0])
            stop = max(start, stop)
            return start, stop, (slice(0, stop - start, step), *rest)
        return None

    def _read_rows(self, start: int, stop: int) -> np.ndarray:
        block = np.empty((stop - start, *self.shape[1:]), dtype=self.dtype)
        if block.size:
            row_bytes = math.prod(self.shape[1:]) * self.dtype.itemsize
            target = writable_bytes(block)
            count = self._interface.read_into(self.name, target, RangeByteRequest(start * row_bytes, stop * row_bytes))
            if count != len(target):
                raise IntegrityError(f"Object {self.name!r} is shorter than its metadata describes")
        return block

    def __repr__(self) -> str:
        try:
            detail = f"[{self.nbytes / 2**20:0.1f}MB:shape={self.shape} {self.dtype}]"
        except (MetadataError, ObjectNotFoundError) as exc:
            detail = f"[unreadable: {exc}]"
        return f"<cottoncandy-dataset <{self._interface.describe()}> {self.name} {detail}>"


__all__ = ["Dataset", "Group", "GroupCodec", "GroupNotFoundError", "flatten", "nest"]
