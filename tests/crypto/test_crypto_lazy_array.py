"""``open_array`` through the encrypted interface: only the segments holding a selection are read,
each authenticated; unencrypted objects are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from cc_core.errors import CottonCandyError, IntegrityError
from cc_core.testing.read_counter import ReadCounter

SEGMENT = 64 << 10


@pytest.fixture
def small_segments(make_interface):
    encrypted = make_interface()
    encrypted.pipeline.configure_transform("aes-gcm", segment_size=SEGMENT)
    return encrypted


@pytest.mark.parametrize("codec", ["raw", "npy"])
def test_ten_rows_move_about_one_segment(small_segments, monkeypatch, codec, backend_name):
    array = np.arange(20_000 * 64, dtype="f8").reshape(20_000, 64)  # 10 MiB, 160 segments
    getattr(small_segments, f"upload_{codec}_array")("big", array)
    counter = ReadCounter(small_segments.backend, monkeypatch)
    lazy = small_segments.open_array("big")
    # the metadata and the encryption header together: local reads both from the data file it opens;
    # a backend without its own open_read (memory) heads the object, then reads the header. An npy
    # header is in the first segment, read and authenticated whole
    npy = codec == "npy"
    assert counter.requested == 4096 + npy * (SEGMENT + 16)
    assert counter.requests == (1 if backend_name == "local" else 2) + npy
    counter.reset()
    np.testing.assert_array_equal(lazy[12_345:12_355], array[12_345:12_355])
    selection = 10 * 64 * 8
    assert selection < counter.requested <= selection + 2 * (SEGMENT + 16) + 2 * 4096


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=30),
       order=st.sampled_from("CF"))
def test_any_selection_of_an_encrypted_array(make_interface, data, shape, order):
    encrypted = make_interface()
    encrypted.pipeline.configure_transform("aes-gcm", segment_size=64)
    array = np.asarray(np.arange(int(np.prod(shape)), dtype="<i2").reshape(shape), order=order)
    encrypted.upload_raw_array("a", array)
    lazy = encrypted.open_array("a", gap=data.draw(st.sampled_from([0, 100])), part_size=128)
    selection = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    np.testing.assert_array_equal(lazy[selection], array[selection])


def test_unencrypted_objects_are_refused(make_interface):
    make_interface(encrypted=False).upload_raw_array("plain", np.zeros(10))
    with pytest.raises(IntegrityError, match="not encrypted"):
        make_interface().open_array("plain")


def test_a_damaged_segment_is_refused(make_interface, backend_name):
    if backend_name != "local":
        pytest.skip("edits the stored file")
    encrypted = make_interface()
    encrypted.pipeline.configure_transform("aes-gcm", segment_size=1024)
    array = np.arange(10_000.0)
    encrypted.upload_raw_array("a", array)
    stored = next(p for p in Path(encrypted.backend.path).rglob("*") if p.is_file() and p.stat().st_size > 70_000)
    with open(stored, "r+b") as file:
        file.seek(40_000)
        byte = file.read(1)
        file.seek(40_000)
        file.write(bytes([byte[0] ^ 1]))
    lazy = encrypted.open_array("a")
    np.testing.assert_array_equal(lazy[:100], array[:100])  # segments before the damage are fine
    with pytest.raises(CottonCandyError):
        lazy[4000:5000]


@pytest.mark.parametrize("compression", ["zstd", "gzip"])
def test_compressed_encrypted_is_read_whole(make_interface, compression):
    encrypted = make_interface()
    array = np.arange(600.0).reshape(20, 30)
    encrypted.upload_raw_array("a", array, compression=compression)
    lazy = encrypted.open_array("a")
    assert not lazy.seekable
    np.testing.assert_array_equal(lazy[3:5, ::-1], array[3:5, ::-1])
