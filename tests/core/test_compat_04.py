"""Objects laid out as cottoncandy 0.4 writes them read back, and ours are what 0.4 reads.

The 0.4 objects are built byte for byte from shared/FORMATS-cottoncandy-0.4.md (local layout:
NAME plus NAME.meta.json), not by running cottoncandy 0.4.
"""

import bz2
import gzip
import json
import zlib

import numpy as np
import pytest


def write_04_object(root, name, body, metadata):
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    (root / (name + ".meta.json")).write_text(json.dumps(metadata))


@pytest.fixture
def store(local_interface):
    return local_interface, local_interface.backend.root


def test_reads_04_gzip_raw_array(store):
    cci, root = store
    array = np.random.default_rng(0).standard_normal((40, 30))
    write_04_object(root, "old/gz", gzip.compress(array.tobytes(), compresslevel=9),
                    {"dtype": "<f8", "shape": "40,30", "compression": "gzip", "order": "C"})
    np.testing.assert_array_equal(cci.download_raw_array("old/gz"), array)


@pytest.mark.parametrize("value,body", [("False", lambda a: a.tobytes()), ("None", lambda a: a.tobytes()),
                                        ("Zlib", lambda a: zlib.compress(a.tobytes())),
                                        ("BZ2", lambda a: bz2.compress(a.tobytes()))])
def test_reads_04_compression_values(store, value, body):
    cci, root = store
    array = np.arange(256, dtype=np.uint8).reshape(16, 16)
    write_04_object(root, "old/x", body(array), {"dtype": "|u1", "shape": "16,16", "compression": value, "order": "C"})
    np.testing.assert_array_equal(cci.download_raw_array("old/x"), array)


def test_reads_04_legacy_gzip_key_and_zero_d(store):
    cci, root = store
    write_04_object(root, "old/legacy", gzip.compress(np.arange(6, dtype="<i4").tobytes()),
                    {"dtype": "<i4", "shape": "2,3", "gzip": "True", "order": "C"})
    np.testing.assert_array_equal(cci.download_raw_array("old/legacy"), np.arange(6).reshape(2, 3))
    write_04_object(root, "old/scalar", np.array(4.25).tobytes(),
                    {"dtype": "<f8", "shape": "", "compression": "False", "order": "C"})
    restored = cci.download_raw_array("old/scalar")
    assert restored.shape == () and restored == 4.25


def test_reads_04_fortran_order(store):
    cci, root = store
    array = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    write_04_object(root, "old/f", array.tobytes(order="F"),
                    {"dtype": "<f8", "shape": "3,4", "compression": "False", "order": "F"})
    np.testing.assert_array_equal(cci.download_raw_array("old/f"), array)


def test_reads_04_json_and_plain_objects(store):
    cci, root = store
    write_04_object(root, "old/info.json", json.dumps({"a": [1, 2]}).encode(), {})
    assert cci.download_json("old/info.json") == {"a": [1, 2]}
    (root / "old" / "no-meta").write_bytes(b"bytes without a sidecar")
    assert cci.download_object("old/no-meta") == b"bytes without a sidecar"


@pytest.mark.parametrize("compression,decode", [(False, lambda b: b), ("gzip", gzip.decompress),
                                                ("zlib", zlib.decompress), ("bz2", bz2.decompress)])
def test_what_we_write_is_04_layout(store, compression, decode):
    cci, root = store
    array = np.arange(60, dtype="<i2").reshape(6, 10)
    cci.upload_raw_array("new/a", array, compression=compression)
    metadata = json.loads((root / "new" / "a.meta.json").read_text())
    assert metadata["dtype"] == "<i2" and metadata["shape"] == "6,10" and metadata["order"] == "C"
    assert metadata["compression"] == {False: "False", "gzip": "gzip", "zlib": "Zlib", "bz2": "BZ2"}[compression]
    assert decode((root / "new" / "a").read_bytes()) == array.tobytes()


@pytest.mark.parametrize("compression,expected", [("zlib", "zlib;order=F"), ("bz2", "bz2;order=F"), ("gzip", "gzip"), (False, "False")])
def test_fortran_arrays_never_misread_by_04(store, compression, expected):
    """0.4 reshapes numcodecs bodies in C order: an F-ordered array gets a compression value 0.4
    refuses ("Unknown compression scheme") rather than one it would read transposed."""
    cci, root = store
    array = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    cci.upload_raw_array("new/f", array, compression=compression)
    assert json.loads((root / "new" / "f.meta.json").read_text())["compression"] == expected
    restored = cci.download_raw_array("new/f")
    assert restored.flags.f_contiguous and (restored == array).all()
