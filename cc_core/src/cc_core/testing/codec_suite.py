"""The conformance suite every codec (object or layout) passes, through a real pipeline and backend."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from ..codec import LayoutCodec, ObjectCodec


class CodecConformance:
    """Subclass and provide ``codec_name`` (a registered codec), ``values`` (a list of values it
    must round-trip) and the ``interface`` fixture (``cc_core.testing.fixtures`` has one). Values go
    through the public path, ``put_value``/``get_value``; override :meth:`assert_same` for values
    that ``==`` cannot compare (a dict of arrays)."""

    codec_name = ""
    values: ClassVar[list[Any]] = []

    def assert_same(self, original: Any, restored: Any) -> None:
        assert type(restored) is type(original)
        if isinstance(original, np.ndarray):
            assert restored.dtype == original.dtype
            assert restored.shape == original.shape
            np.testing.assert_array_equal(restored, original)
        else:
            assert restored == original

    def test_registered(self, interface) -> None:
        cls = interface.plugins.registry.resolve("codec", self.codec_name)
        assert issubclass(cls, (ObjectCodec, LayoutCodec)), (
            f"codec {self.codec_name!r} is registered as {cls!r}: register an ObjectCodec or LayoutCodec subclass")

    @pytest.mark.parametrize("chain", [None, "gzip"])
    def test_round_trip(self, interface, chain) -> None:
        layout = issubclass(interface.plugins.registry.resolve("codec", self.codec_name), LayoutCodec)
        if layout and chain:
            pytest.skip("a layout codec stores its parts with the interface's chain; it takes no transforms=")
        for index, value in enumerate(self.values):
            name = f"conformance/{self.codec_name}/{index}"
            interface.put_value(name, value, self.codec_name, transforms=chain)
            self.assert_same(value, interface.get_value(name, self.codec_name))
