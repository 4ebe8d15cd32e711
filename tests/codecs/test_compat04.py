"""cottoncandy 0.4 compatibility, both ways, from the format description alone.

Objects "written by 0.4" are built here byte for byte as files of a local bucket (the object's
bytes in ``NAME``, its metadata in ``NAME.meta.json``), exactly as 0.4's local client leaves them,
and read back through the interface. In the other direction, objects written through the
interface are read from disk and decoded the way 0.4's code decodes them.
"""

from __future__ import annotations

import gzip
import io
import json
import pickle
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import pytest
import scipy.sparse as sp

from cc_core.errors import CottonCandyError
from cc_core.interface import CCInterface

NUMCODECS_IDS = ["Zstd", "LZ4", "Zlib", "BZ2", "Blosc"]


# -- what 0.4 writes ---------------------------------------------------------------------------
def write_object(root: Path, name: str, body: bytes, metadata: dict[str, str] | None = None) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    path.with_name(path.name + ".meta.json").write_text(json.dumps(metadata or {}))


def raw_body_04(array: np.ndarray, compression: str) -> bytes:
    """The body 0.4's upload_raw_array writes (it always wrote C order)."""
    data = np.ascontiguousarray(array)
    if compression == "gzip":
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as file:
            file.write(data.tobytes())
        return buffer.getvalue()
    if compression in ("False", "None"):
        return data.tobytes()
    return bytes(numcodecs.get_codec({"id": compression.lower()}).encode(data))


def write_raw_04(root: Path, name: str, array: np.ndarray, compression: str = "gzip") -> None:
    write_object(root, name, raw_body_04(array, compression), {
        "dtype": array.dtype.str, "shape": ",".join(str(n) for n in array.shape),
        "compression": compression, "order": "C"})


# -- how 0.4 reads -------------------------------------------------------------------------------
def read_raw_04(root: Path, name: str) -> np.ndarray:
    """0.4's download_raw_array on a local bucket, step by step."""
    path = root / name
    metadata = json.loads(path.with_name(path.name + ".meta.json").read_text())
    body = path.read_bytes()
    shape = tuple(int(n) for n in metadata["shape"].split(",") if n)
    dtype = np.dtype(metadata["dtype"])
    order = metadata.get("order", "C")
    if "gzip" in metadata:
        metadata["compression"] = "gzip" if metadata["gzip"] == "True" else "False"
    compression = metadata["compression"]
    if compression == "gzip":
        data = gzip.decompress(body)
    elif compression in ("False", "None"):
        data = body
    else:
        return np.frombuffer(numcodecs.get_codec({"id": compression.lower()}).decode(body), dtype=dtype).reshape(shape)
    array = np.empty(shape, dtype=dtype, order=order)
    array.reshape(-1, order="A").view(np.uint8)[:] = np.frombuffer(data, np.uint8)
    return array


def read_json_04(root: Path, name: str) -> Any:
    return json.loads((root / name).read_bytes().decode())


@pytest.fixture
def root(tmp_path) -> Path:
    path = tmp_path / "bucket"
    path.mkdir()
    return path


@pytest.fixture
def cci(root, cc_settings) -> CCInterface:
    return CCInterface(str(root), backend="local", settings=cc_settings)


ARRAYS = {
    "float2d": np.random.default_rng(0).standard_normal((40, 30)),
    "uint8": np.arange(256, dtype=np.uint8).reshape(16, 16),
    "int32_1d": np.arange(-50, 50, dtype=">i4"),
    "zero_d": np.array(3.5),
    "empty": np.zeros((0, 4), dtype=np.int16),
}


# -- 0.4 -> here ---------------------------------------------------------------------------------
@pytest.mark.parametrize("compression", ["False", "None", "gzip", *NUMCODECS_IDS])
@pytest.mark.parametrize("key", list(ARRAYS))
def test_raw_arrays_written_by_04_read_back(root, cci, compression, key):
    array = ARRAYS[key]
    write_raw_04(root, f"arrays/{key}", array, compression)
    restored = cci.download_raw_array(f"arrays/{key}")
    assert restored.dtype == array.dtype and restored.shape == array.shape
    np.testing.assert_array_equal(restored, array)
    assert restored.flags.writeable


@pytest.mark.parametrize("gzipped", ["True", "False"])
def test_old_objects_with_a_gzip_key(root, cci, gzipped):
    array = ARRAYS["float2d"]
    body = gzip.compress(array.tobytes()) if gzipped == "True" else array.tobytes()
    write_object(root, "old", body, {"dtype": "<f8", "shape": "40,30", "gzip": gzipped, "order": "C"})
    np.testing.assert_array_equal(cci.download_raw_array("old"), array)


def test_fortran_order_is_honoured(root, cci):
    array = np.asfortranarray(ARRAYS["float2d"])
    write_object(root, "f", array.tobytes(order="F"), {"dtype": "<f8", "shape": "40,30", "compression": "False", "order": "F"})
    restored = cci.download_raw_array("f")
    np.testing.assert_array_equal(restored, array)
    assert restored.flags.f_contiguous


def test_dask_layout_written_by_04(root, cci):
    # 0.4's chunking of a (20, 30, 2500) array leaves a trailing empty chunk; a smaller twin here
    array = np.random.default_rng(1).standard_normal((4, 3, 25))
    bounds = [(0, 11), (11, 22), (22, 25), (25, 25)]
    for index, (start, stop) in enumerate(bounds):
        write_raw_04(root, f"prefix/arr/pt{index:04d}", array[..., start:stop].copy(), "gzip")
    write_object(root, "prefix/arr/metadata.json", json.dumps({
        "shape": [4, 3, 25], "dtype": "<f8",
        "dask": [[[0, 0, i], f"prefix/arr/pt{i:04d}"] for i in range(4)],
        "chunk_sizes": [[4, 3, stop - start] for start, stop in bounds],
        "chunks": [[4], [3], [11, 11, 3, 0]],
    }).encode())
    lazy = cci.download_dask_array("prefix/arr")
    assert lazy.shape == (4, 3, 25) and lazy.dtype == np.float64
    np.testing.assert_array_equal(lazy.compute(), array)
    np.testing.assert_array_equal(lazy[..., 5:15].compute(), array[..., 5:15])
    # 0.4 stored full part names: a moved dask array finds its parts under its new name
    cci.mv("prefix/arr", "elsewhere/arr")
    np.testing.assert_array_equal(cci.download_dask_array("elsewhere/arr").compute(), array)


@pytest.mark.parametrize("kind", ["csr", "csc", "coo", "bsr", "dia"])
def test_sparse_layout_written_by_04(root, cci, kind):
    matrix = sp.random(30, 40, density=0.1, format="csr", random_state=2, dtype=np.float64)
    matrix = matrix.tobsr(blocksize=(2, 2)) if kind == "bsr" else matrix.asformat(kind)
    attributes = {"coo": ["row", "col", "data"], "dia": ["data", "offsets"]}.get(kind, ["data", "indices", "indptr"])
    for attribute in attributes:
        write_raw_04(root, f"sparse/{attribute}", np.asarray(getattr(matrix, attribute)), "gzip")
    write_object(root, "sparse/metadata.json", json.dumps({"type": kind, "attrs": attributes, "shape": [30, 40]}).encode())
    restored = cci.download_sparse_array("sparse")
    assert restored.format == kind and isinstance(restored, sp.spmatrix)
    np.testing.assert_array_equal(restored.toarray(), matrix.toarray())


def test_group_written_by_04(root, cci):
    write_raw_04(root, "group/a", ARRAYS["float2d"])
    write_raw_04(root, "group/deep/b", ARRAYS["uint8"], "Zstd")
    write_raw_04(root, "group/deep/deeper/c", ARRAYS["zero_d"], "False")
    restored = cci.cloud2dict("group", verbose=False)
    assert set(restored) == {"a", "deep"} and set(restored["deep"]) == {"b", "deeper"}
    np.testing.assert_array_equal(restored["a"], ARRAYS["float2d"])
    np.testing.assert_array_equal(restored["deep"]["b"], ARRAYS["uint8"])
    np.testing.assert_array_equal(restored["deep"]["deeper"]["c"], ARRAYS["zero_d"])


def test_npy_json_and_pickle_written_by_04(root, cci):
    buffer = io.BytesIO()
    np.save(buffer, ARRAYS["float2d"])
    write_object(root, "x.npy", buffer.getvalue())
    write_object(root, "x.json", json.dumps({"a": [1, 2], "b": "text"}).encode())
    write_object(root, "x.pkl", pickle.dumps({"n": 1}))
    np.testing.assert_array_equal(cci.download_npy_array("x.npy"), ARRAYS["float2d"])
    assert cci.download_json("x.json") == {"a": [1, 2], "b": "text"}
    assert cci.download_pickle("x.pkl") == {"n": 1}


def test_unpickling_can_be_switched_off(root, cc_settings):
    write_object(root, "x.pkl", pickle.dumps({"n": 1}))
    cc_settings.set("basic", "allow_pickle", "False")
    with pytest.raises(CottonCandyError, match="allow_pickle"):
        CCInterface(str(root), backend="local", settings=cc_settings).download_pickle("x.pkl")


# -- here -> 0.4 ---------------------------------------------------------------------------------
# numcodecs' Zstd, LZ4 and Blosc cannot decode even their own encoding of zero bytes, so 0.4 never
# read empty arrays compressed with them; every other pair must read back in 0.4.
WRITTEN_HERE = [(key, compression) for key in ARRAYS
                for compression in (False, "gzip", "zstd", "lz4", "zlib", "bz2", "blosc", True)
                if ARRAYS[key].size or compression in (False, "gzip", "zlib", "bz2")]


@pytest.mark.parametrize("key, compression", WRITTEN_HERE)
def test_raw_arrays_written_here_read_in_04(root, cci, compression, key):
    array = ARRAYS[key]
    cci.upload_raw_array(f"out/{key}", array, compression=compression)
    restored = read_raw_04(root, f"out/{key}")
    assert restored.dtype == array.dtype and restored.shape == array.shape
    np.testing.assert_array_equal(restored, array)


def test_compression_true_uses_the_configured_codec_that_04_names(root, cc_settings):
    cc_settings.set("compression", "small_array", "gzip")
    cci = CCInterface(str(root), backend="local", settings=cc_settings)
    cci.upload_raw_array("small", ARRAYS["float2d"], compression=True)
    metadata = json.loads((root / "small.meta.json").read_text())
    assert metadata["compression"] == "gzip"
    np.testing.assert_array_equal(read_raw_04(root, "small"), ARRAYS["float2d"])


def test_fortran_arrays_written_uncompressed_read_in_04(root, cci):
    array = np.asfortranarray(ARRAYS["float2d"])
    for compression in (False, "gzip"):
        cci.upload_raw_array("f", array, compression=compression)
        np.testing.assert_array_equal(read_raw_04(root, "f"), array)


def test_dask_layout_written_here_read_as_04_does(root, cci):
    array = np.random.default_rng(3).standard_normal((6, 5, 40))
    cci.upload_dask_array("d", array, axis=-1, buffersize=6 * 5 * 8 * 9, compression="gzip")
    metadata = read_json_04(root, "d/metadata.json")
    assert metadata["shape"] == [6, 5, 40] and metadata["dtype"] == "<f8"
    assert metadata["chunks"] == [[6], [5], [9, 9, 9, 9, 4]]
    assert metadata["chunk_sizes"] == [[6, 5, n] for n in (9, 9, 9, 9, 4)]
    rebuilt = np.empty_like(array)
    offsets = np.cumsum([0, *metadata["chunks"][2]])
    for index, part in metadata["dask"]:
        assert part == f"d/pt{index[2]:04d}"
        rebuilt[..., offsets[index[2]] : offsets[index[2] + 1]] = read_raw_04(root, part)
    np.testing.assert_array_equal(rebuilt, array)


def test_sparse_layout_written_here_read_as_04_does(root, cci):
    matrix = sp.random(20, 30, density=0.2, format="csc", random_state=4)
    cci.upload_sparse_array("s", matrix)
    metadata = read_json_04(root, "s/metadata.json")
    assert (metadata["type"], metadata["attrs"], metadata["shape"]) == ("csc", ["data", "indices", "indptr"], [20, 30])
    parts = {a: read_raw_04(root, f"s/{a}") for a in metadata["attrs"]}
    rebuilt = sp.csc_matrix((parts["data"], parts["indices"], parts["indptr"]), shape=(20, 30))
    np.testing.assert_array_equal(rebuilt.toarray(), matrix.toarray())


def test_group_and_npy_written_here_read_as_04_does(root, cci):
    cci.dict2cloud("g", {"a": ARRAYS["uint8"], "deep": {"b": ARRAYS["int32_1d"]}}, verbose=False)
    np.testing.assert_array_equal(read_raw_04(root, "g/a"), ARRAYS["uint8"])
    np.testing.assert_array_equal(read_raw_04(root, "g/deep/b"), ARRAYS["int32_1d"])
    cci.upload_npy_array("n.npy", ARRAYS["float2d"])
    np.testing.assert_array_equal(np.load(io.BytesIO((root / "n.npy").read_bytes())), ARRAYS["float2d"])
