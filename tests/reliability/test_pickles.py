"""``download_pickle`` unpickles only what ``upload_pickle`` wrote (``cc-codec: pickle``), or, on a
plain interface, an object without any codec as cottoncandy 0.4 wrote pickles. Bytes someone else
chose (a file archived with ``upload_from_file``, an object written by ``upload_object``, an array)
are refused before ``pickle.loads`` sees them, plain and encrypted."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.errors import CottonCandyError
from cc_core.payload import Payload


class _Trap:
    """Unpickling it creates the file ``marker``: the attacker's code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(params=["plain", "encrypted"])
def cci(request, tmp_path, cc_settings):
    bucket = str(tmp_path / "store")
    if request.param == "plain":
        return cc.get_interface(bucket, backend="local", force_bucket_creation=True, settings=cc_settings, verbose=False)
    pytest.importorskip("cc_crypto")
    return cc.get_encrypted_interface(bucket, backend="local", force_bucket_creation=True, settings=cc_settings,
                                      verbose=False, key=os.urandom(32))


def test_pickles_round_trip_and_say_so(cci):
    cci.upload_pickle("state.pkl", {"step": 3, "weights": [1.0, 2.0]})
    assert cci.get_object("state.pkl").metadata["cc-codec"] == "pickle"
    assert cci.download_pickle("state.pkl") == {"step": 3, "weights": [1.0, 2.0]}


def test_bytes_not_written_as_a_pickle_are_never_unpickled(cci, tmp_path):
    marker = tmp_path / "attacker-code-ran"
    chosen = tmp_path / "innocent-looking.dat"
    chosen.write_bytes(pickle.dumps(_Trap(str(marker))))
    cci.upload_pickle("state.pkl", {"step": 1})
    cci.upload_from_file(chosen, "archive/innocent-looking.dat")  # the victim archives the file
    cci.upload_object("blob", chosen.read_bytes())
    cci.upload_raw_array("array", np.frombuffer(chosen.read_bytes(), dtype=np.uint8))
    for source in ("archive/innocent-looking.dat", "blob", "array"):
        cci.cp(source, "state.pkl", overwrite=True)  # what an attacker with write access can do
        with pytest.raises(CottonCandyError, match="'state.pkl'.*upload_pickle"):
            cci.download_pickle("state.pkl")
        assert not marker.exists()


def test_pickles_of_cottoncandy_04_read_on_a_plain_interface_only(cci, tmp_path):
    cci.backend.put("old.pkl", Payload([pickle.dumps([1, 2, 3])]), {})  # 0.4: no metadata at all
    if not cci.pipeline.always:
        assert cci.download_pickle("old.pkl") == [1, 2, 3]
    else:
        with pytest.raises(CottonCandyError, match="'old.pkl'"):
            cci.download_pickle("old.pkl")
