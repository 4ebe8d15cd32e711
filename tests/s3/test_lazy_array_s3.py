"""``open_array`` on moto S3: plain and encrypted, raw and npy, counting the bytes requested."""

from __future__ import annotations

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.errors import ObjectChangedError
from cc_core.testing.read_counter import ReadCounter
from s3.conftest import ACCESS_KEY, SECRET_KEY, SMALL_PART, count_calls

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


ROWS = np.arange(4000 * 64, dtype="f8").reshape(4000, 64)  # 2 MiB, C order: rows 1000:1010 are 5 KiB in one run


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_a_slice_is_two_gets_and_no_head(make, encrypted):
    """Opening reads the metadata and the first bytes (the encryption header) in one GET; the rows
    (their segments) are the second."""
    if encrypted:
        pytest.importorskip("cc_crypto")
    interface = make(encrypted)
    interface.upload_raw_array("rows", ROWS, compression=False)
    calls = count_calls(interface)
    np.testing.assert_array_equal(interface.open_array("rows")[1000:1010], ROWS[1000:1010])
    assert calls == {"GetObject": 2}
    if encrypted:
        import cc_crypto

        calls.clear()
        assert cc_crypto.read_range(interface, "rows", 8000 * 8, 8010 * 8) == ROWS.ravel()[8000:8010].tobytes()
        assert calls == {"GetObject": 2}
    else:  # rows in the first bytes come with the metadata
        calls.clear()
        np.testing.assert_array_equal(interface.open_array("rows")[:2], ROWS[:2])
        assert calls == {"GetObject": 1}


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_an_object_replaced_after_the_open_is_not_mixed_in(make, encrypted):
    if encrypted:
        pytest.importorskip("cc_crypto")
    interface = make(encrypted)
    interface.upload_raw_array("rows", ROWS, compression=False)
    lazy = interface.open_array("rows")
    interface.upload_raw_array("rows", ROWS + 1, compression=False)
    with pytest.raises(ObjectChangedError):
        lazy[1000:1010]
    np.testing.assert_array_equal(interface.open_array("rows")[1000:1010], ROWS[1000:1010] + 1)
