"""The sparse layout: every scipy format, as matrices and as sparse arrays."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from cc_core.errors import InvalidArrayError, MetadataError

FORMATS = ["csr", "csc", "coo", "bsr", "dia", "dok", "lil"]
STORED = {"dok": "csr", "lil": "csr"}


def make(kind: str, sparse_class: str):
    dense = sp.random(24, 36, density=0.15, random_state=5, dtype=np.float32).toarray()
    build = getattr(sp, f"csr_{sparse_class}")
    matrix = build(dense)
    return dense, (matrix.tobsr(blocksize=(3, 4)) if kind == "bsr" else matrix.asformat(kind))


@pytest.mark.parametrize("sparse_class", ["matrix", "array"])
@pytest.mark.parametrize("kind", FORMATS)
def test_round_trip(interface, kind, sparse_class):
    dense, value = make(kind, sparse_class)
    interface.upload_sparse_array("s", value)
    restored = interface.download_sparse_array("s")
    assert restored.format == STORED.get(kind, kind)
    assert isinstance(restored, sp.spmatrix) == (sparse_class == "matrix")
    assert restored.shape == value.shape and restored.dtype == value.dtype
    np.testing.assert_array_equal(restored.toarray(), dense)
    if kind == "bsr":
        assert restored.blocksize == (3, 4)


def test_metadata_and_parts(interface):
    _, value = make("coo", "matrix")
    interface.upload_sparse_array("c", value, compression="zstd", origin="test")
    assert interface.download_json("c/metadata.json") == {
        "type": "coo", "attrs": ["row", "col", "data"], "shape": [24, 36], "class": "matrix"}
    assert interface.get_object("c/metadata.json").metadata["origin"] == "test"
    assert interface.get_object("c/data").metadata["compression"] == "Zstd"
    assert sorted(interface.ls("c")) == ["c/col", "c/data", "c/metadata.json", "c/row"]


def test_empty_matrix(interface):
    interface.upload_sparse_array("e", sp.csr_matrix((5, 7), dtype=np.int64))
    restored = interface.download_sparse_array("e")
    assert restored.shape == (5, 7) and restored.nnz == 0 and restored.dtype == np.int64


def test_errors(interface):
    with pytest.raises(InvalidArrayError, match="scipy.sparse"):
        interface.upload_sparse_array("x", np.eye(3))
    interface.upload_json("bad/metadata.json", {"type": "nope", "attrs": [], "shape": [1, 1]})
    with pytest.raises(MetadataError, match="nope"):
        interface.download_sparse_array("bad")
