"""Copy, move and remove on the local and memory backends: nothing lost, names returned.

Each test names the fault it guards against (docs/RELIABILITY.md, "Copy, move and remove").
The S3 variants are in ``tests/s3/test_copy_move_s3.py``, the command line's in
``tests/cli/test_copy_move_cli.py``.
"""

import contextlib
import threading

import numpy as np
import pytest

from cc_core.errors import CottonCandyError, ObjectNotFoundError
from cc_core.interface import CCInterface, ObjectExistsError

RESULTS = ["results/r0", "results/r1", "results/sub/r2"]


def fill(cci, names=RESULTS):
    for name in names:
        cci.upload_object(name, name.encode())


def contents(cci, prefix=""):
    return {name: cci.download_object(name) for name in cci.glob(prefix)}


def test_mv_of_a_folder_into_its_own_subfolder_is_refused_and_loses_nothing(interface):
    fill(interface)
    before = contents(interface)
    with pytest.raises(CottonCandyError, match="into itself.*results/archive"):
        interface.mv("results", "results/archive")
    assert contents(interface) == before


def test_cp_of_a_folder_into_its_own_subfolder_is_refused_and_writes_nothing(interface):
    fill(interface)
    before = contents(interface)
    with pytest.raises(CottonCandyError, match="into itself"):
        interface.cp("results", "results/archive")
    assert contents(interface) == before


def test_mv_of_a_folder_onto_names_it_is_moving_is_refused(interface):
    """mv a/b a with overwrite: a/b/b/x would be copied over a/b/x, which is being moved too."""
    fill(interface, ["a/b/x", "a/b/b/x"])
    before = contents(interface)
    with pytest.raises(CottonCandyError, match="a/b/x"):
        interface.mv("a/b", "a", overwrite=True)
    assert contents(interface) == before


def test_mv_deletes_only_the_objects_it_listed_at_the_start(interface, monkeypatch):
    """An object written under the source during the move was never copied: it must stay."""
    fill(interface)
    backend = interface.backend
    original_copy = type(backend).copy
    late = threading.Event()

    def copy_then_write(self, *args, **kwargs):
        original_copy(self, *args, **kwargs)
        if not late.is_set():
            late.set()
            interface.upload_object("results/late", b"written during the move")

    monkeypatch.setattr(type(backend), "copy", copy_then_write)
    moved = interface.mv("results", "moved")
    assert moved == ["moved/r0", "moved/r1", "moved/sub/r2"]
    assert interface.download_object("results/late") == b"written during the move"
    assert interface.glob("results") == ["results/late"]
    assert {name: interface.download_object(name) for name in moved} == {
        "moved/r0": b"results/r0", "moved/r1": b"results/r1", "moved/sub/r2": b"results/sub/r2"}


def test_mv_deletes_nothing_when_a_copy_fails(interface, monkeypatch):
    fill(interface)
    before = contents(interface)
    original_copy = type(interface.backend).copy

    def failing_copy(self, source, destination, **kwargs):
        if source == "results/r1":
            raise OSError("disk full")
        original_copy(self, source, destination, **kwargs)

    monkeypatch.setattr(type(interface.backend), "copy", failing_copy)
    with pytest.raises(OSError, match="disk full"):
        interface.mv("results", "moved")
    assert {name: data for name, data in contents(interface).items() if name.startswith("results")} == before


def test_copy_or_move_onto_itself_keeps_the_object(interface):
    interface.upload_raw_array("arr", np.arange(5.0), note="kept")
    assert interface.cp("arr", "arr") == ["arr"]
    assert interface.mv("arr", "arr") == ["arr"]
    fill(interface)
    assert interface.mv("results", "results") == RESULTS
    np.testing.assert_array_equal(interface.download_raw_array("arr"), np.arange(5.0))
    assert interface.get_object("arr").metadata["note"] == "kept"
    assert interface.glob("results") == RESULTS


def test_mv_onto_itself_through_another_spelling_of_the_local_root(local_interface):
    """The same local folder given as ``source_bucket`` (another spelling) is the same store."""
    local_interface.upload_raw_array("arr", np.arange(5.0))
    root = local_interface.backend.bucket
    assert local_interface.mv("arr", "arr", source_bucket=root + "/", overwrite=True) == ["arr"]
    np.testing.assert_array_equal(local_interface.download_raw_array("arr"), np.arange(5.0))


def test_folder_copy_checks_existing_names_against_one_listing(interface):
    fill(interface)
    interface.upload_object("copy/sub/r2", b"old")
    with pytest.raises(ObjectExistsError, match="copy/sub/r2.*overwrite=True"):
        interface.cp("results", "copy")
    assert interface.glob("copy") == ["copy/sub/r2"]  # nothing written before the refusal
    assert interface.cp("results", "copy", overwrite=True) == ["copy/r0", "copy/r1", "copy/sub/r2"]
    assert interface.download_object("copy/sub/r2") == b"results/sub/r2"


def test_folder_copy_runs_in_parallel_bounded_by_threads(interface, monkeypatch):
    """Objects of a folder are copied on up to ``[basic] threads`` threads at once."""
    names = [f"many/{i:03d}" for i in range(24)]
    fill(interface, names)
    interface.settings.set("basic", "threads", "4")
    original_copy = type(interface.backend).copy
    lock = threading.Lock()
    running, peak = [0], [0]
    barrier = threading.Barrier(4, timeout=5)

    def counting_copy(self, *args, **kwargs):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            if not barrier.broken:
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait()
            original_copy(self, *args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(type(interface.backend), "copy", counting_copy)
    assert interface.cp("many", "copied") == [n.replace("many/", "copied/") for n in names]
    assert peak[0] == 4
    assert contents(interface, "copied") == {n.replace("many/", "copied/"): n.encode() for n in names}


def test_rm_recursive_of_an_empty_prefix_warns_and_returns_nothing(interface):
    """cottoncandy 0.4 printed "nothing found under ..." and returned: cleanup code relies on it."""
    with pytest.warns(UserWarning, match="nothing found under 'gone'"):
        assert interface.rm("gone", recursive=True) == []
    with pytest.raises(ObjectNotFoundError, match="gone"):
        interface.rm("gone")


def test_rm_and_mv_return_the_names_they_removed_and_wrote(interface):
    fill(interface)
    assert interface.mv("results", "moved") == ["moved/r0", "moved/r1", "moved/sub/r2"]
    assert interface.glob("results") == []
    assert interface.rm("moved", recursive=True) == ["moved/r0", "moved/r1", "moved/sub/r2"]
    assert interface.glob("") == []


def test_mv_between_two_local_folders_given_as_paths(tmp_path, cc_settings):
    first = CCInterface(str(tmp_path / "one"), backend="local", force_bucket_creation=True, settings=cc_settings)
    second = tmp_path / "two"
    second.mkdir()
    fill(first)
    assert first.mv("results", "arrived", dest_bucket=str(second)) == ["arrived/r0", "arrived/r1", "arrived/sub/r2"]
    assert first.glob("results") == []
    other = CCInterface(str(second), backend="local", settings=cc_settings)
    assert other.download_object("arrived/sub/r2") == b"results/sub/r2"
    assert first.cp("arrived/r0", "back", source_bucket=str(second)) == ["back"]
    assert first.download_object("back") == b"results/r0"
