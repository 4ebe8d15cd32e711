"""The S3 tests of every folder share one moto server per session."""

from s3.conftest import _MotoServer


def test_one_moto_server_per_session(moto_endpoint, s3_client):
    assert _MotoServer.started == 1 and moto_endpoint == _MotoServer.endpoint
    assert s3_client.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
