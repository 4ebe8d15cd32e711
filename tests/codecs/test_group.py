"""Groups: dict2cloud / cloud2dict of any depth, and the lazy h5py-like cloud2dataset."""

from __future__ import annotations

import numpy as np
import pytest

from cc_codec_npy.group import Dataset, Group, GroupNotFoundError
from cc_core.browser import attribute_name
from cc_core.errors import InvalidNameError, ObjectNotFoundError

RNG = np.random.default_rng(11)
TREE = {
    "a": RNG.standard_normal((20, 8)),
    "b": {"c": np.arange(5, dtype=np.int16), "d": {"e": np.array(2.5), "f": np.asfortranarray(np.ones((3, 4)))}},
    "strings": np.array(["x", "yz"]),
}


def assert_tree_equal(restored, expected):
    assert set(restored) == set(expected)
    for key, value in expected.items():
        if isinstance(value, dict):
            assert_tree_equal(restored[key], value)
        else:
            assert restored[key].dtype == np.asarray(value).dtype
            np.testing.assert_array_equal(restored[key], value)


def test_round_trip_any_depth(interface, capsys):
    interface.dict2cloud("g", TREE)
    assert 'uploaded arrays in "g"' in capsys.readouterr().out
    assert sorted(interface.glob("g/**")) == ["g/a", "g/b/c", "g/b/d/e", "g/b/d/f", "g/strings"]
    assert_tree_equal(interface.cloud2dict("g", verbose=False), TREE)


def test_non_array_leaves_and_metadata(interface):
    interface.dict2cloud("g", {"n": 3, "l": [1.0, 2.0]}, verbose=False, threads=1, experiment="e1")
    restored = interface.cloud2dict("g", verbose=False)
    assert restored["n"] == 3 and restored["l"].tolist() == [1.0, 2.0]
    assert interface.get_object("g/n").metadata["experiment"] == "e1"


def test_keys_select_children(interface):
    interface.dict2cloud("g", TREE, verbose=False)
    only = interface.cloud2dict("g", keys="b", verbose=False)
    assert_tree_equal(only, {"b": TREE["b"]})
    assert set(interface.cloud2dict("g", keys=["a", "strings"], verbose=False)) == {"a", "strings"}
    with pytest.raises(ObjectNotFoundError, match="g/missing"):
        interface.cloud2dict("g", keys=["missing"], verbose=False)


def test_empty_or_missing_group_is_a_clear_error(interface):
    with pytest.raises(GroupNotFoundError, match="nothing is stored under 'nothing/'"):
        interface.cloud2dict("nothing", verbose=False)
    interface.upload_raw_array("single", np.ones(2))
    with pytest.raises(GroupNotFoundError, match="download_raw_array"):
        interface.cloud2dataset("single")


def test_bad_keys_and_leaves_are_refused(interface):
    with pytest.raises(InvalidNameError):
        interface.dict2cloud("g", {"a/b": np.ones(1)}, verbose=False)
    with pytest.raises(ValueError, match="dtype object"):
        interface.dict2cloud("g", {"ragged": np.array([[1], [1, 2]], dtype=object)}, verbose=False)


def test_objects_that_are_not_arrays_become_none_with_a_warning(interface):
    interface.dict2cloud("g", {"a": np.ones(2)}, verbose=False)
    interface.upload_json("g/meta.json", {"x": 1})
    with pytest.warns(UserWarning, match="g/meta.json"):
        restored = interface.cloud2dict("g", verbose=False)
    assert restored["meta.json"] is None and restored["a"].tolist() == [1.0, 1.0]


def test_lazy_dataset_reads_metadata_only(counting_interface, reads):
    counting_interface.dict2cloud("g", TREE, verbose=False)
    reads.clear()
    group = counting_interface.cloud2dataset("g")
    assert isinstance(group, Group) and group.keys() == ["a", "b", "strings"]
    assert "b" in group and "zzz" not in group and len(group) == 3
    dataset = group["b/d/f"]
    assert isinstance(dataset, Dataset)
    assert (dataset.shape, dataset.dtype, dataset.nbytes, dataset.ndim) == ((3, 4), np.float64, 96, 2)
    assert isinstance(group["b"]["d"], Group)
    assert sum(reads.values()) == 0
    np.testing.assert_array_equal(dataset.load(), TREE["b"]["d"]["f"])
    assert reads["g/b/d/f"] == 1
    with pytest.raises(KeyError, match="zzz"):
        group["zzz"]


def test_slicing_reads_only_the_rows_asked_for(counting_interface, reads):
    array = TREE["a"]
    counting_interface.upload_raw_array("g/a", array, compression=False)
    dataset = counting_interface.cloud2dataset("g")["a"]
    for key in (5, -1, slice(3, 9), slice(2, 18, 4), (slice(1, 4), 2), (7, slice(None, None, 2)), slice(30, 40)):
        np.testing.assert_array_equal(dataset[key], array[key])
    np.testing.assert_array_equal(dataset[..., 3], array[..., 3])  # falls back to a full load
    np.testing.assert_array_equal(np.asarray(dataset), array)
    with pytest.raises(IndexError):
        dataset[20]


def test_slicing_compressed_datasets_loads_them(interface):
    interface.upload_raw_array("g/z", TREE["a"], compression="zstd")
    dataset = interface.cloud2dataset("g")["z"]
    assert dataset.compression == ["zstd"]
    np.testing.assert_array_equal(dataset[2:4, 1], TREE["a"][2:4, 1])


def test_attribute_access_with_04_name_mangling(interface):
    interface.dict2cloud("g", {"sub.grp": {"n2.npy": np.ones(2)}, "01-x": np.zeros(1)}, verbose=False, note="n")
    group = interface.cloud2dataset("g")
    assert attribute_name("sub.grp") == "sub_DOT_grp" and attribute_name("01-x") == "NUM_01_x"
    assert {"sub_DOT_grp", "NUM_01_x"} <= set(dir(group))
    np.testing.assert_array_equal(group.sub_DOT_grp.n2_DOT_npy.load(), np.ones(2))
    assert group.NUM_01_x.attrs == {"note": "n"}
    assert group.load("01-x").tolist() == [0.0]
    assert_tree_equal(group.load(), {"sub.grp": {"n2.npy": np.ones(2)}, "01-x": np.zeros(1)})
    assert "2 keys" in repr(group) and "shape=(1,)" in repr(group["01-x"])


def test_leaves_transfer_in_parallel(counting_interface, writer_threads):
    counting_interface.dict2cloud("p", {f"k{i}": np.ones(1000) for i in range(16)}, verbose=False, threads=4)
    assert len(writer_threads) > 1
    assert all(name.startswith("cc-parts") for name in writer_threads)


def test_a_lazy_group_lists_once_until_refreshed(memory_interface, monkeypatch):
    memory_interface.dict2cloud("big", {f"leaf{i:03d}": np.full(2, i) for i in range(40)} | {"sub": {"a": np.ones(1)}})
    backend = memory_interface.backend
    lists = []
    original = backend.list
    monkeypatch.setattr(backend, "list", lambda *args, **kwargs: lists.append(args) or original(*args, **kwargs))
    group = memory_interface.cloud2dataset("big")
    assert [int(dataset.load()[0]) for key, dataset in group.items() if key != "sub"] == list(range(40))
    group["sub/a"], group["sub"]["a"], group["leaf007"].shape
    assert len(lists) == 2  # the group and its subgroup, once each
    memory_interface.upload_raw_array("big/late", np.zeros(1))
    assert "late" not in group
    group.refresh()
    assert "late" in group and len(lists) == 3
