"""Ranged media downloads answered with something else than the range asked for.

The loopback fake Drive can ignore ``Range`` (200 with the whole file, as HTTP allows) or serve a
range that starts elsewhere; every read path of the Drive backend returns the right bytes, retries,
or fails clearly, and never returns wrong bytes.
"""

from __future__ import annotations

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.byteranges import OffsetByteRequest, RangeByteRequest
from cc_core.errors import TransferError

BIG = np.random.default_rng(5).random(100_000)  # 800 kB: 4 ranged requests of 200 KiB
DATA = BIG.tobytes()


@pytest.fixture
def cci(drive_options, drive_root, cc_settings):
    return cc.get_interface(drive_root, backend="gdrive", force_bucket_creation=True, settings=cc_settings,
                            verbose=False, **{**drive_options, "retries": 2})


def read_paths(cci, tmp_path):
    target = tmp_path / "big.bin"
    cci.download_to_file("big", target)
    stream = cci.download_stream("big").content
    pieces = stream.read(1000) + stream.read(300_000) + stream.read()
    backend = cci.backend
    into = memoryview(bytearray(5000))
    count = backend.get_into("big", into, byte_range=OffsetByteRequest(len(DATA) - 3000))
    return {
        "raw-array": cci.download_raw_array("big").tobytes(),
        "to-file": target.read_bytes(),
        "stream-pieces": pieces,
        "object": cci.download_object("big"),
        "tail-get-into": bytes(into[:count]) + DATA[:-3000],
        "range-chunks": b"".join(bytes(c) for c in backend.iter_chunks("big", byte_range=RangeByteRequest(1000, 500_000))),
    }


def expected(path):
    return {"tail-get-into": DATA[-3000:] + DATA[:-3000], "range-chunks": DATA[1000:500_000]}.get(path, DATA)


@pytest.mark.parametrize("fault", ["ignore_range", "shift_earlier"])
def test_a_server_that_serves_other_bytes_than_asked_gives_the_right_bytes(cci, fake_drive, tmp_path, fault):
    cci.upload_raw_array("big", BIG, compression=False)
    if fault == "ignore_range":
        fake_drive.ignore_range = True
    else:
        fake_drive.range_shift = -1000
    for path, got in read_paths(cci, tmp_path).items():
        assert got == expected(path), path


def test_a_range_that_starts_late_is_refused(cci, fake_drive, tmp_path):
    cci.upload_raw_array("big", BIG, compression=False)
    fake_drive.range_shift = 1000
    for read in (lambda: cci.download_raw_array("big"), lambda: cci.download_to_file("big", tmp_path / "x"),
                 lambda: cci.download_stream("big").content.read(), lambda: cci.backend.get("big", RangeByteRequest(10, 20))):
        with pytest.raises(TransferError, match=r"(?s)big.*Content-Range"):
            read()
    assert not (tmp_path / "x").exists()
