"""Several processes on one local object (issue #13): multiprocessing pools, dask workers, two cron jobs.

Real processes (forked), not threads: a lock inside one process cannot pair another process's two
renames. Every read must return one written version exactly (same dtype, same shape, same values)
or fail with nothing worse than a retry inside cottoncandy; every writer must leave a readable
object. The versions all have the same stored size, so that data of one version read with the
metadata of another gives a wrong array (or a false checksum error) rather than a size error.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import traceback

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.builtin import local

FORK = multiprocessing.get_context("fork")
NAME = "shared/hot"
#: 8000 stored bytes each; dtype and shape differ, so a mismatched pair cannot pass as a version.
VERSIONS = [
    np.arange(1000.0),
    np.arange(1000, dtype=np.int64) * 3,
    np.full((40, 25), 7.5),
    np.arange(2000, dtype=np.int32) - 1000,
    np.arange(1000.0).reshape(10, 100).T.copy() / 7,
]
WRITERS = READERS = 4
SECONDS = 3.0


def _interface(root, key, settings):
    if key is None:
        return cc.get_interface(root, backend="local", force_bucket_creation=True, settings=settings, verbose=False)
    return cc.get_encrypted_interface(root, backend="local", key=key, force_bucket_creation=True, settings=settings,
                                      verbose=False)


def _which_version(value) -> int | None:
    for index, version in enumerate(VERSIONS):
        if value.dtype == version.dtype and value.shape == version.shape and np.array_equal(value, version):
            return index
    return None


def _writer(root, key, settings, index, deadline, results):
    counts = {"writes": 0, "errors": []}
    try:
        cci = _interface(root, key, settings)
        step = index
        while time.time() < deadline:
            cci.upload_raw_array(NAME, VERSIONS[step % len(VERSIONS)], compression=False)
            counts["writes"] += 1
            step += 1
    except BaseException:
        counts["errors"].append(traceback.format_exc(limit=3))
    results.put(counts)


def _reader(root, key, settings, deadline, results):
    counts = {"reads": 0, "wrong": 0, "errors": []}
    cci = _interface(root, key, settings)
    while time.time() < deadline:
        counts["reads"] += 1
        try:
            value = cci.download_raw_array(NAME)
        except Exception as error:
            counts["errors"].append(f"{type(error).__name__}: {error}")
            continue
        if _which_version(value) is None:
            counts["wrong"] += 1
    results.put(counts)


def run_writers_and_readers(root, key, settings, *, writers=WRITERS, readers=READERS, seconds=SECONDS):
    """Run the processes; return the readers' and the writers' counts."""
    _interface(root, key, settings).upload_raw_array(NAME, VERSIONS[0], compression=False)
    results = FORK.Queue()
    deadline = time.time() + seconds
    processes = [FORK.Process(target=_writer, args=(root, key, settings, i, deadline, results)) for i in range(writers)]
    processes += [FORK.Process(target=_reader, args=(root, key, settings, deadline, results)) for _ in range(readers)]
    for process in processes:
        process.start()
    collected = [results.get(timeout=seconds + 60) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    return [c for c in collected if "reads" in c], [c for c in collected if "writes" in c]


@pytest.fixture(params=["plain", "encrypted"])
def key(request):
    if request.param == "plain":
        return None
    keys = pytest.importorskip("cc_crypto.keys")
    return keys.SymmetricKey.generate()


def test_writer_and_reader_processes_on_one_name_read_one_version_exactly(tmp_path, cc_settings, key):
    root = str(tmp_path / "store")
    read_counts, write_counts = run_writers_and_readers(root, key, cc_settings)
    reads = sum(c["reads"] for c in read_counts)
    wrong = sum(c["wrong"] for c in read_counts)
    errors = [e for c in read_counts for e in c["errors"]]
    writes = sum(c["writes"] for c in write_counts)
    print(f"\n{'encrypted' if key else 'plain'}: {writes} writes, {reads} reads, {wrong} wrong arrays, "
          f"{len(errors)} read errors")
    assert [e for c in write_counts for e in c["errors"]] == []
    assert writes > 20 and reads > 20
    assert wrong == 0, f"{wrong} of {reads} reads returned an array nobody wrote"
    assert errors == [], f"{len(errors)} of {reads} reads failed, e.g. {errors[:3]}"
    assert _which_version(_interface(root, key, cc_settings).download_raw_array(NAME)) is not None
    assert sorted(os.listdir(os.path.join(root, "shared"))) == ["hot", "hot.meta.json"]


def _paused_writer(root, settings, version, paused, release, die):
    """Write ``version``, stopping between the data rename and the metadata rename until
    ``release`` is set, or dying there (``os._exit``) if ``die``."""
    rename_metadata = local._replace_unless_done

    def stop_here(*args):
        paused.set()
        if die:
            os._exit(0)
        release.wait(20)
        return rename_metadata(*args)

    local._replace_unless_done = stop_here
    _interface(root, None, settings).upload_raw_array(NAME, VERSIONS[version], compression=False)


def _plain_writer(root, settings, version, done):
    _interface(root, None, settings).upload_raw_array(NAME, VERSIONS[version], compression=False)
    done.set()


def test_a_writer_paused_between_its_renames_while_another_process_writes_leaves_a_readable_object(tmp_path, cc_settings):
    root = str(tmp_path / "store")
    cci = _interface(root, None, cc_settings)
    cci.upload_raw_array(NAME, VERSIONS[0], compression=False)
    paused, release, done = FORK.Event(), FORK.Event(), FORK.Event()
    first = FORK.Process(target=_paused_writer, args=(root, cc_settings, 1, paused, release, False))
    first.start()
    assert paused.wait(20)
    second = FORK.Process(target=_plain_writer, args=(root, cc_settings, 2, done))
    second.start()
    done.wait(1.0)  # the second writer waits for the first one's renames (it used to overtake it)
    release.set()
    for process in (first, second):
        process.join(30)
        assert process.exitcode == 0
    value = cci.download_raw_array(NAME)
    assert _which_version(value) in (1, 2)
    assert sorted(os.listdir(os.path.join(root, "shared"))) == ["hot", "hot.meta.json"]


def test_a_writer_process_that_died_between_its_renames_is_finished_by_the_next_reader(tmp_path, cc_settings):
    root = str(tmp_path / "store")
    cci = _interface(root, None, cc_settings)
    cci.upload_raw_array(NAME, VERSIONS[0], compression=False)
    paused, release = FORK.Event(), FORK.Event()
    writer = FORK.Process(target=_paused_writer, args=(root, cc_settings, 3, paused, release, True))
    writer.start()
    writer.join(30)
    assert paused.is_set()
    assert len(os.listdir(os.path.join(root, "shared"))) == 3  # new data, old metadata, new metadata's temporary
    assert _which_version(cci.download_raw_array(NAME)) == 3
    assert sorted(os.listdir(os.path.join(root, "shared"))) == ["hot", "hot.meta.json"]
    cci.upload_raw_array(NAME, VERSIONS[4], compression=False)
    assert _which_version(cci.download_raw_array(NAME)) == 4
