"""cottoncandy on a dask.distributed cluster whose worker processes have no credentials and no keys.

The workers (see ``bare_cluster`` in tests/conftest.py) have their own empty config folder and no
AWS or ``CC_LOGIN_*`` variables, as on other machines; ``cc.distributed.setup`` hands them what
the client's interface uses. Bytes and requests are counted per process at botocore's HTTP layer.
"""

from __future__ import annotations

import sys
from typing import Any

import cloudpickle
import dask.array as da
import numpy as np
import pytest

import cottoncandy as cc
from cc_crypto.errors import MasterKeyMissingError

from .conftest import ACCESS_KEY, SECRET_KEY

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::cc_crypto.keys.MasterKeyCreatedWarning")]
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the counters below run on the workers


def count_requests() -> None:
    """From now on, count what this process's botocore sends: bytes and (method, bucket-or-object) requests."""
    from botocore.httpsession import URLLib3Session

    if not hasattr(URLLib3Session, "cc_counts"):
        original = URLLib3Session.send

        def send(self: Any, request: Any) -> Any:
            counts = URLLib3Session.cc_counts
            counts["bytes"] = counts.get("bytes", 0) + int(request.headers.get("Content-Length") or 0)
            path = request.url.split("://", 1)[1].split("?", 1)[0].split("/", 1)[1].rstrip("/")
            what = f"{request.method} {'object' if '/' in path else 'bucket'}"
            counts[what] = counts.get(what, 0) + 1
            return original(self, request)

        URLLib3Session.send = send
    URLLib3Session.cc_counts = {}


def counted() -> dict[str, int]:
    from botocore.httpsession import URLLib3Session

    return dict(URLLib3Session.cc_counts)


def worker_counts(client: Any) -> dict[str, int]:
    total: dict[str, int] = {}
    for counts in client.run(counted).values():
        for what, number in counts.items():
            total[what] = total.get(what, 0) + number
    return total


@pytest.fixture
def make_cci(s3_bucket, moto_endpoint, cc_settings):
    def make(encrypted: bool = False, **options: Any) -> Any:
        get = cc.get_encrypted_interface if encrypted else cc.get_interface
        return get(s3_bucket, ACCESS_KEY, SECRET_KEY, endpoint_url=moto_endpoint, backend="s3", settings=cc_settings,
                   verbose=False, **options)
    return make


def lazy_array(megabytes: int = 32) -> Any:
    """A random array that exists only as a graph: its chunks are made where they are computed."""
    rows = megabytes * 128
    return da.random.default_rng(7).standard_normal((rows, 1024), chunks=(rows // 8, 1024))


def test_without_setup_the_real_error_reaches_the_client_with_what_to_do(cluster_client, make_cci):
    cci = make_cci()
    cci.upload_dask_array("numbers", np.arange(4000.0), buffersize=8000)
    lazy = cci.download_dask_array("numbers")
    with pytest.raises(PermissionError, match="No usable AWS credentials") as raised:
        cluster_client.compute(lazy.sum()).result(timeout=60)
    assert "cc.distributed.setup(client, cci)" in "\n".join(getattr(raised.value, "__notes__", []))


def test_workers_write_their_own_chunks_and_the_client_only_the_metadata(cluster_client, make_cci, s3_client, s3_bucket):
    cci = make_cci()
    cc.distributed.setup(cluster_client, cci)
    array = lazy_array(32)
    count_requests()
    cluster_client.run(count_requests)
    cci.upload_dask_array("lazy", array)
    client_sent, workers = counted(), worker_counts(cluster_client)
    print(f"\nupload of {array.nbytes} bytes: client sent {client_sent}, workers sent {workers}")
    assert client_sent["bytes"] < 0.01 * array.nbytes
    assert workers["bytes"] >= array.nbytes
    stored = s3_client.list_objects_v2(Bucket=s3_bucket, Prefix="lazy/")["Contents"]
    assert len(stored) == 9 and sum(item["Size"] for item in stored) > array.nbytes

    cluster_client.run(count_requests)
    back = cci.download_dask_array("lazy")
    np.testing.assert_allclose(cluster_client.compute(back.sum()).result(timeout=120),
                               cluster_client.compute(array.sum()).result(timeout=120))
    reads = worker_counts(cluster_client)
    print(f"download of 8 parts on the workers: {reads}")
    assert reads.get("HEAD bucket", 0) == 0  # one interface per worker process, no bucket check on unpickle
    assert reads["GET object"] == 8


def test_persisted_arrays_upload_from_the_workers(cluster_client, make_cci):
    cci = make_cci()
    cc.distributed.setup(cluster_client, cci)
    array = lazy_array(8).persist()
    cci.upload_dask_array("persisted", array)
    np.testing.assert_array_equal(cci.download_dask_array("persisted").compute(scheduler="sync"),
                                  array.compute())


def test_encrypted_arrays_written_and_reduced_by_workers_with_the_clients_key(cluster_client, make_cci, bare_cluster,
                                                                                cc_config_dir):
    cci = make_cci(encrypted=True)  # the user's first encrypted interface: the key is made here, on the client
    cc.distributed.setup(cluster_client, cci)
    array = lazy_array(8)
    cci.upload_dask_array("secret", array)
    back = cci.download_dask_array("secret")
    np.testing.assert_allclose(cluster_client.compute(back.sum()).result(timeout=120),
                               cluster_client.compute(array.sum()).result(timeout=120))
    # the client reads what the workers wrote: they encrypted with the client's key
    np.testing.assert_array_equal(back[:5].compute(scheduler="sync"), array[:5].compute())
    assert (cc_config_dir / "master.key").exists()
    assert not (bare_cluster.worker_config_dir / "master.key").exists()


def test_a_worker_without_the_key_fails_clearly_and_writes_no_key(cluster_client, make_cci, bare_cluster, s3_client,
                                                                   s3_bucket):
    cci = make_cci(encrypted=True)
    cc.distributed.setup(cluster_client, cci, keys=False)
    with pytest.raises(MasterKeyMissingError, match=r"cc\.distributed\.setup\(client, cci\)"):
        cci.upload_dask_array("nokey", lazy_array(8))
    assert not (bare_cluster.worker_config_dir / "master.key").exists()
    assert "Contents" not in s3_client.list_objects_v2(Bucket=s3_bucket, Prefix="nokey/")
