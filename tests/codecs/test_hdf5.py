"""HDF5 files through h5py: upload as a group, download into a file, every dataset and attribute kept."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from cc_codec_npy.group import GroupNotFoundError
from cc_core.errors import InvalidArrayError, MetadataError

RNG = np.random.default_rng(3)


def build_file(path: Path) -> Path:
    with h5py.File(path, "w") as file:
        file.attrs["title"] = "session 1"
        file.attrs["version"] = np.int64(3)
        file.attrs["weights"] = np.array([0.5, 0.25, 0.25])
        file.attrs["tags"] = np.array(["a", "bc"], dtype=h5py.string_dtype())
        file.attrs["raw"] = np.bytes_(b"fixed bytes")
        data = file.create_dataset("data", data=RNG.standard_normal((30, 20)), chunks=(10, 10), compression="gzip")
        data.attrs["units"] = "mV"
        data.attrs["rate"] = 1000.0
        data.attrs["matrix"] = np.eye(2, dtype=np.float32)
        sub = file.create_group("sub/deeper")
        sub.attrs["note"] = "nested group"
        sub.create_dataset("ints", data=np.arange(12, dtype=">i2").reshape(3, 4))
        sub.create_dataset("scalar", data=7.5)
        file.create_dataset("sub/names", data=["alpha", "béta", "c"], dtype=h5py.string_dtype("utf-8"))
        file.create_dataset("fixed", data=np.array([b"ab", b"cd"], dtype="S2"))
        file.create_dataset("table", data=np.array([(1, 2.0), (3, 4.0)], dtype=[("i", "<i4"), ("f", "<f8")]))
        file.create_dataset("empty", data=np.zeros((0, 3), dtype=np.uint8))
        file.create_group("empty_group").attrs["why"] = "kept"
    return path


def walk(file: h5py.File) -> dict[str, object]:
    nodes: dict[str, object] = {"/": file}
    file.visititems(lambda name, node: nodes.__setitem__(name, node))
    return nodes


def assert_same_attrs(left, right) -> None:
    assert sorted(left.attrs) == sorted(right.attrs)
    for key in left.attrs:
        a, b = left.attrs[key], right.attrs[key]
        assert type(a) is type(b), key
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype or (a.dtype.kind == b.dtype.kind == "O")
            assert a.shape == b.shape
            assert a.tolist() == b.tolist()
        else:
            assert a == b


def assert_same_file(original: Path, copy: Path) -> None:
    with h5py.File(original, "r") as left, h5py.File(copy, "r") as right:
        left_nodes, right_nodes = walk(left), walk(right)
        assert sorted(left_nodes) == sorted(right_nodes)
        for path, node in left_nodes.items():
            other = right_nodes[path]
            assert type(node) is type(other), path
            assert_same_attrs(node, other)
            if isinstance(node, h5py.Dataset):
                assert node.shape == other.shape and node.dtype == other.dtype, path
                string = h5py.check_string_dtype(node.dtype)
                if string is not None and string.length is None:
                    assert node.asstr()[()].tolist() == other.asstr()[()].tolist()
                else:
                    np.testing.assert_array_equal(node[()], other[()])


@pytest.mark.parametrize("compression", [False, "zstd"])
def test_round_trip_keeps_every_dataset_and_attribute(interface, tmp_path, compression):
    original = build_file(tmp_path / "in.h5")
    interface.upload_hdf5("exp/session.h5", original, compression=compression)
    written = interface.download_hdf5("exp/session.h5", tmp_path / "out" / "copy.h5")
    assert written == str((tmp_path / "out" / "copy.h5").absolute())
    assert_same_file(original, Path(written))


def test_uploaded_file_is_an_ordinary_group(interface, tmp_path):
    original = build_file(tmp_path / "in.h5")
    interface.upload_hdf5("f", original)
    restored = interface.cloud2dict("f", verbose=False)
    with h5py.File(original, "r") as file:
        np.testing.assert_array_equal(restored["data"], file["data"][()])
        np.testing.assert_array_equal(restored["sub"]["deeper"]["ints"], file["sub/deeper/ints"][()])
    assert restored["sub"]["names"].tolist() == ["alpha", "béta", "c"]
    group = interface.cloud2dataset("f")
    assert group.keys() == ["data", "empty", "fixed", "sub", "table"]
    assert group["data"].shape == (30, 20)


def test_any_group_downloads_as_hdf5(interface, tmp_path):
    tree = {"a": np.arange(6.0).reshape(2, 3), "s": np.array(["x", "yy"]), "b": {"c": np.int8(4)}}
    interface.dict2cloud("plain", tree, verbose=False)
    path = interface.download_hdf5("plain", tmp_path / "plain.h5")
    with h5py.File(path, "r") as file:
        np.testing.assert_array_equal(file["a"][()], tree["a"])
        assert file["s"].asstr()[()].tolist() == ["x", "yy"]
        assert file["b/c"][()] == 4


def test_failures_leave_no_file(interface, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(GroupNotFoundError):
        interface.download_hdf5("missing", out / "never.h5")
    interface.dict2cloud("broken", {"a": np.ones(3)}, verbose=False)
    interface.upload_object("broken/b", b"not an array")
    with pytest.raises(MetadataError, match="broken/b"):
        interface.download_hdf5("broken", out / "never.h5")
    assert list(out.iterdir()) == []


def test_unsupported_datatypes_are_named(interface, tmp_path):
    path = tmp_path / "refs.h5"
    with h5py.File(path, "w") as file:
        file.create_dataset("ragged", (2,), dtype=h5py.vlen_dtype(np.int32))
    with pytest.raises(InvalidArrayError, match="ragged"):
        interface.upload_hdf5("r", path)
