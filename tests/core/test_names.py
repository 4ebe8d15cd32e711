"""Bad object names are refused before anything is written."""

import numpy as np
import pytest

from cc_core.errors import InvalidNameError
from cc_core.names import object_name, split_url

BAD = ["", "/", "///", "a/../b", "..", "./a", "a//b", "a/./b", "a\x00b", "folder/", "x" * 1025, "é" * 513]


@pytest.mark.parametrize("name", BAD, ids=repr)
def test_bad_names(name):
    with pytest.raises(InvalidNameError):
        object_name(name)


@pytest.mark.parametrize("name", BAD[:6], ids=repr)
def test_nothing_is_written_for_a_bad_name(interface, name):
    with pytest.raises(InvalidNameError):
        interface.upload_raw_array(name, np.arange(3))
    assert interface.glob("**") == []


def test_good_names():
    assert object_name("/exp/run1") == "exp/run1"
    assert object_name("a b/ü.npy") == "a b/ü.npy"
    assert object_name("x" * 1024) == "x" * 1024


def test_split_url():
    assert split_url("s3://bucket/a/b") == ("s3", "bucket", "a/b")
    assert split_url("plain/name") == ("", "", "plain/name")
