"""An object codec: a ``str`` stored as its UTF-8 bytes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cc_core import ByteSource, Encoded, ObjectCodec, Payload


class TextCodec(ObjectCodec):
    def encode(self, value: Any, **options: Any) -> Encoded:
        if not isinstance(value, str):
            raise TypeError(f"The text codec stores str, not {type(value).__name__}")
        return Encoded(Payload([value.encode("utf-8")]), {"encoding": "utf-8"})

    def decode(self, metadata: Mapping[str, str], source: ByteSource, **options: Any) -> str:
        return source.read().decode(metadata.get("encoding", "utf-8"))
