"""Files written by download_to_file, download_directory and the CLI get the mode any file-writing
tool gives them: 0666 less the umask (0644 under umask 022), not mkstemp's 0600."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from cc_core.cli import main
from cc_core.interface import CCInterface


@pytest.fixture
def umask():
    def set_(mask: int) -> None:
        previous.append(os.umask(mask))

    previous: list[int] = []
    yield set_
    if previous:
        os.umask(previous[0])


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_downloaded_files_respect_the_umask(tmp_path, cc_settings, umask, mask, expected):
    store = CCInterface(str(tmp_path / "store"), force_bucket_creation=True, settings=cc_settings, verbose=False)
    store.upload_raw_array("d/raw", np.arange(10.0), compression=False)
    store.upload_raw_array("d/packed", np.arange(10.0), compression="gzip")
    store.upload_object("d/empty", b"")
    umask(mask)
    written = [store.download_to_file(name, tmp_path / "out" / name) for name in ("d/raw", "d/packed", "d/empty")]
    written += store.download_directory("d", tmp_path / "folder")
    assert main(["download", "--no-progress", str(tmp_path / "store" / "d" / "raw"), str(tmp_path / "cli.bin")]) == 0
    written.append(tmp_path / "cli.bin")
    assert len(written) == 7
    assert {str(path): mode(path) for path in written} == {str(path): expected for path in written}
