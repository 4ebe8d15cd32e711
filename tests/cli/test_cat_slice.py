"""``cottoncandy cat --slice`` prints part of a stored array; ``info`` says whether an object can be
read in ranges."""

import json

import numpy as np
import pytest

from cc_core.cli import main
from cc_core.lazy_array import parse_selection

ARRAY = np.arange(60.0).reshape(10, 6)


@pytest.fixture
def store(local_interface):
    local_interface.upload_raw_array("plain", ARRAY, compression=False)
    local_interface.upload_raw_array("packed", ARRAY, compression="gzip")
    local_interface.upload_raw_array("seekable", ARRAY, compression="zstd-seekable")
    return local_interface.bucket_name + "/"


def run(capsys, *arguments):
    code = main([str(a) for a in arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("text, expected", [
    ("10:20,:", (slice(10, 20), slice(None))), ("3", 3), ("-1, ::-2", (-1, slice(None, None, -2))),
    ("...,1", (Ellipsis, 1)), ("None,2:", (None, slice(2, None))), ("()", ()), ("", ()), ("1:2:3", slice(1, 2, 3)),
])
def test_parse_selection(text, expected):
    assert parse_selection(text) == expected


@pytest.mark.parametrize("text", ["a:b", "1:2:3:4", "[1,2]", "1.5"])
def test_parse_selection_refuses(text):
    with pytest.raises(ValueError, match="slice"):
        parse_selection(text)


@pytest.mark.parametrize("name", ["plain", "packed", "seekable"])
def test_cat_slice(store, capsys, name):
    code, out, _ = run(capsys, "cat", store + name, "--slice", "2:4, ::-3")
    assert code == 0 and out == repr(ARRAY[2:4, ::-3]) + "\n"
    record = json.loads(run(capsys, "cat", "--json", "--slice=-1,2", store + name)[1])
    assert record == {"name": store + name, "selection": "-1,2", "dtype": "float64", "shape": [], "data": 56.0}
    record = json.loads(run(capsys, "cat", "--json", "--slice", "1:3,0", store + name)[1])
    assert record["shape"] == [2] and record["data"] == [6.0, 12.0]


def test_cat_slice_errors(store, capsys):
    code, _, err = run(capsys, "cat", store + "plain", "--slice", "99")
    assert code == 1 and "out of bounds" in err
    code, _, err = run(capsys, "cat", store + "plain", "--slice", "x")
    assert code == 1 and "slice" in err


def test_info_says_whether_slices_are_ranged_reads(store, capsys):
    assert "  slices:      random access\n" in run(capsys, "info", store + "plain")[1]
    assert "  slices:      not seekable: a slice reads the whole object\n" in run(capsys, "info", store + "packed")[1]
    assert "  slices:      random access\n" in run(capsys, "info", store + "seekable")[1]
    assert json.loads(run(capsys, "info", "--json", store + "seekable")[1])["random_access"] is True
    assert json.loads(run(capsys, "info", "--json", store + "plain")[1])["random_access"] is True
    assert json.loads(run(capsys, "info", "--json", store + "packed")[1])["random_access"] is False
