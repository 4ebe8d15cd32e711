"""Property-based round trips (hypothesis): dtype x shape x memory order x codec x transform chain.

Whatever the combination, what comes back is exactly what went in (bytes, dtype, shape, order for
the raw codec), the stored object carries a checksum unless it is encrypted, and a damaged copy of
it is refused.
"""

from __future__ import annotations

import os
import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import cottoncandy as cc
from cc_core.config import load_config
from cc_core.errors import CottonCandyError
from cc_core.payload import Payload
from cc_core.plugins import get_plugin_manager

TRANSFORMS = get_plugin_manager().registry.names("transform")
COMPRESSIONS = [name for name in ("gzip", "zlib", "bz2", "lzma", "zstd", "lz4", "blosc") if name in TRANSFORMS]
SHUFFLES = [name for name in ("byteshuffle8",) if name in TRANSFORMS]
CODECS = [name for name in ("raw", "npy") if name in get_plugin_manager().registry.names("codec")]
KEY = os.urandom(32)

DTYPES = st.one_of(
    hnp.boolean_dtypes(), hnp.integer_dtypes(), hnp.unsigned_integer_dtypes(), hnp.floating_dtypes(),
    hnp.complex_number_dtypes(), hnp.datetime64_dtypes(), hnp.timedelta64_dtypes(),
    hnp.byte_string_dtypes(max_len=5), hnp.unicode_string_dtypes(max_len=5),
    st.just(np.dtype([("a", "<i4"), ("b", ">f8", (2,))])),
)


@st.composite
def arrays(draw):
    dtype = draw(DTYPES)
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6))
    array = draw(hnp.arrays(dtype, shape))
    layout = draw(st.sampled_from(["C", "F", "strided"]))
    if layout == "F":
        array = np.asfortranarray(array)
    elif layout == "strided" and array.ndim and array.shape[0] > 1:
        array = array[::2]
    return array


@st.composite
def chains(draw):
    """Shuffling before compressing, one compression at most, encryption last (the allowed orders)."""
    chain = []
    if SHUFFLES and draw(st.booleans()):
        chain.append(draw(st.sampled_from(SHUFFLES)))
    if draw(st.booleans()):
        chain.append(draw(st.sampled_from(COMPRESSIONS)))
    if "aes-gcm" in TRANSFORMS and draw(st.booleans()):
        chain.append("aes-gcm")
    return chain


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """One local and one memory interface for the whole module (hypothesis calls the test often)."""
    made = {}
    for backend in ("local", "memory"):
        bucket = str(tmp_path_factory.mktemp("props")) if backend == "local" else f"props-{uuid.uuid4().hex}"
        cci = cc.get_interface(bucket, backend=backend, force_bucket_creation=True, settings=load_config(), verbose=False)
        cci.pipeline.configure_transform("aes-gcm", key=KEY)
        made[backend] = cci
    return made


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(array=arrays(), codec=st.sampled_from(CODECS), chain=chains(), backend=st.sampled_from(["local", "memory"]))
def test_every_combination_round_trips_exactly(stores, array, codec, chain, backend):
    cci = stores[backend]
    name = f"p/{uuid.uuid4().hex}"
    cci.put_value(name, array, codec, transforms=chain)
    back = cci.get_value(name, codec)
    assert back.dtype == array.dtype and back.shape == array.shape
    assert back.tobytes() == np.ascontiguousarray(array).tobytes()
    if codec == "raw" and array.flags.f_contiguous and not array.flags.c_contiguous:
        assert back.flags.f_contiguous  # the memory order is kept
    info = cci.get_object(name)
    assert ("cc-checksum" in info.metadata) == ("aes-gcm" not in chain)
    stored = bytearray(cci.backend.get(name))
    if stored:
        stored[len(stored) // 2] ^= 0x01
        cci.backend.put(name, Payload([bytes(stored)]), info.metadata)
        with pytest.raises(CottonCandyError, match=repr(name)):
            cci.get_value(name, codec)
    cci.backend.delete(name)
