"""The local raw paths check bytes chunk by chunk as they pass (issue #19): the checksum recorded on
upload is the one of the whole stored file, a damaged byte anywhere (first, last, either side of a
window boundary) still raises, and large arrays come back page-aligned and identical."""

from __future__ import annotations

import os

import numpy as np
import pytest
import xxhash

from cc_core.builtin import local
from cc_core.builtin.raw import PAGE_ALIGNED_FROM
from cc_core.errors import IntegrityError

WINDOW = local._DIGEST_WINDOW
#: Several digest windows and a ragged tail.
BIG = np.random.default_rng(19).standard_normal((5 * WINDOW + 4104) // 8)


def stored_file(interface, name):
    return interface.backend.root / name


def test_recorded_checksum_is_the_whole_files_xxh3(local_interface):
    local_interface.upload_raw_array("big", BIG)
    stored = stored_file(local_interface, "big").read_bytes()
    assert stored == BIG.tobytes()
    recorded = local_interface.get_object("big").metadata["cc-checksum"]
    assert recorded == f"xxh3-64:{xxhash.xxh3_64_hexdigest(stored)}"


@pytest.mark.parametrize("offset", [0, 1, WINDOW - 1, WINDOW, 3 * WINDOW + 7, -1], ids=lambda o: f"byte{o}")
def test_a_damaged_byte_anywhere_is_an_integrity_error(local_interface, offset):
    local_interface.upload_raw_array("big", BIG)
    path = stored_file(local_interface, "big")
    with open(path, "r+b") as file:  # in place: same inode, same size
        file.seek(offset % os.path.getsize(path))
        byte = file.read(1)
        file.seek(-1, os.SEEK_CUR)
        file.write(bytes([byte[0] ^ 0x01]))
    with pytest.raises(IntegrityError, match="'big' fails its checksum"):
        local_interface.download_raw_array("big")


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", ["float64", "int16", [("a", "<i4"), ("b", "<f8", (3,))]], ids=str)
def test_large_arrays_come_back_page_aligned_and_identical(local_interface, dtype, order):
    dtype = np.dtype(dtype)
    rows = PAGE_ALIGNED_FROM // dtype.itemsize // 3 + 1
    flat = np.frombuffer(np.random.default_rng(1).bytes(rows * 3 * dtype.itemsize), dtype=dtype)
    array = flat.reshape(rows, 3).copy(order=order)
    local_interface.upload_raw_array("arr", array)
    restored = local_interface.download_raw_array("arr")
    assert restored.ctypes.data % 4096 == 0
    assert restored.flags.writeable and restored.flags.f_contiguous == array.flags.f_contiguous
    assert (restored.dtype, restored.shape) == (array.dtype, array.shape)
    assert restored.tobytes(order="A") == array.tobytes(order="A")


def test_small_arrays_are_plain_numpy_arrays(local_interface):
    array = np.arange(100.0)
    local_interface.upload_raw_array("small", array)
    restored = local_interface.download_raw_array("small")
    assert restored.flags.owndata
    np.testing.assert_array_equal(restored, array)


@pytest.fixture(params=[False, True], ids=["no-spare-core", "spare-core"])
def encrypted_local(request, tmp_path, cc_settings, monkeypatch):
    """An encrypted local interface, reading and writing without and with the helper thread."""
    pytest.importorskip("cc_crypto")
    import cottoncandy as cc
    from cc_core import parallel

    monkeypatch.setattr(parallel, "spare_core", lambda: request.param)
    return cc.get_encrypted_interface(str(tmp_path / "store"), backend="local", force_bucket_creation=True,
                                      settings=cc_settings, verbose=False, key=os.urandom(32))


def _helper_threads(monkeypatch) -> list[str]:
    """Record each transfer that runs on a helper thread (:func:`cc_core.parallel.prefetched`)."""
    from cc_core import pipeline

    started: list[str] = []
    for module in (pipeline, local):
        original = module.prefetched

        def recording(items, *args, _original=original, _where=module.__name__, **kwargs):
            started.append(_where)
            return _original(items, *args, **kwargs)

        monkeypatch.setattr(module, "prefetched", recording)
    return started


def test_encrypted_local_transfers_use_a_helper_thread_only_with_a_spare_core(encrypted_local, monkeypatch):
    from cc_core import parallel

    spare = parallel.spare_core()
    started = _helper_threads(monkeypatch)
    encrypted_local.upload_raw_array("big", BIG)
    restored = encrypted_local.download_raw_array("big")
    assert restored.tobytes() == BIG.tobytes()
    assert sorted(started) == (["cc_core.builtin.local", "cc_core.pipeline"] if spare else [])


@pytest.mark.parametrize("where", ["first", "segment-end", "next-segment", "tag", "last"])
def test_encrypted_damage_anywhere_is_detected(encrypted_local, where):
    encrypted_local.upload_raw_array("big", BIG)
    path = stored_file(encrypted_local, "big")
    size = os.path.getsize(path)
    segment = 1 << 20  # the default segment size: plaintext bytes per sealed segment (+16 bytes of tag)
    header = size - BIG.nbytes - 16 * -(-BIG.nbytes // segment)
    offset = {"first": header, "segment-end": header + segment - 1, "next-segment": header + segment + 16,
              "tag": header + segment + 3, "last": size - 1}[where]
    with open(path, "r+b") as file:
        file.seek(offset)
        byte = file.read(1)
        file.seek(-1, os.SEEK_CUR)
        file.write(bytes([byte[0] ^ 0x01]))
    with pytest.raises(IntegrityError, match="'big' fails authentication"):
        encrypted_local.download_raw_array("big")
