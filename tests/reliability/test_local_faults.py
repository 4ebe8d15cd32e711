"""The local backend under faults: writes interrupted at every step, damaged files, racing readers.

Whatever point a write stops at, the object is the complete old version or the complete new one;
damage to a stored file is an IntegrityError that names the object.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from cc_core.builtin import local
from cc_core.errors import IntegrityError

OLD = np.arange(1000.0)
NEW = np.arange(2000.0).reshape(40, 50) * -1


class Interrupt(BaseException):
    """Like KeyboardInterrupt: not an Exception, so nothing on the way catches it."""


def interrupting(monkeypatch, target, attribute, on_call, *, times=1):
    """Make ``target.attribute`` raise :class:`Interrupt` on its ``on_call``-th call (1-based),
    ``times`` times in a row, and behave normally otherwise."""
    original = getattr(target, attribute)
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if on_call <= calls["n"] < on_call + times:
            raise Interrupt(f"interrupted at call {calls['n']} of {attribute}")
        return original(*args, **kwargs)

    monkeypatch.setattr(target, attribute, wrapper)


def stored_names(cci):
    return sorted(p.name for p in cci.backend.root.iterdir())


# where the write stops, and which version must be there afterwards
STEPS = {
    "writing-the-data": ((local.LocalBackend, "_write_payload", 1), "old"),
    "writing-the-metadata": ((local.LocalBackend, "_write_temp", 2), "old"),
    "renaming-the-data": ((local.os, "replace", 1), "old"),
    "renaming-the-metadata": ((local.os, "replace", 2), "new"),
}


@pytest.mark.parametrize("where", list(STEPS))
def test_interrupted_write_leaves_one_whole_version(local_interface, monkeypatch, where):
    (target, attribute, on_call), expected = STEPS[where]
    local_interface.upload_raw_array("obj", OLD)
    interrupting(monkeypatch, target, attribute, on_call)
    with pytest.raises(Interrupt):
        local_interface.upload_raw_array("obj", NEW)
    monkeypatch.undo()
    np.testing.assert_array_equal(local_interface.download_raw_array("obj"), OLD if expected == "old" else NEW)
    assert stored_names(local_interface) == ["obj", "obj.meta.json"]  # no temporary files left


def test_process_killed_between_the_renames_is_finished_by_the_next_reader(local_interface, monkeypatch):
    """The writer's own clean-up is interrupted too (as by SIGKILL): the new data is in place and its
    metadata in a temporary file; the next reader puts it in place instead of pairing new bytes with
    old metadata."""
    local_interface.upload_raw_array("obj", OLD)
    interrupting(monkeypatch, local.os, "replace", 2, times=2)
    with pytest.raises(Interrupt):
        local_interface.upload_raw_array("obj", NEW)
    monkeypatch.undo()
    assert len(stored_names(local_interface)) == 3  # data, old metadata, new metadata's temporary
    np.testing.assert_array_equal(local_interface.download_raw_array("obj"), NEW)
    assert stored_names(local_interface) == ["obj", "obj.meta.json"]


def test_first_write_interrupted_leaves_no_object(local_interface, monkeypatch):
    interrupting(monkeypatch, local.LocalBackend, "_write_payload", 1)
    with pytest.raises(Interrupt):
        local_interface.upload_raw_array("never", NEW)
    monkeypatch.undo()
    assert not local_interface.exists_object("never") and stored_names(local_interface) == []


@pytest.mark.parametrize("compression", [False, "gzip"])
def test_flipped_byte_in_a_stored_file_is_an_integrity_error(local_interface, tmp_path, compression):
    local_interface.upload_raw_array("obj", NEW, compression=compression)
    path = local_interface.backend.root / "obj"
    with open(path, "r+b") as file:  # in place: same inode, same size
        file.seek(os.path.getsize(path) // 2)
        byte = file.read(1)
        file.seek(-1, os.SEEK_CUR)
        file.write(bytes([byte[0] ^ 0x10]))
    with pytest.raises(IntegrityError, match="'obj'"):
        local_interface.download_raw_array("obj")
    with pytest.raises(IntegrityError, match="'obj'"):
        local_interface.download_to_file("obj", tmp_path / "out" / "obj.bin")
    assert list((tmp_path / "out").iterdir()) == []


def test_stream_uploads_are_checksummed_on_local(local_interface, tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(os.urandom(300_000))
    local_interface.upload_from_file(source, "file")
    assert local_interface.get_object("file").metadata["cc-checksum"].startswith("xxh3-64:")
    stored = local_interface.backend.root / "file"
    data = bytearray(stored.read_bytes())
    data[5] ^= 1
    with open(stored, "r+b") as file:
        file.write(data)
    with pytest.raises(IntegrityError, match="'file' fails its checksum"):
        local_interface.download_object("file")


@pytest.mark.parametrize("kind", ["raw", "gzip", "npy", "json"])
def test_concurrent_readers_never_see_a_half_written_object(local_interface, kind):
    if kind == "npy":
        pytest.importorskip("cc_codec_npy")
    versions = [np.full((300, 200), i, dtype=np.int32) for i in range(2)]
    write = {
        "raw": lambda v: local_interface.upload_raw_array("hot", v, compression=False),
        "gzip": lambda v: local_interface.upload_raw_array("hot", v, compression="gzip"),
        "npy": lambda v: local_interface.upload_npy_array("hot", v),
        "json": lambda v: local_interface.upload_json("hot", {"v": int(v.flat[0]), "body": v[0].tolist()}),
    }[kind]
    read = {
        "raw": lambda: local_interface.download_raw_array("hot"),
        "gzip": lambda: local_interface.download_raw_array("hot"),
        "npy": lambda: local_interface.download_npy_array("hot"),
        "json": lambda: np.array(local_interface.download_json("hot")["body"]),
    }[kind]
    write(versions[0])
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            write(versions[i % 2])
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(60):
            value = read()
            assert (value == value.flat[0]).all() and value.flat[0] in (0, 1)
    finally:
        stop.set()
        thread.join()
