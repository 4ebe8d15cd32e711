"""Integrity on Google Drive (the fake Drive server of ``tests/gdrive``): objects carry cc-checksum in
their properties, a copy keeps it, and damaged content is an IntegrityError that names the object."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("cc_backend_gdrive", reason="the Drive backend plugin is not installed")

from gdrive.conftest import drive_auth_files, drive_options, drive_root, fake_drive, gdrive_interface  # noqa: F401

from cc_core.errors import IntegrityError
from cc_core.payload import Payload


@pytest.mark.parametrize("compression", [False, "gzip"])
def test_drive_objects_are_checksummed_and_verified(gdrive_interface, compression):
    array = np.random.default_rng(3).random((50, 40))
    gdrive_interface.upload_raw_array("exp/a", array, compression=compression)
    info = gdrive_interface.get_object("exp/a")
    assert info.metadata["cc-checksum"].startswith("xxh3-64:")
    gdrive_interface.cp("exp/a", "exp/b")
    assert gdrive_interface.get_object("exp/b").metadata["cc-checksum"] == info.metadata["cc-checksum"]
    stored = bytearray(gdrive_interface.backend.get("exp/a"))
    stored[len(stored) // 3] ^= 0x02
    gdrive_interface.backend.put("exp/a", Payload([bytes(stored)]), info.metadata)
    with pytest.raises(IntegrityError, match="'exp/a'"):
        gdrive_interface.download_raw_array("exp/a")
    np.testing.assert_array_equal(gdrive_interface.download_raw_array("exp/b"), array)
