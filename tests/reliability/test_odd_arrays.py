"""Arrays that are more than dtype, shape and bytes: masked arrays are refused at upload with a
message that says how to store them; structured dtypes with field titles round-trip exactly. Raw
(with and without compression) and npy, and nothing is stored by a refused upload."""

from __future__ import annotations

import numpy as np
import pytest

from cc_core.errors import InvalidArrayError

TITLED = np.dtype([(("Time in seconds", "t"), "<f8"), (("Channel", "ch"), "<i2", (3,)), ("plain", "u1")])


def methods(interface):
    found = [("raw", lambda name, value: interface.upload_raw_array(name, value, compression=False),
              interface.download_raw_array),
             ("raw-gzip", lambda name, value: interface.upload_raw_array(name, value, compression="gzip"),
              interface.download_raw_array)]
    if "npy" in interface.plugins.registry.names("codec"):
        found.append(("npy", interface.upload_npy_array, interface.download_npy_array))
    return found


def test_masked_arrays_are_refused_with_advice(interface):
    masked = np.ma.masked_array(np.arange(3.0), mask=[False, True, False])
    for kind, upload, _ in methods(interface):
        with pytest.raises(InvalidArrayError, match=r"masked.*\.data.*\.mask"):
            upload(f"masked-{kind}", masked)
    assert interface.glob("**") == []


def test_structured_dtypes_with_titles_round_trip(interface):
    value = np.zeros(4, dtype=TITLED)
    value["t"] = np.arange(4) * 0.5
    value["ch"] = np.arange(12).reshape(4, 3)
    value["plain"] = 7
    for kind, upload, download in methods(interface):
        upload(f"titled-{kind}", value)
        result = download(f"titled-{kind}")
        assert result.dtype == TITLED, kind
        assert result.dtype.fields["t"] == TITLED.fields["t"], kind  # the title survives
        assert result.tobytes() == value.tobytes(), kind
