"""s3://bucket/key names work wherever a name does, on the real HTTP stack."""

import uuid

import numpy as np
import pytest

from cc_core.errors import InvalidNameError


@pytest.fixture
def second_bucket(s3_client):
    name = f"cc-test-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=name)
    yield name
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            s3_client.delete_object(Bucket=name, Key=item["Key"])
    s3_client.delete_bucket(Bucket=name)


def test_s3_urls_name_objects_in_any_bucket(s3_interface, s3_bucket, second_bucket, s3_client):
    array = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    url = f"s3://{second_bucket}/exp/run1/w"
    s3_interface.upload_raw_array(url, array, note="cross-bucket")
    assert s3_client.head_object(Bucket=second_bucket, Key="exp/run1/w")["Metadata"]["note"] == "cross-bucket"
    restored = s3_interface.download_raw_array(url)
    assert restored.flags.f_contiguous and (restored == array).all()
    assert s3_interface.glob(f"s3://{second_bucket}/exp/**") == [url]
    assert s3_interface.ls(f"s3://{second_bucket}/exp/*") == [f"s3://{second_bucket}/exp/run1"]
    s3_interface.cp(url, f"s3://{s3_bucket}/copied/w")  # server-side, across buckets
    np.testing.assert_array_equal(s3_interface.download_raw_array("copied/w"), array)
    s3_interface.mv(f"s3://{second_bucket}/exp", "moved")
    assert s3_interface.glob(f"s3://{second_bucket}/**") == []
    assert s3_interface.glob("moved/**") == ["moved/run1/w"]
    assert s3_interface.rm(f"s3://{s3_bucket}/moved", recursive=True) == ["moved/run1/w"]


def test_other_backends_urls_are_refused(s3_interface):
    with pytest.raises(InvalidNameError, match="get_interface"):
        s3_interface.download_raw_array("gdrive://folder/x")
