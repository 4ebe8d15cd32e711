"""The sparse layout: a scipy.sparse matrix or array as one raw array per attribute.

Layout (cottoncandy 0.4's)::

    NAME/metadata.json   {"type": "csr", "attrs": ["data", "indices", "indptr"], "shape": [30, 40]}
    NAME/data, NAME/indices, NAME/indptr, ...

csr, csc and bsr store ``data, indices, indptr``; coo ``row, col, data``; dia ``data, offsets``.
dok and lil are stored as csr (as 0.4 did). ``metadata.json`` also records ``"class"``: whether
the value was a sparse *matrix* or a sparse *array*, so that each comes back as it went in;
objects written by 0.4 have no such key and come back as matrices, as 0.4 returned them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse

from cc_core import names
from cc_core.codec import LayoutCodec
from cc_core.errors import InvalidArrayError, MetadataError
from cc_core.parallel import bounded_map

from .transfers import thread_count

METADATA_NAME = "metadata.json"
ATTRIBUTES = {
    "csr": ("data", "indices", "indptr"),
    "csc": ("data", "indices", "indptr"),
    "bsr": ("data", "indices", "indptr"),
    "coo": ("row", "col", "data"),
    "dia": ("data", "offsets"),
}
STORED_AS_CSR = ("dok", "lil")


def _constructor(kind: str, sparse_class: str) -> Any:
    suffix = "array" if sparse_class == "array" else "matrix"
    return getattr(scipy.sparse, f"{kind}_{suffix}")


def _assemble(kind: str, parts: dict[str, np.ndarray], shape: tuple[int, ...], sparse_class: str) -> Any:
    build = _constructor(kind, sparse_class)
    if kind in ("csr", "csc", "bsr"):
        return build((parts["data"], parts["indices"], parts["indptr"]), shape=shape)
    if kind == "coo":
        return build((parts["data"], (parts["row"], parts["col"])), shape=shape)
    return build((parts["data"], parts["offsets"]), shape=shape)


class SparseCodec(LayoutCodec):
    """scipy.sparse matrices and arrays as one raw array per attribute plus ``metadata.json``."""

    name = "sparse"

    def upload(self, interface: Any, /, name: str, value: Any, *, threads: int | None = None,
               compression: Any = None, **metadata: Any) -> None:
        """Store the sparse matrix or array ``value`` under ``name``.

        Parameters
        ----------
        threads : int, optional
            Attributes uploaded at once; default ``[basic] threads``.
        compression : bool or str, optional
            Compression of each attribute array, as in ``upload_raw_array``.
        **metadata
            Metadata stored with ``metadata.json``.
        """
        name = names.object_name(name)
        if not scipy.sparse.issparse(value):
            raise InvalidArrayError("upload_sparse_array needs a scipy.sparse matrix or array, "
                                    f"not {type(value).__name__}")
        kind = value.format
        if kind in STORED_AS_CSR:
            value = value.tocsr()
            kind = "csr"
        if kind not in ATTRIBUTES:
            raise InvalidArrayError(f"Cannot store {name!r}: sparse format {kind!r} is not supported")
        if len(value.shape) != 2:
            raise InvalidArrayError(f"Cannot store {name!r}: only 2-d sparse arrays are supported, "
                                    f"not shape {value.shape}")
        attributes = ATTRIBUTES[kind]
        list(bounded_map(
            lambda attribute: interface.upload_raw_array(
                names.join(name, attribute), np.asarray(getattr(value, attribute)), compression=compression),
            attributes,
            in_flight=thread_count(interface, threads),
        ))
        description = {
            "type": kind,
            "attrs": list(attributes),
            "shape": [int(n) for n in value.shape],
            "class": "matrix" if isinstance(value, scipy.sparse.spmatrix) else "array",
        }
        interface.upload_json(names.join(name, METADATA_NAME), description, **metadata)

    def download(self, interface: Any, /, name: str, *, threads: int | None = None, **options: Any) -> Any:
        """The sparse matrix or array stored under ``name``."""
        name = names.object_name(name)
        where = names.join(name, METADATA_NAME)
        description = interface.download_json(where)
        try:
            kind = description["type"]
            attributes = [str(a) for a in description["attrs"]]
            shape = tuple(int(n) for n in description["shape"])
        except (KeyError, TypeError, ValueError) as exc:
            raise MetadataError(f"{where!r} does not describe a sparse array ({exc!r}); "
                                "was it written by upload_sparse_array?") from None
        if kind not in ATTRIBUTES or not set(ATTRIBUTES[kind]) <= set(attributes):
            raise MetadataError(f"{where!r} describes sparse type {kind!r} with attributes {attributes}, "
                                "which cannot be read")
        arrays = bounded_map(lambda a: interface.download_raw_array(names.join(name, a)), attributes,
                             in_flight=thread_count(interface, threads))
        return _assemble(kind, dict(zip(attributes, arrays, strict=True)), shape, description.get("class", "matrix"))
