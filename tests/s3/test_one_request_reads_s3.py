"""Reading an object is one GET: its size, version and metadata come from the GET's answer.

A dask part or a group leaf used to cost a HEAD and then a GET (2,000 parts: 4,000 requests);
requests are counted at botocore's ``before-call`` event, so retries inside botocore do not count.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cc_core.errors import ObjectChangedError
from s3.conftest import count_calls


def test_a_dask_array_of_n_parts_is_read_with_n_gets_and_no_head(s3_interface):
    s3_interface.upload_dask_array("parts", np.arange(4000.0), buffersize=8000)  # 4000 * 8 / 8000 = 4 parts
    calls = count_calls(s3_interface)
    lazy = s3_interface.download_dask_array("parts")
    np.testing.assert_array_equal(lazy.compute(scheduler="sync"), np.arange(4000.0))
    assert lazy.npartitions == 4
    assert calls == {"GetObject": 4 + 1}  # the parts and the layout's metadata


def test_cloud2dict_of_n_leaves_is_one_listing_and_n_gets(s3_interface):
    leaves = {f"leaf{i:03d}": np.full(3, i) for i in range(12)}
    s3_interface.dict2cloud("group", leaves)
    calls = count_calls(s3_interface)
    back = s3_interface.cloud2dict("group")
    assert sorted(back) == sorted(leaves)
    np.testing.assert_array_equal(back["leaf007"], leaves["leaf007"])
    assert calls == {"ListObjectsV2": 1, "GetObject": 12}


@pytest.mark.parametrize("transforms", [None, "gzip"], ids=["raw", "compressed"])
def test_a_download_is_one_get(s3_interface, transforms):
    s3_interface.upload_raw_array("one", np.arange(100), transforms=transforms)
    calls = count_calls(s3_interface)
    np.testing.assert_array_equal(s3_interface.download_raw_array("one"), np.arange(100))
    assert calls == {"GetObject": 1}


def test_an_empty_object_is_read(s3_interface):
    s3_interface.upload_raw_array("empty", np.zeros(0))
    assert s3_interface.download_raw_array("empty").shape == (0,)


def test_an_object_larger_than_the_first_request_is_read_in_ranges_of_one_version(s3_interface):
    backend = s3_interface.backend
    backend.transfer = backend.transfer.with_options(download_threshold=64 << 10, download_part_size=64 << 10)
    data = np.random.default_rng(0).random(100_000)  # 800 kB: 13 ranges of 64 KiB
    s3_interface.upload_raw_array("big", data)
    calls = count_calls(s3_interface)
    np.testing.assert_array_equal(s3_interface.download_raw_array("big"), data)
    assert calls == {"GetObject": 13}


def test_a_replaced_object_is_read_again_whole(s3_interface, monkeypatch):
    """The object is replaced between the first GET and the next ranges: the read starts over."""
    backend = s3_interface.backend
    backend.transfer = backend.transfer.with_options(download_threshold=64 << 10, download_part_size=64 << 10)
    old, new = np.zeros(50_000), np.ones(50_000)
    s3_interface.upload_raw_array("moving", old)
    from cc_backend_s3.transfer import S3Object

    original = S3Object._get
    gets = []

    def get(self: Any, *args: Any, **options: Any) -> Any:
        gets.append(args)
        if len(gets) == 2:  # after the first GET, before the ranges of the rest
            s3_interface.upload_raw_array("moving", new)
        return original(self, *args, **options)

    monkeypatch.setattr(S3Object, "_get", get)
    np.testing.assert_array_equal(s3_interface.download_raw_array("moving"), new)
    assert len(gets) > 7  # read again, whole
    with pytest.raises(ObjectChangedError):  # the version pin is kept on the ranges after the first
        backend.get_into("moving", memoryview(bytearray(10)), version='"not-this-one"')

