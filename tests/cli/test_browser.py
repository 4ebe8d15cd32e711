"""The browser: 0.4's name mangling, descending by attribute and key, groups, datasets from metadata."""

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.browser import Browser, Dataset, Group, LayoutDataset, attribute_name


@pytest.fixture
def bucket(interface):
    for index in (1, 2, 3):
        interface.upload_raw_array(f"sweet_project/sub01_awesome_analysis.grp/result_model0{index}",
                                   np.arange(10000.0) * index)
    interface.upload_raw_array("sweet_project/sub02_awesome_analysis.ccg/deep/inner", np.ones((2, 3), np.int16))
    interface.upload_raw_array("sweet_project/2nd-run.v1/weights", np.zeros((4, 5)), compression="gzip")
    interface.upload_json("sweet_project/notes.json", {"fine": True})
    interface.upload_object("sweet_project/readme", b"plain bytes")
    interface.upload_object("top-level", b"x")
    return interface


@pytest.mark.parametrize("name, attribute", [
    ("sub01_awesome_analysis.grp", "sub01_awesome_analysis_DOT_grp"), ("2nd-run", "NUM_2nd_run"),
    ("result_model01", "result_model01"), ("a.b.c", "a_DOT_b_DOT_c"), ("with space+plus", "with_space_plus"),
    ("01", "NUM_01"),
])
def test_attribute_names(name, attribute):
    assert attribute_name(name) == attribute and attribute.isidentifier()


def test_descends_like_the_04_docstring(bucket):
    browser = bucket.get_browser()
    assert isinstance(browser, Browser)
    assert dir(browser) == ["sweet_project", "top_level"]
    project = browser.sweet_project
    assert repr(project) == f"cottoncandy-path <bucket:{bucket.bucket_name}> sweet_project"
    assert dir(project) == ["NUM_2nd_run_DOT_v1", "notes_DOT_json", "readme", "sub01_awesome_analysis_DOT_grp",
                            "sub02_awesome_analysis_DOT_ccg"]
    group = project.sub01_awesome_analysis_DOT_grp
    assert isinstance(group, Group)
    assert repr(group) == f"<cottoncandy-group <bucket:{bucket.bucket_name}> (sub01_awesome_analysis.grp: 3 keys)>"
    assert dir(group) == ["keys", "load", "result_model01", "result_model02", "result_model03"]
    dataset = group.result_model01
    assert isinstance(dataset, Dataset)
    assert repr(dataset) == f"<cottoncandy-dataset <bucket:{bucket.bucket_name} [0.08MB:shape=(10000)]>"
    assert dataset.shape == (10000,) and dataset.dtype == np.float64 and dataset.stored_bytes == 80000
    np.testing.assert_array_equal(dataset.load(), np.arange(10000.0))
    assert group._fullpath == "sweet_project/sub01_awesome_analysis.grp"
    assert dataset._fullpath == "sweet_project/sub01_awesome_analysis.grp/result_model01"
    assert dataset().size == 80000  # calling a node gives the object's info, as 0.4 gave the boto3 object


def test_dataset_repr_needs_no_download(bucket, monkeypatch):
    dataset = bucket.get_browser().sweet_project.sub01_awesome_analysis_DOT_grp.result_model02

    def refuse(*args, **kwargs):
        raise AssertionError("data was downloaded")

    for method in ("get_into", "iter_chunks"):
        monkeypatch.setattr(type(bucket.backend), method, refuse)
    assert "shape=(10000)" in repr(dataset) and dataset.shape == (10000,)


def test_group_keys_and_load(bucket):
    group = bucket.get_browser().sweet_project.sub01_awesome_analysis_DOT_grp
    assert group.keys() == ["result_model01", "result_model02", "result_model03"]
    np.testing.assert_array_equal(group.load("result_model02"), np.arange(10000.0) * 2)
    everything = group.load()
    assert sorted(everything) == group.keys()
    np.testing.assert_array_equal(everything["result_model03"], np.arange(10000.0) * 3)
    nested = bucket.get_browser().sweet_project.sub02_awesome_analysis_DOT_ccg  # ccg: a group extension too
    assert isinstance(nested, Group) and isinstance(nested.deep, Group)
    assert nested.load()["deep"]["inner"].dtype == np.int16
    np.testing.assert_array_equal(nested.load("deep/inner"), np.ones((2, 3)))
    with pytest.raises(KeyError, match="missing"):
        group.load("missing")


def test_items_and_ipython_key_completion(bucket):
    browser = cc.get_browser(bucket.bucket_name, backend=bucket.backend_name)
    project = browser["sweet_project"]
    assert project._ipython_key_completions_() == ["2nd-run.v1", "notes.json", "readme",
                                                    "sub01_awesome_analysis.grp", "sub02_awesome_analysis.ccg"]
    assert project["2nd-run.v1"]["weights"].shape == (4, 5)
    assert project["NUM_2nd_run_DOT_v1"]._fullpath == "sweet_project/2nd-run.v1"
    assert browser["sweet_project/2nd-run.v1/weights"].load().shape == (4, 5)
    assert "notes.json" in project and "notes_DOT_json" in project and len(project) == 5
    assert list(browser) == ["sweet_project", "top-level"]
    assert project["notes.json"].load() == {"fine": True}
    assert project.readme.load() == b"plain bytes"
    assert repr(project.readme) == f"<cottoncandy-file <bucket:{bucket.bucket_name}> (readme: 0.00MB)>"
    with pytest.raises(KeyError, match="nope"):
        project["nope"]
    with pytest.raises(KeyError, match="not a folder"):
        project["readme/below"]


def test_missing_attribute_lists_children(bucket):
    browser = bucket.get_browser()
    with pytest.raises(AttributeError, match="sweet_project"):
        _ = browser.no_such_thing
    assert not hasattr(browser, "_repr_html_")  # IPython's probes are plain AttributeErrors


def test_ls_glob_and_refresh(bucket):
    browser = bucket.get_browser()
    project = browser.sweet_project
    assert project._ls() == dir(project)
    assert project._glob() == bucket.glob("sweet_project")
    assert project._glob("*.grp/*") == [f"sweet_project/sub01_awesome_analysis.grp/result_model0{i}" for i in (1, 2, 3)]
    bucket.upload_object("sweet_project/late", b"new")
    assert "late" not in dir(project)  # the listing is read once per node ...
    assert "late" in dir(project._refresh())  # ... until refreshed
    assert browser.sweet_project["late"].load() == b"new"


def test_browser_starting_below_the_top(bucket):
    browser = cc.get_browser(bucket.bucket_name, backend=bucket.backend_name, path="sweet_project/")
    assert browser._fullpath == "sweet_project" and "readme" in dir(browser)


def test_dataset_extension_folder_holds_one_array(interface):
    pytest.importorskip("cc_codec_npy")
    pytest.importorskip("scipy")
    import scipy.sparse

    matrix = scipy.sparse.random(20, 30, density=0.1, format="csr", random_state=0)
    interface.upload_sparse_array("arrays/m.arr", matrix)
    node = interface.get_browser().arrays.m_DOT_arr
    assert isinstance(node, LayoutDataset)
    assert node.shape == (20, 30) and "shape=(20,30)" in repr(node)
    assert (node.load() != matrix).nnz == 0
