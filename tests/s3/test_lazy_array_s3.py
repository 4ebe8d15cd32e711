"""``open_array`` on moto S3: plain and encrypted, raw and npy, counting the bytes requested."""

from __future__ import annotations

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.testing.read_counter import ReadCounter
from s3.conftest import ACCESS_KEY, SECRET_KEY, SMALL_PART

ARRAY = np.asfortranarray(np.arange(4000 * 64, dtype="f8").reshape(4000, 64))  # 2 MiB


@pytest.fixture
def make(moto_endpoint, s3_bucket, cc_settings):
    def make(encrypted: bool):
        factory = cc.get_encrypted_interface if encrypted else cc.get_interface
        interface = factory(s3_bucket, ACCESS_KEY, SECRET_KEY, moto_endpoint, backend="s3", settings=cc_settings,
                            verbose=False, min_part_size=SMALL_PART)
        if encrypted:
            interface.pipeline.configure_transform("aes-gcm", segment_size=64 << 10)
        return interface

    return make


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
@pytest.mark.parametrize("codec", ["raw", "npy"])
def test_slices_on_s3(make, monkeypatch, encrypted, codec):
    if encrypted:
        pytest.importorskip("cc_crypto")
    interface = make(encrypted)
    getattr(interface, f"upload_{codec}_array")("a", ARRAY)
    lazy = interface.open_array("a")
    for selection in [slice(100, 110), (slice(None, None, -500), 3), (Ellipsis, slice(10, 12)), (5, 6), ()]:
        np.testing.assert_array_equal(lazy[selection], ARRAY[selection])
    counter = ReadCounter(interface.backend, monkeypatch)
    lazy[:, 7]  # F order: one column is contiguous
    limit = 4000 * 8 + (2 * ((64 << 10) + 16) + 2 * 4096 if encrypted else 0)
    assert counter.requested <= limit and counter.requests <= (3 if encrypted else 1)
