"""The conformance suite every object codec passes, through a real pipeline and backend."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ..codec import ObjectCodec


class CodecConformance:
    """Subclass and provide ``codec_name`` (a registered codec), ``values`` (a list of values it
    must round-trip) and the ``interface`` fixture (``cc_core.testing.fixtures`` has one)."""

    codec_name = ""
    values: list[Any] = []

    def assert_same(self, original: Any, restored: Any) -> None:
        assert type(restored) is type(original)
        if isinstance(original, np.ndarray):
            assert restored.dtype == original.dtype
            assert restored.shape == original.shape
            np.testing.assert_array_equal(restored, original)
        else:
            assert restored == original

    def test_registered(self, interface) -> None:
        assert isinstance(interface._codec(self.codec_name), ObjectCodec)

    @pytest.mark.parametrize("chain", [None, "gzip"])
    def test_round_trip(self, interface, chain) -> None:
        for index, value in enumerate(self.values):
            name = f"conformance/{self.codec_name}/{index}"
            interface.put_value(name, value, self.codec_name, transforms=chain)
            self.assert_same(value, interface.get_value(name, self.codec_name))
