"""Fixtures for the array codec tests: a memory backend that counts data reads."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from cc_core import hookimpl
from cc_core.builtin.memory import MemoryBackend
from cc_core.interface import CCInterface


class CountingBackend(MemoryBackend):
    """A memory backend that counts, per object, the calls that read data (not ``head``), and
    records the threads that write."""

    reads: ClassVar[Counter[str]] = Counter()
    writer_threads: ClassVar[set[str]] = set()
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def _count(self, name: str) -> None:
        with self._lock:
            self.reads[name] += 1

    def put(self, name: str, payload: Any, metadata: Any, **options: Any) -> None:
        self.writer_threads.add(threading.current_thread().name)
        super().put(name, payload, metadata, **options)

    def get_into(self, name: str, buffer: memoryview, **options: Any) -> int:
        self._count(name)
        return super().get_into(name, buffer, **options)

    def iter_chunks(self, name: str, **options: Any) -> Iterator[memoryview]:
        self._count(name)
        return super().iter_chunks(name, **options)


class CountingPlugin:
    @hookimpl
    def cc_register_backends(self, register):
        register("counting-memory", CountingBackend, description="memory backend counting reads (tests)")


@pytest.fixture
def counting_interface(temporary_plugin, cc_settings) -> CCInterface:
    temporary_plugin(CountingPlugin(), "counting-memory-plugin")
    CountingBackend.reads.clear()
    return CCInterface(f"count-{uuid.uuid4().hex}", backend="counting-memory", force_bucket_creation=True,
                       settings=cc_settings)


@pytest.fixture
def reads() -> Counter[str]:
    """The per-object read counts of :class:`CountingBackend` (cleared for each test)."""
    CountingBackend.reads.clear()
    return CountingBackend.reads


@pytest.fixture
def writer_threads() -> set[str]:
    """Names of the threads that wrote through :class:`CountingBackend` (cleared for each test)."""
    CountingBackend.writer_threads.clear()
    return CountingBackend.writer_threads
