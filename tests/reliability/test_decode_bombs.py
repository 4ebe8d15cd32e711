"""Objects whose metadata or headers claim more than they can hold are refused, naming the object,
before memory is allocated for the claim; decompression stops at the size the metadata promises;
a hostile scrypt cost in an encrypted header is refused before scrypt runs.

The planted objects carry no ``cc-digest`` (as cottoncandy 0.4's, or this project's before the
digest): the digest catches edits of objects that have one, these checks hold for every object."""

from __future__ import annotations

import io
import os
import time
import tracemalloc

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.errors import CottonCandyError, IntegrityError, MetadataError
from cc_core.payload import Payload

HUGE = 10**12  # elements: 7.28 TiB of float64


@pytest.fixture
def cci(tmp_path, cc_settings):
    interface = cc.get_interface(str(tmp_path / "store"), backend="local", force_bucket_creation=True,
                                 settings=cc_settings, verbose=False)
    if "aes-gcm" in interface.plugins.registry.names("transform"):
        interface.pipeline.configure_transform("aes-gcm", key=os.urandom(32))
    return interface


def stored_bytes(cci, chain: str, data: bytes) -> bytes:
    """``data`` through the transform chain ``chain`` (write order), as the pipeline stores it."""
    for name in filter(None, chain.split(",")):
        transform = cci.pipeline.transform(name)
        data = b"".join(bytes(c) for c in transform.encode_sized([data], len(data)))
    return data


def plant_raw(cci, name: str, chain: str, data: bytes, shape: str, dtype: str = "<f8") -> None:
    cci.backend.put(name, Payload([stored_bytes(cci, chain, data)]),
                    {"cc-codec": "raw", "cc-transforms": chain, "dtype": dtype, "shape": shape, "order": "C"})


CHAINS = ["", "gzip", "zlib", "zstd", "lz4", "blosc", "bz2", "lzma", "aes-gcm", "zstd,aes-gcm", "zstd-seekable",
          "zstd-seekable,aes-gcm"]


@pytest.mark.parametrize("chain", CHAINS)
def test_a_raw_array_claiming_more_than_its_object_holds_is_refused(cci, chain):
    if any(n not in cci.plugins.registry.names("transform") for n in filter(None, chain.split(","))):
        pytest.skip(f"{chain} is not installed")
    plant_raw(cci, "bomb", chain, np.arange(3.0).tobytes(), str(HUGE))
    with pytest.raises((MetadataError, IntegrityError), match="'bomb'"):
        cci.download_raw_array("bomb")


@pytest.mark.parametrize("chain", ["", "gzip", "zstd", "aes-gcm"])
def test_an_npy_header_claiming_more_than_its_object_holds_is_refused(cci, chain):
    pytest.importorskip("cc_codec_npy")
    if chain and chain not in cci.plugins.registry.names("transform"):
        pytest.skip(f"{chain} is not installed")
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (HUGE,)})
    body = header.getvalue() + np.arange(3.0).tobytes()
    cci.backend.put("bomb.npy", Payload([stored_bytes(cci, chain, body)]),
                    {"cc-codec": "npy", **({"cc-transforms": chain} if chain else {})})
    with pytest.raises((MetadataError, IntegrityError), match="'bomb.npy'"):
        cci.download_npy_array("bomb.npy")


@pytest.mark.parametrize("chain", ["gzip", "zstd", "lz4", "blosc", "lzma", "zstd-seekable"])
def test_decompression_stops_at_the_size_the_metadata_promises(cci, chain):
    """64 MiB of zeros whose metadata says 8 KiB: refused without decompressing the 64 MiB."""
    if chain not in cci.plugins.registry.names("transform"):
        pytest.skip(f"{chain} is not installed")
    plant_raw(cci, "small-claim", chain, bytes(64 << 20), str(8 << 10), dtype="|u1")
    tracemalloc.start()
    try:
        with pytest.raises(IntegrityError, match="'small-claim'"):
            cci.download_raw_array("small-claim")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 24 << 20, f"{peak / 2**20:.0f} MiB allocated for an 8 KiB promise"


def test_honest_compressed_arrays_still_read(cci):
    value = np.zeros((512, 1024))  # highly compressible: near the ratio bounds
    for chain in ("gzip", "zstd", "lz4", "bz2", "zstd-seekable"):
        if chain in cci.plugins.registry.names("transform"):
            cci.upload_raw_array(f"zeros-{chain}", value, transforms=chain)
            assert np.array_equal(cci.download_raw_array(f"zeros-{chain}"), value)


# -- scrypt costs in encrypted headers -----------------------------------------------------------
def _with_cost(stored: bytes, log_n: int, r: int, p: int) -> bytes:
    """The object with its header's scrypt cost replaced (the cost bytes follow the 16-byte salt)."""
    from cc_crypto.format import PREFIX_SIZE

    wrapped = int.from_bytes(stored[39:41], "big")
    at = 41 + wrapped + 16
    assert PREFIX_SIZE <= at < int.from_bytes(stored[10:12], "big")
    return stored[:at] + bytes((log_n, r, p)) + stored[at + 3:]


@pytest.mark.parametrize("cost", [(20, 8, 16), (16, 8, 4)], ids=["log2N=20,r=8,p=16", "log2N=16,r=8,p=4"])
def test_a_hostile_scrypt_cost_is_refused_before_scrypt_runs(tmp_path, cc_settings, monkeypatch, cost):
    pytest.importorskip("cc_crypto")
    monkeypatch.setenv("CC_ENCRYPTION_PASSPHRASE", "correct horse battery staple")
    monkeypatch.setenv("CC_ENCRYPTION_SCRYPT_LOG_N", "10")
    cci = cc.get_encrypted_interface(str(tmp_path / "store"), backend="local", force_bucket_creation=True,
                                     settings=cc_settings, verbose=False)
    cci.upload_object("sealed", b"secret")
    info = cci.get_object("sealed")
    stored = (cci.backend.root / "sealed").read_bytes()
    cci.backend.put("hostile", Payload([_with_cost(stored, *cost)]), dict(info.metadata))
    started = time.perf_counter()
    with pytest.raises(CottonCandyError, match="'hostile'.*scrypt.*scrypt_max_factor"):
        cci.download_object("hostile")
    assert time.perf_counter() - started < 1.0
    cci.backend.put("costlier", Payload([_with_cost(stored, 17, 8, 2)]), dict(info.metadata))  # 8x the default
    with pytest.raises(CottonCandyError, match="'costlier'.*8 times.*scrypt_max_factor"):
        cci.download_object("costlier")
    monkeypatch.setenv("CC_ENCRYPTION_SCRYPT_MAX_FACTOR", "0.5")
    with pytest.raises(CottonCandyError, match="scrypt_max_factor = .0.5. is outside >= 1"):  # refused up front
        cc.get_encrypted_interface(str(tmp_path / "store"), backend="local", settings=cc_settings,
                                   verbose=False).download_object("sealed")
    monkeypatch.setenv("CC_ENCRYPTION_SCRYPT_MAX_FACTOR", "1")  # bound = the default cost (15, 8, 1)
    strict = cc.get_encrypted_interface(str(tmp_path / "store"), backend="local", settings=cc_settings, verbose=False)
    strict.backend.put("doubled", Payload([_with_cost(stored, 15, 8, 2)]), dict(info.metadata))
    with pytest.raises(CottonCandyError, match="'doubled'.*scrypt_max_factor"):
        strict.download_object("doubled")
    monkeypatch.setenv("CC_ENCRYPTION_SCRYPT_MAX_FACTOR", "2")  # the user raises the bound: scrypt runs
    raised = cc.get_encrypted_interface(str(tmp_path / "store"), backend="local", settings=cc_settings, verbose=False)
    with pytest.raises(CottonCandyError, match="'doubled'") as caught:  # the cost bytes changed: no key matches
        raised.download_object("doubled")
    assert "scrypt_max_factor" not in str(caught.value)


def test_objects_at_the_default_cost_read_with_a_cheaper_configured_cost(tmp_path, cc_settings, monkeypatch):
    pytest.importorskip("cc_crypto")
    monkeypatch.setenv("CC_ENCRYPTION_PASSPHRASE", "correct horse battery staple")
    writer = cc.get_encrypted_interface(str(tmp_path / "store"), backend="local", force_bucket_creation=True,
                                        settings=cc_settings, verbose=False)
    writer.upload_object("default-cost", b"data")
    monkeypatch.setenv("CC_ENCRYPTION_SCRYPT_LOG_N", "10")
    reader = cc.get_encrypted_interface(str(tmp_path / "store"), backend="local", settings=cc_settings, verbose=False)
    assert reader.download_object("default-cost") == b"data"
