"""The benchmarks' in-memory S3 stub answers what the contestants send, over http and https (a CA it made)."""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
import numpy as np
import pytest
from botocore.client import Config as BotoConfig
from botocore.exceptions import ClientError

import cottoncandy as cc

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from s3stub import StubServer

ARRAY = np.random.default_rng(3).random(300_000)  # 2.4 MB


@pytest.fixture(scope="module", params=["http", "https"])
def stub(request):
    server = StubServer(https=request.param == "https")
    server.create_bucket("bench")
    yield server
    server.stop()


def boto3_client(stub, **config):
    return boto3.client("s3", endpoint_url=stub.endpoint, aws_access_key_id="k", aws_secret_access_key="s",
                        region_name="us-east-1", verify=stub.ca_bundle or True,
                        config=BotoConfig(s3={"addressing_style": "path"}, **config))


def test_boto3_puts_and_gets_also_aws_chunked_bodies(stub):
    client = boto3_client(stub)
    data = ARRAY.tobytes()
    client.put_object(Bucket="bench", Key="plain", Body=data)  # over https: aws-chunked with a CRC32 trailer
    assert client.get_object(Bucket="bench", Key="plain")["Body"].read() == data
    part = client.get_object(Bucket="bench", Key="plain", Range="bytes=10-19")
    assert part["Body"].read() == data[10:20] and part["ContentRange"] == f"bytes 10-19/{len(data)}"
    etag = client.head_object(Bucket="bench", Key="plain")["ETag"]
    with pytest.raises(ClientError, match="PreconditionFailed|412"):
        client.get_object(Bucket="bench", Key="plain", IfMatch='"not-it"')
    assert client.get_object(Bucket="bench", Key="plain", IfMatch=etag)["ContentLength"] == len(data)
    client.delete_object(Bucket="bench", Key="plain")
    with pytest.raises(ClientError, match="404|NoSuchKey"):
        client.head_object(Bucket="bench", Key="plain")


def test_this_project_round_trips_through_one_put_parts_ranges_and_copies(stub):
    options = {"verify": stub.ca_bundle} if stub.ca_bundle else {}
    cci = cc.get_interface("bench", ACCESS_KEY="k", SECRET_KEY="s", endpoint_url=stub.endpoint, backend="s3",
                           verbose=False, **options)
    cci.upload_raw_array("one/array", ARRAY)
    np.testing.assert_array_equal(cci.download_raw_array("one/array"), ARRAY)
    parts = cc.get_interface("bench", ACCESS_KEY="k", SECRET_KEY="s", endpoint_url=stub.endpoint, backend="s3",
                             verbose=False, multipart_threshold=1 << 20, part_size=1 << 20, min_part_size=1 << 19,
                             download_threshold=1 << 20, download_part_size=1 << 19, **options)
    parts.upload_raw_array("parts/array", ARRAY)
    np.testing.assert_array_equal(parts.download_raw_array("parts/array"), ARRAY)
    cci.cp("parts/array", "copy/array")
    np.testing.assert_array_equal(cci.download_raw_array("copy/array"), ARRAY)
    listed = {item["Key"] for item in boto3_client(stub).list_objects_v2(Bucket="bench", Prefix="")["Contents"]}
    assert {"one/array", "parts/array", "copy/array"} <= listed
    assert stub.stored_bytes_and_clear("bench", "") == 0  # no rep<N> names: nothing counted, all deleted
    assert boto3_client(stub).list_objects_v2(Bucket="bench").get("KeyCount") == 0
