"""Encryption streams: extra memory is a few segments, never the object's size."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from cc_crypto.keys import SymmetricKey
from cc_crypto.transform import AesGcmTransform

MiB = 1 << 20
pytestmark = pytest.mark.filterwarnings("ignore::cc_crypto.keys.MasterKeyCreatedWarning")


@pytest.mark.parametrize("size", [0, 1, MiB, 5 * MiB + 3])
def test_encoded_size_is_exact(rsa_private, size):
    for key in (SymmetricKey.generate(), rsa_private):
        transform = AesGcmTransform(key=key)
        encoded = sum(len(b) for b in transform.encode([bytes(size)]))
        assert transform.encoded_size(size) == encoded


def peak_during(function) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        function()
        return tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()


def test_a_64_mib_round_trip_holds_a_few_segments(local_interface):
    array = np.random.default_rng(0).integers(0, 255, 64 * MiB, dtype=np.uint8)
    import cottoncandy as cc

    encrypted = cc.get_encrypted_interface(local_interface.bucket_name, backend="local", verbose=False,
                                           settings=local_interface.settings)
    encrypted.upload_object("warm-up", b"generates the key file")
    upload_peak = peak_during(lambda: encrypted.upload_raw_array("big", array))

    def read_in_pieces() -> None:
        stream = encrypted.download_stream("big").content
        while stream.read(MiB):
            pass

    download_peak = peak_during(read_in_pieces)
    # One 8 MiB backend chunk plus up to 8 segments in flight (1 MiB each, and their input when it
    # spans two chunks) is about 24 MiB; the object is 64 MiB, and the old pipeline held all of it.
    assert upload_peak < 32 * MiB, upload_peak / MiB
    assert download_peak < 32 * MiB, download_peak / MiB
    np.testing.assert_array_equal(encrypted.download_raw_array("big"), array)
