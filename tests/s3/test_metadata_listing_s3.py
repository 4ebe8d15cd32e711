"""Metadata as S3 headers (exact round trips, limits) and listing past S3's 1,000-key pages."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings, strategies as st

from cc_backend_s3.metadata import decode_metadata, decode_value, encode_metadata, encode_value
from cc_core.errors import MetadataError
from cc_core.payload import Payload

from .conftest import ACCESS_KEY, SECRET_KEY


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_every_value_round_trips_through_ascii_headers(value):
    encoded = encode_value(value)
    assert encoded.isascii() and encoded == encoded.strip() and "\n" not in encoded and "\r" not in encoded
    assert decode_value(encoded) == value


def test_values_s3_itself_encoded_are_decoded():
    assert decode_value("=?UTF-8?B?Y2Fmw6k=?=") == "café"
    assert decode_value("=?UTF-8?Q?caf=C3=A9?=") == "café"
    assert decode_value("=?not-encoded") == "=?not-encoded"


def test_keys_are_lower_cased_and_checked():
    assert encode_metadata({"Subject": "S01"}, where="x") == {"subject": "S01"}
    with pytest.raises(MetadataError, match="differ only in case"):
        encode_metadata({"Subject": "1", "subject": "2"}, where="s3://b/x")
    with pytest.raises(MetadataError, match="'has space' of s3://b/x"):
        encode_metadata({"has space": "1"}, where="s3://b/x")


def test_metadata_round_trip_on_s3(s3_backend, s3_client, s3_bucket):
    metadata = {"dtype": "<f8", "note": "naïve café ☕", "spaces": "  both ends ", "looks": "=?UTF-8?B?eA==?=",
                "lines": "a\nb", "empty": "", "Mixed-Case": "v"}
    s3_backend.put("m", Payload([b"1"]), metadata)
    expected = {k.lower(): v for k, v in metadata.items()}
    assert s3_backend.head("m").metadata == expected
    raw = s3_client.head_object(Bucket=s3_bucket, Key="m")["Metadata"]
    assert raw["dtype"] == "<f8" and decode_metadata(raw) == expected


def test_too_much_metadata_fails_before_any_byte_is_sent(s3_backend, s3_faults):
    log = s3_faults(s3_backend, "PutObject")
    with pytest.raises(MetadataError, match="takes 21.. bytes as S3 headers; S3 allows 2048"):
        s3_backend.put("big-meta", Payload([b"data"]), {"note": "é" * 800})  # 1,600 bytes, 2,1xx encoded
    assert log.count("PutObject") == 0 and not s3_backend.exists("big-meta")


def test_interface_refuses_large_metadata_too(s3_interface):
    with pytest.raises(MetadataError, match="2048"):
        s3_interface.upload_object("big-meta", b"x", note="y" * 3000)
    assert not s3_interface.exists_object("big-meta")


@pytest.fixture(scope="module")
def crowded(moto_endpoint):
    """A bucket with 1,203 keys: 1,200 folders under ``many/`` and three under ``few/``."""
    import uuid

    import boto3
    from botocore.client import Config as BotoConfig

    from cc_core.config import load_config
    from cc_core.interface import CCInterface

    client = boto3.client("s3", endpoint_url=moto_endpoint, aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                          config=BotoConfig(s3={"addressing_style": "path"}, max_pool_connections=8))
    bucket = f"cc-crowded-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    names = [f"many/{i:04d}/x" for i in range(1200)] + ["few/a", "few/b/c", "few/d"]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda name: client.put_object(Bucket=bucket, Key=name, Body=b"."), names))
    cci = CCInterface(bucket, ACCESS_KEY, SECRET_KEY, url=moto_endpoint, backend="s3",
                      settings=load_config(create=False), verbose=False)
    yield cci, names
    for start in range(0, len(names), 1000):
        client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": n} for n in names[start:start + 1000]]})
    client.delete_bucket(Bucket=bucket)


def test_listing_pages_through_everything(crowded, s3_faults):
    cci, names = crowded
    log = s3_faults(cci.backend, "ListObjectsV2")
    assert cci.glob("many/*/x") == names[:1200]
    assert len(cci.lsdir("many")) == 1200 and cci.lsdir("many")[-1] == "many/1199"
    assert cci.get_size() == len(names)
    assert log.count("ListObjectsV2") >= 2 + 2 + 2


def test_glob_and_ls_list_only_under_the_literal_prefix(crowded, s3_faults):
    cci, _ = crowded
    log = s3_faults(cci.backend, "ListObjectsV2")
    assert cci.glob("few/*") == ["few/a", "few/d"]
    assert cci.ls("few/*") == ["few/a", "few/b", "few/d"]
    assert cci.glob("many/119*/x") == [f"many/{i}/x" for i in range(1190, 1200)]
    prefixes = [url.split("prefix=")[1].split("&")[0] for url, _, _ in log.calls["ListObjectsV2"]]
    assert prefixes == ["few%2F", "few%2F", "many%2F119"]


def test_recursive_remove_deletes_in_batches(crowded, s3_faults):
    cci, names = crowded
    log = s3_faults(cci.backend, "DeleteObjects")
    removed = cci.rm("many", recursive=True)
    assert removed == names[:1200] and log.count("DeleteObjects") == 2
    assert cci.glob("many/**") == [] and cci.glob("few/**") == ["few/a", "few/b/c", "few/d"]
