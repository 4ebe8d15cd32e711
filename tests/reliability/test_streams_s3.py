"""Streams and files read an object with few, large requests: the GETs are counted in the fault
proxy's log (boto3 -> proxy -> moto), not timed."""

from __future__ import annotations

import numpy as np
import pytest

from cc_core import cli

ARRAY = np.random.default_rng(3).random(512 * 1024)  # 4 MiB
DATA = ARRAY.tobytes()


def gets(fault_proxy, name: str) -> int:
    return len(fault_proxy.requests("GET", f"/{name}$"))


@pytest.fixture
def cci(proxied, fault_proxy):
    """Default transfer sizes (no ranges below 32 MiB on a remote endpoint), through the proxy."""
    interface = proxied(download_threshold=32 << 20, download_part_size=16 << 20)
    interface.upload_raw_array("big", ARRAY, compression=False)
    interface.upload_raw_array("packed", ARRAY, compression="gzip")
    fault_proxy.reset()
    return interface


@pytest.mark.parametrize("name", ["big", "packed"])
def test_a_stream_read_whole_makes_one_get(cci, fault_proxy, name):
    content = cci.download_stream(name).content.read()
    assert content == cci.download_object(name)
    fault_proxy.reset()
    assert len(cci.download_stream(name).content.read()) == len(content)
    assert gets(fault_proxy, name) == 1


@pytest.mark.parametrize("size", [1, 8192, 1 << 20])
def test_a_stream_read_in_pieces_makes_one_get(cci, fault_proxy, size):
    stream = cci.download_stream("big").content
    pieces = []
    while piece := stream.read(size if size > 1 or len(pieces) < 1000 else -1):
        pieces.append(piece)
    assert b"".join(pieces) == DATA
    assert gets(fault_proxy, "big") == 1


def test_a_file_download_makes_no_more_gets_than_an_array_download(cci, fault_proxy, tmp_path):
    """12 MiB: more than download_to_file's old 8 MiB buffer, less than the 32 MiB range threshold."""
    large = np.random.default_rng(4).random(3 << 19)
    cci.upload_raw_array("large", large, compression=False)
    fault_proxy.reset()
    cci.download_raw_array("large")
    array_gets = gets(fault_proxy, "large")
    fault_proxy.reset()
    cci.download_to_file("large", tmp_path / "large.bin")
    assert (tmp_path / "large.bin").read_bytes() == large.tobytes()
    assert gets(fault_proxy, "large") <= array_gets == 1


def test_ranged_file_download_reads_in_parallel_ranges_like_an_array(proxied, fault_proxy, tmp_path):
    interface = proxied()  # 256 KiB ranges
    interface.upload_raw_array("big", ARRAY, compression=False)
    fault_proxy.reset()
    interface.download_raw_array("big")
    array_gets = gets(fault_proxy, "big")
    fault_proxy.reset()
    interface.download_to_file("big", tmp_path / "big.bin")
    assert (tmp_path / "big.bin").read_bytes() == DATA
    assert gets(fault_proxy, "big") == array_gets == 15  # a first GET of 512 KiB, then 256 KiB ranges


def test_cli_cat_and_download_make_one_get(cci, fault_proxy, tmp_path, capsysbinary, monkeypatch, s3_bucket):
    from cc_core.targets import TargetResolver

    monkeypatch.setattr(TargetResolver, "_interface", lambda self, location, backend=None: cci)
    assert cli.main(["cat", f"s3://{s3_bucket}/big"]) == 0
    assert capsysbinary.readouterr().out == DATA
    assert gets(fault_proxy, "big") == 1
    fault_proxy.reset()
    assert cli.main(["download", "--no-progress", f"s3://{s3_bucket}/big", str(tmp_path / "out.bin")]) == 0
    assert (tmp_path / "out.bin").read_bytes() == DATA
    assert gets(fault_proxy, "big") == 1
