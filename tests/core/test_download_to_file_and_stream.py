"""Files and streams at full speed (issue #13): ``download_to_file`` and
``download_stream().read()`` move a big object with no more fresh memory than
``download_raw_array`` needs for its result.

On this kind of machine memory touched for the first time is what a large transfer pays for
(see /work/shared/PERFORMANCE-NOTES.md): a file written through a memory map faults in one page
per 4 KiB (3x ``download_raw_array`` on moto), and a stream that joins copied chunks holds the
object twice. The tests count what the process pays: minor page faults and traced allocations.
"""

from __future__ import annotations

import gc
import resource
import tracemalloc

import numpy as np
import pytest

from cc_core.interface import CCInterface

SIZE = 32 << 20


@pytest.fixture
def store(tmp_path, cc_settings):
    interface = CCInterface(str(tmp_path / "store"), force_bucket_creation=True, settings=cc_settings, verbose=False)
    interface.upload_raw_array("big", np.random.default_rng(1).integers(0, 255, SIZE, dtype=np.uint8), compression=False)
    return interface


def _faults(action) -> int:
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    action()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_download_to_file_writes_from_reused_buffers(store, tmp_path):
    target = tmp_path / "out.bin"
    store.download_to_file("big", target)  # warm: imports, pools
    file_faults = min(_faults(lambda: store.download_to_file("big", target)) for _ in range(2))
    assert file_faults < SIZE // 4096 // 2, f"{file_faults} page faults for {SIZE // 4096} pages of file"
    assert np.array_equal(np.fromfile(target, dtype=np.uint8), store.download_raw_array("big"))


@pytest.mark.parametrize("compression", [False, "zstd"])
def test_stream_read_holds_the_object_once(store, compression):
    data = np.random.default_rng(2).integers(0, 255, SIZE, dtype=np.uint8)
    store.upload_raw_array("streamed", data, compression=compression)
    stream = store.download_stream("streamed").content
    gc.collect()
    tracemalloc.start()
    try:
        result = stream.read()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result == data.tobytes()
    assert isinstance(result, bytes)
    if compression is False:  # the size is known: one buffer, filled in place (plus chunks in flight)
        assert peak < SIZE + (12 << 20), f"{peak / SIZE:.2f} x the object"


def test_stream_read_after_a_partial_read(store):
    expected = store.download_raw_array("big").tobytes()
    stream = store.download_stream("big").content
    head = stream.read(1000)
    assert head + stream.read() == expected
    assert stream.read() == b""
