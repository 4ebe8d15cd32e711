"""Payloads read an array's memory in place."""

import io

import numpy as np
import pytest

from cc_core.payload import Payload


def test_buffer_reader_reads_in_place_and_seeks():
    array = np.arange(1000, dtype="<f8")
    payload = Payload([b"head", array])
    reader = payload.as_file()
    assert bytes(reader.read(10)) == b"head"  # a read stays within one buffer
    chunk = reader.read(4096)
    assert isinstance(chunk, memoryview) and np.shares_memory(np.frombuffer(chunk, np.uint8), array)
    reader.seek(0)
    assert reader.read() == payload.tobytes()
    reader.seek(-8, io.SEEK_END)
    target = bytearray(16)
    assert reader.readinto(target) == 8 and bytes(target[:8]) == array[-1:].tobytes()


def test_check_stops_reading():
    def refuse():
        raise RuntimeError("cancelled elsewhere")

    with pytest.raises(RuntimeError, match="cancelled"):
        Payload([b"abc"]).as_file(refuse).read(1)


def test_slices_are_views():
    array = np.arange(100, dtype=np.uint8)
    payload = Payload([array[:40], array[40:]])
    part = payload.slice(30, 70)
    assert part.size == 40 and part.tobytes() == array[30:70].tobytes()
    assert all(np.shares_memory(np.frombuffer(b, np.uint8), array) for b in part.buffers)
