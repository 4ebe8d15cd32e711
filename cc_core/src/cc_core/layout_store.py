"""The :class:`~cc_core.codec.LayoutStore` an interface hands to layout codecs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .backend import ObjectInfo, Prefix
from .byteranges import ByteRequest, SuffixByteRequest, byte_bounds

if TYPE_CHECKING:
    from .interface import CCInterface


class InterfaceLayoutStore:
    """An interface seen through the :class:`~cc_core.codec.LayoutStore` protocol only.

    Parameters
    ----------
    interface : cc_core.interface.CCInterface
        Whose bucket, backend and transform chain the layout writes through. (Imported for type
        checking only: the interface imports this module.)
    """

    def __init__(self, interface: CCInterface) -> None:
        self._interface = interface

    @property
    def settings(self) -> Any:
        return self._interface.settings

    def describe(self) -> str:
        return self._interface.backend.describe()

    def put_value(self, name: str, value: Any, codec: str, **options: Any) -> Any:
        return self._interface.put_value(name, value, codec, **options)

    def get_value(self, name: str, codec: str, **options: Any) -> Any:
        return self._interface.get_value(name, codec, **options)

    def upload_raw_array(self, name: str, array: Any, compression: Any = None, acl: str | None = None,
                         threads: int | None = None, **metadata: Any) -> ObjectInfo:
        return self._interface.upload_raw_array(name, array, compression, acl, threads, **metadata)

    def download_raw_array(self, name: str) -> Any:
        return self._interface.download_raw_array(name)

    def upload_json(self, name: str, value: Any, **metadata: Any) -> ObjectInfo:
        return self._interface.upload_json(name, value, **metadata)

    def download_json(self, name: str) -> Any:
        return self._interface.download_json(name)

    def list(self, prefix: str = "", delimiter: str | None = None) -> Iterator[ObjectInfo | Prefix]:
        return self._interface.backend.list(prefix, delimiter=delimiter)

    def exists(self, name: str) -> bool:
        return self._interface.backend.exists(name)

    def head(self, name: str) -> ObjectInfo:
        return self._interface.backend.head(name)

    def read_into(self, name: str, buffer: memoryview, byte_range: ByteRequest) -> int:
        """Decoded bytes of ``name`` in ``byte_range`` into ``buffer``, with the checks of a full
        read (:meth:`Pipeline.read_range`: metadata digest, the interface's required transforms)."""
        store, key, _ = self._interface.locate(name)
        start, stop = byte_bounds(byte_range, None) if not isinstance(byte_range, SuffixByteRequest) else (
            -byte_range.suffix, None)
        view = buffer if stop is None else buffer[: max(0, stop - start)]
        return len(self._interface.pipeline.read_range(store, key, start, into=view))

    def __repr__(self) -> str:
        return f"<layout store {self.describe()}>"
