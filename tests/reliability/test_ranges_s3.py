"""Ranged GETs answered with something else than the range asked for, on real HTTP:
boto3 -> fault proxy (127.0.0.1) -> moto server.

HTTP lets a server (or a proxy on the way) ignore ``Range`` and answer 200 with the whole body;
a broken one may answer a ``Content-Range`` that is not the one asked for. Every ranged read path
of the S3 backend (parallel ranges of ``get_into``, the streamed ``iter_chunks``, the CLI's
``cat``) detects it and reads the right bytes, or retries, and never returns wrong bytes.
"""

from __future__ import annotations

import numpy as np
import pytest

from cc_core.errors import TransferError

BIG = np.random.default_rng(11).random(150_000)  # 1.2 MB: 5 ranges of 256 KiB through the proxy
DATA = BIG.tobytes()


def read_paths(cci, tmp_path):
    """What each ranged read path returns for the object ``big``."""
    target = tmp_path / "big.bin"
    cci.download_to_file("big", target)
    stream = cci.download_stream("big").content
    head = stream.read(1000)
    middle = stream.read(300_000)
    rest = stream.read()
    return {
        "raw-array": cci.download_raw_array("big").tobytes(),
        "to-file": target.read_bytes(),
        "stream-pieces": head + middle + rest,
        "stream-whole": cci.download_stream("big").content.read(),
        "object": cci.download_object("big"),
    }


@pytest.mark.parametrize("compression", [False, "gzip"])
def test_a_server_that_ignores_range_gives_the_right_bytes(proxied, fault_proxy, tmp_path, compression):
    cci = proxied()
    cci.upload_raw_array("big", BIG, compression=compression)
    expected = DATA if not compression else cci.download_object("big")
    fault = fault_proxy.add("ignore_range", method="GET", header="range", times=None)
    for path, got in read_paths(cci, tmp_path).items():
        assert got == (DATA if path == "raw-array" else expected), path
    assert fault.fired >= 5


@pytest.mark.parametrize("shift", [-1000, -1])
def test_a_content_range_that_starts_early_is_cut_to_the_range_asked_for(proxied, fault_proxy, tmp_path, shift):
    cci = proxied()
    cci.upload_raw_array("big", BIG, compression=False)
    fault = fault_proxy.add("shift_range", method="GET", header="range", times=None, after=shift)
    for path, got in read_paths(cci, tmp_path).items():
        assert got == DATA, path
    assert fault.fired >= 5


def test_a_content_range_that_starts_late_is_retried_then_refused(proxied, fault_proxy, tmp_path):
    cci = proxied()
    cci.upload_raw_array("big", BIG, compression=False)
    fault = fault_proxy.add("shift_range", method="GET", header="range", target="big", times=2, after=1000)
    assert cci.download_raw_array("big").tobytes() == DATA  # once or twice: a retry gets the right range
    assert fault.fired == 2
    fault_proxy.add("shift_range", method="GET", header="range", target="big", times=None, after=1000)
    for read in (lambda: cci.download_raw_array("big"), lambda: cci.download_to_file("big", tmp_path / "x"),
                 lambda: cci.download_stream("big").content.read()):
        with pytest.raises(TransferError, match=r"(?s)big.*Content-Range"):
            read()
    assert not (tmp_path / "x").exists()
