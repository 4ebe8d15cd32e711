"""Tab-complete through a bucket like a filesystem (cottoncandy 0.4's browser), on any backend.

::

    >>> browser = cc.get_browser('my_bucket_name')          # or cci.get_browser()
    >>> browser.sweet_project.sub01_awesome_analysis_DOT_grp
    <cottoncandy-group <bucket:my_bucket_name> (sub01_awesome_analysis.grp: 3 keys)>
    >>> browser.sweet_project.sub01_awesome_analysis_DOT_grp.result_model01
    <cottoncandy-dataset <bucket:my_bucket_name [1.00MB:shape=(10000)]>
    >>> arr = browser.sweet_project.sub01_awesome_analysis_DOT_grp.result_model01.load()
    >>> browser['sweet_project']['sub01_awesome_analysis.grp'].keys()   # IPython completes the keys

Children appear as attributes under cottoncandy 0.4's names: a dot becomes ``_DOT_``, a leading
digit gets ``NUM_``, a dash (and any other character a Python name cannot hold) becomes ``_``.
Indexing takes the real names (and ``"a/b"`` paths). Folders whose names end in a group extension
(``[extensions] ccgroup``) are groups with ``keys()`` and ``load(key)``; folders ending in a dataset
extension (``[extensions] ccdataset``) hold one dask or sparse array; an object shows its size, and
an array its shape, from metadata alone. Each node lists its folder once, when first asked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from . import names
from .backend import ObjectInfo, Prefix
from .metadata import PICKLE_CODEC, codec_name

_MB = 2**20
_HIDDEN_PREFIX = ".cc-"  # cottoncandy's own sidecar objects inside groups
_LAYOUT_METADATA = "metadata.json"


def attribute_name(name: str) -> str:
    """The attribute a child called ``name`` appears under (cottoncandy 0.4's name mangling)."""
    mangled = f"NUM_{name}" if name[:1].isdigit() else name
    mangled = mangled.replace(".", "_DOT_").replace("-", "_")
    return re.sub(r"\W", "_", mangled)


def _extensions(interface: Any, key: str) -> tuple[str, ...]:
    value = interface.settings.get("extensions", key, fallback="") or ""
    return tuple("." + item.strip().lstrip(".").lower() for item in value.split(",") if item.strip())


class _Node:
    """What every browser node has: the interface, the full name, and 0.4's ``_fullpath``."""

    def __init__(self, interface: Any, path: str = "") -> None:
        self._interface = interface
        self._path = names.prefix_name(path).rstrip("/")

    @property
    def interface(self) -> Any:
        return self._interface

    @property
    def _fullpath(self) -> str:
        """The object name (or folder prefix) in the bucket."""
        return self._path

    @property
    def _curdir(self) -> str:
        return self._path.rpartition("/")[2]

    @property
    def _bucket(self) -> str:
        return str(self._interface.bucket_name)


class Browser(_Node):
    """A folder: its children are attributes (tab-completed) and items.

    Parameters
    ----------
    interface : CCInterface
        The interface whose bucket is browsed.
    path : str
        The folder to start from; the bucket's top by default.
    """

    def __init__(self, interface: Any, path: str = "") -> None:
        super().__init__(interface, path)
        self._entries_cache: dict[str, bool] | None = None  # real name -> is a folder

    # -- listing --------------------------------------------------------------------------------
    @property
    def _entries(self) -> dict[str, bool]:
        if self._entries_cache is None:
            prefix = self._path + "/" if self._path else ""
            entries: dict[str, bool] = {}
            for entry in self._interface.backend.list(prefix, delimiter="/"):
                child = entry.name[len(prefix):].rstrip("/")
                if child and not child.startswith(_HIDDEN_PREFIX):
                    entries[child] = entries.get(child, False) or isinstance(entry, Prefix)
            self._entries_cache = dict(sorted(entries.items()))
        return self._entries_cache

    @property
    def _subdirs(self) -> dict[str, str]:
        """``{attribute name: real name}`` (a name that mangles like an earlier one is left out)."""
        mapping: dict[str, str] = {}
        for child in self._entries:
            mapping.setdefault(attribute_name(child), child)
        return mapping

    def _refresh(self) -> Browser:
        """Forget the cached listing (after uploads); returns self."""
        self._entries_cache = None
        return self

    def _ls(self) -> list[str]:
        """The children at this level, as attribute names (sorted)."""
        return sorted(self._subdirs)

    def _glob(self, pattern: str = "") -> list[str]:
        """Every object under this folder, or those matching ``pattern`` relative to it."""
        if not pattern:
            return self._interface.glob(self._path)
        return self._interface.glob(names.join(self._path, pattern))

    # -- children -------------------------------------------------------------------------------
    def _child(self, name: str) -> _Node:
        path = names.join(self._path, name)
        if self._entries.get(name) is None:  # not in the listing: maybe created since
            if self._interface.backend.exists(names.object_name(path)):
                return Dataset(self._interface, path)
            if not next(iter(self._interface.backend.list(path + "/")), None):
                raise KeyError(f"{name!r} is not in {self._describe_location()}")
            return self._folder(path)
        return self._folder(path) if self._entries[name] else Dataset(self._interface, path)

    def _folder(self, path: str) -> Browser:
        lowered = path.lower()
        if lowered.endswith(_extensions(self._interface, "ccgroup")) or isinstance(self, Group):
            return Group(self._interface, path)
        if lowered.endswith(_extensions(self._interface, "ccdataset")):
            return LayoutDataset(self._interface, path)
        return Browser(self._interface, path)

    def _describe_location(self) -> str:
        return f"{self._path or 'the top'} of {self._interface.backend.describe()}"

    def __getitem__(self, key: str) -> _Node:
        """A child by its real name, its attribute name, or a ``"a/b"`` path below this folder."""
        if not isinstance(key, str):
            raise TypeError(f"Browser keys are names (str), not {type(key).__name__}")
        first, _, rest = key.strip("/").partition("/")
        if first not in self._entries and first in self._subdirs:
            first = self._subdirs[first]
        child = self._child(first)
        if not rest:
            return child
        if not isinstance(child, Browser):
            raise KeyError(f"{names.join(self._path, first)!r} is an object, not a folder")
        return child[rest]

    def __getattr__(self, attribute: str) -> _Node:
        if attribute.startswith("__") or "_entries_cache" not in self.__dict__:
            raise AttributeError(attribute)
        real = self._subdirs.get(attribute)
        if real is None:
            raise AttributeError(
                f"{type(self).__name__} {self._path or '/'!r} has no child {attribute!r}; "
                f"children: {', '.join(self._ls()) or 'none'}"
            )
        return self._child(real)

    def __dir__(self) -> list[str]:
        return self._ls()

    def _ipython_key_completions_(self) -> list[str]:
        return list(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._subdirs

    def __repr__(self) -> str:
        return f"cottoncandy-path <bucket:{self._bucket}> {self._curdir}"


class Group(Browser):
    """A folder of arrays written as one group (``dict2cloud``): ``keys()`` and ``load(key)``."""

    def keys(self) -> list[str]:
        """The real names of the group's members, sorted."""
        return list(self._entries)

    def load(self, key: str | None = None) -> Any:
        """One member (by real or attribute name, or ``"a/b"``), or the whole group as a dict."""
        if key is not None:
            member = self[key]
            return member.load()
        return {name: self._child(name).load() for name in self._entries}

    def __dir__(self) -> list[str]:
        return ["keys", "load", *self._ls()]

    def __repr__(self) -> str:
        return f"<cottoncandy-group <bucket:{self._bucket}> ({self._curdir}: {len(self)} keys)>"


class Dataset(_Node):
    """One object; an array's dtype and shape come from its metadata, ``load()`` downloads it."""

    def __init__(self, interface: Any, path: str) -> None:
        super().__init__(interface, path)
        self._info: ObjectInfo | None = None

    @property
    def info(self) -> ObjectInfo:
        """Size and metadata (read once, without downloading the data)."""
        if self._info is None:
            self._info = self._interface.get_object(self._path)
        return self._info

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self.info.metadata)

    @property
    def stored_bytes(self) -> int:
        """The object's size in the store (after compression or encryption)."""
        return self.info.size

    @property
    def shape(self) -> tuple[int, ...] | None:
        """The array's shape from metadata, or None for an object that is not an array."""
        text = self.info.metadata.get("shape")
        if text is None:
            return None
        return tuple(int(part) for part in text.strip("()[] ").split(",") if part.strip())

    @property
    def dtype(self) -> Any:
        """The array's numpy dtype from metadata, or None."""
        if "dtype" not in self.info.metadata:
            return None
        import numpy as np

        return np.dtype(self.info.metadata["dtype"])

    def __call__(self) -> ObjectInfo:
        """Size, metadata and time of the object (0.4 returned the boto3 object).

        Only objects are callable: a folder is not, so that readline completes folders and groups
        as attributes (``b.exp.sub01_DOT_grp.``) instead of as calls.
        """
        return self.info

    def load(self) -> Any:
        """Download the object: an array for raw and npy arrays, JSON for ``.json``, else bytes."""
        codec = codec_name(self.info.metadata)
        if codec == "raw":
            return self._interface.download_raw_array(self._path)
        if codec is not None and codec != PICKLE_CODEC:  # pickles are never unpickled implicitly
            return self._interface.get_value(self._path, codec)
        if self._path.endswith(".json"):
            return self._interface.download_json(self._path)
        return self._interface.download_object(self._path)

    def __dir__(self) -> list[str]:
        return ["dtype", "info", "load", "metadata", "shape", "stored_bytes"]

    def __repr__(self) -> str:
        size = self.info.size / _MB
        shape = self.info.metadata.get("shape")
        if shape is None:
            return f"<cottoncandy-file <bucket:{self._bucket}> ({self._curdir}: {size:.2f}MB)>"
        return f"<cottoncandy-dataset <bucket:{self._bucket} [{size:.2f}MB:shape=({shape.strip('()')})]>"


class LayoutDataset(Browser):
    """A folder holding one array in parts (a dask or sparse layout with ``metadata.json``)."""

    def _layout_metadata(self) -> dict[str, Any]:
        return self._interface.download_json(names.join(self._path, _LAYOUT_METADATA))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._layout_metadata().get("shape", ()))

    def load(self) -> Any:
        """The array: a dask array for the dask layout, a scipy.sparse matrix for the sparse one."""
        metadata = self._layout_metadata()
        if "dask" in metadata:
            return self._interface.download_dask_array(self._path)
        if "attrs" in metadata and "type" in metadata:
            return self._interface.download_sparse_array(self._path)
        raise ValueError(f"{self._path!r} has a {_LAYOUT_METADATA} of neither the dask nor the sparse layout")

    def __dir__(self) -> list[str]:
        return ["load", "shape", *self._ls()]

    def __repr__(self) -> str:
        size = sum(info.size for info in self._interface.get_objects(self._path + "/")) / _MB
        try:
            shape = ",".join(str(n) for n in self.shape)
        except (FileNotFoundError, ValueError):
            return f"<cottoncandy-group <bucket:{self._bucket}> ({self._curdir}: {len(self)} keys)>"
        return f"<cottoncandy-dataset <bucket:{self._bucket} [{size:.2f}MB:shape=({shape})]>"
