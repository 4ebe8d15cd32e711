"""HDF5 files as groups: every dataset as a raw array, groups and attributes in a sidecar.

Uploading ``file.h5`` as ``NAME`` stores each dataset ``/a/b`` as the raw array ``NAME/a/b`` (so
``cloud2dict`` and ``cloud2dataset`` read it like any group) and writes ``NAME/.cc-hdf5.json``
with every group path (empty groups too), the attributes of every group and dataset, and which
datasets held variable-length strings. Downloading writes those back into an ``.h5`` file; any
group (one written by ``dict2cloud`` too) can be downloaded as an ``.h5`` file.

Not kept: dataset storage options (chunking, filters, fill values), links (a hard-linked dataset
is stored once per path), and datatypes numpy cannot hold as fixed-width arrays (references,
variable-length sequences), which are refused with the dataset's name.
"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from cc_core import names
from cc_core.builtin.raw import array_metadata, parse_array_metadata
from cc_core.codec import LayoutCodec
from cc_core.errors import InvalidArrayError, MetadataError, ObjectNotFoundError
from cc_core.parallel import bounded_map

from .group import group_prefix, list_leaves, missing_group
from .transfers import thread_count

SIDECAR_NAME = ".cc-hdf5.json"
SIDECAR_FORMAT = "cottoncandy-hdf5"


def encode_attribute(value: Any, where: str) -> dict[str, Any]:
    """A JSON description of one h5py attribute value that :func:`decode_attribute` inverts."""
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, bytes) and not isinstance(value, np.bytes_):  # np.bytes_ is fixed-length
        return {"bytes": base64.b64encode(value).decode("ascii")}
    array = np.asarray(value)
    scalar = not isinstance(value, np.ndarray)
    if array.dtype.hasobject:
        items = array.ravel().tolist()
        if all(isinstance(item, str) for item in items):
            return {"strs": items, "shape": list(array.shape)}
        if all(isinstance(item, bytes) for item in items):
            return {"byte_strs": [base64.b64encode(b).decode("ascii") for b in items], "shape": list(array.shape)}
        raise InvalidArrayError(f"Attribute {where} holds {array.dtype} values that cottoncandy cannot store")
    return {
        "array": array_metadata(array, "C"),
        "data": base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii"),
        "scalar": scalar,
    }


def decode_attribute(description: dict[str, Any]) -> Any:
    """The attribute value :func:`encode_attribute` described."""
    if "str" in description:
        return description["str"]
    if "bytes" in description:
        return base64.b64decode(description["bytes"])
    if "strs" in description:
        return np.array(description["strs"], dtype=object).reshape(description["shape"])
    if "byte_strs" in description:
        items = [base64.b64decode(b) for b in description["byte_strs"]]
        return np.array(items, dtype=object).reshape(description["shape"])
    dtype, shape, _ = parse_array_metadata(description["array"], "an HDF5 attribute")
    array = np.frombuffer(base64.b64decode(description["data"]), dtype=dtype).reshape(shape).copy()
    return array[()] if description.get("scalar") else array


def _attributes(node: Any, where: str) -> dict[str, Any]:
    return {key: encode_attribute(node.attrs[key], f"{key!r} of {where!r}") for key in node.attrs}


def _read_dataset(dataset: Any) -> tuple[np.ndarray, str | None]:
    """The dataset's values as a fixed-width numpy array, and its string encoding when vlen str."""
    if dataset.shape is None:
        raise InvalidArrayError(f"HDF5 dataset {dataset.name!r} is empty (no dataspace); cottoncandy cannot store it")
    string = h5py.check_string_dtype(dataset.dtype)
    if string is not None and string.length is None:
        values = dataset.asstr()[()]
        items = np.asarray(values, dtype=object)
        return np.array(items.tolist(), dtype=str).reshape(items.shape), string.encoding
    if dataset.dtype.hasobject:
        raise InvalidArrayError(
            f"HDF5 dataset {dataset.name!r} has datatype {dataset.dtype} (references or variable-length "
            "sequences), which has no fixed-width numpy form; convert it before uploading"
        )
    return np.asarray(dataset[()]), None


class Hdf5Codec(LayoutCodec):
    """HDF5 files stored as cottoncandy groups (one raw array per dataset) and back."""

    name = "hdf5"

    def upload(self, interface: Any, /, name: str, value: Any, *, threads: int | None = None,
               compression: Any = None, acl: str | None = None, **metadata: Any) -> None:
        """Store the HDF5 file ``value`` (a path) under ``name``.

        Parameters
        ----------
        threads : int, optional
            Datasets uploaded at once; default ``[basic] threads``.
        compression : bool or str, optional
            Compression of each dataset, as in ``upload_raw_array``.
        **metadata
            Metadata stored with every dataset object.
        """
        name = names.object_name(name)
        groups: list[str] = []
        datasets: list[str] = []
        sidecar: dict[str, Any] = {"format": SIDECAR_FORMAT, "version": 1, "groups": groups,
                                   "datasets": datasets, "attrs": {}, "strings": {}}
        with h5py.File(value, "r") as file:
            sidecar["attrs"][""] = _attributes(file, "/")

            def visit(path: str, node: Any) -> None:
                if path.rsplit("/", 1)[-1].startswith(".cc-"):
                    raise InvalidArrayError(f"HDF5 path {path!r} in {os.fspath(value)!r} "
                                            "uses cottoncandy's reserved prefix '.cc-'")
                (groups if isinstance(node, h5py.Group) else datasets).append(path)
                sidecar["attrs"][path] = _attributes(node, path)

            file.visititems(visit)

            def store(path: str) -> None:
                array, encoding = _read_dataset(file[path])  # h5py serialises reads with its own lock
                if encoding is not None:
                    sidecar["strings"][path] = encoding
                interface.upload_raw_array(names.join(name, path), array, compression=compression, acl=acl, **metadata)

            list(bounded_map(store, datasets, in_flight=thread_count(interface, threads)))
        sidecar["attrs"] = {path: attrs for path, attrs in sidecar["attrs"].items() if attrs}
        interface.upload_json(names.join(name, SIDECAR_NAME), sidecar)

    def download(self, interface: Any, /, name: str, *, file_name: str | os.PathLike[str] | None = None,
                 threads: int | None = None, **options: Any) -> str:
        """Write the group ``name`` into the HDF5 file ``file_name``; returns its absolute path.

        The file appears complete or not at all (it is written beside the target and renamed).
        """
        if file_name is None:
            raise TypeError(f"Reading {name!r} as HDF5 writes a file: pass file_name=, the file to write")
        name = names.prefix_name(name).rstrip("/")
        sidecar = _read_sidecar(interface, name)
        leaves = list_leaves(interface, name)
        if not leaves and not sidecar.get("groups"):
            raise missing_group(interface, name)
        destination = Path(file_name).expanduser().absolute()
        destination.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temp = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".cc-part", dir=destination.parent)
        os.close(descriptor)
        attributes = sidecar.get("attrs", {})
        strings = sidecar.get("strings", {})
        prefix = group_prefix(name)
        try:
            with h5py.File(temp, "w") as file:
                for path in sidecar.get("groups", []):
                    file.require_group(path)
                loaded = bounded_map(interface.download_raw_array, leaves, in_flight=thread_count(interface, threads))
                for leaf, array in zip(leaves, loaded, strict=True):
                    path = leaf[len(prefix) :]
                    if path in strings or array.dtype.kind == "U":
                        string_type = h5py.string_dtype(strings.get(path, "utf-8"))
                        file.create_dataset(path, data=array.astype(object), dtype=string_type)
                    else:
                        file.create_dataset(path, data=array)
                for path, attrs in attributes.items():
                    node = file[path] if path else file
                    for key, description in attrs.items():
                        node.attrs[key] = decode_attribute(description)
            os.replace(temp, destination)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return str(destination)


def _read_sidecar(interface: Any, name: str) -> dict[str, Any]:
    """The HDF5 sidecar of the group, or {} for a group that dict2cloud wrote."""
    where = names.join(name, SIDECAR_NAME)
    try:
        sidecar = interface.download_json(where)
    except ObjectNotFoundError:
        return {}
    if not isinstance(sidecar, dict) or sidecar.get("format") != SIDECAR_FORMAT:
        raise MetadataError(f"{where!r} is not a cottoncandy HDF5 sidecar; it cannot be read")
    return sidecar
