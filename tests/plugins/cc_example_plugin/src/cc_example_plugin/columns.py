"""A layout codec: a dict of 1-D arrays (a table) as NAME/<column> objects plus NAME/columns.json.

A layout receives a :class:`cc_core.codec.LayoutStore`, never the interface: it puts and gets
values, reads and writes JSON, lists, heads and checks objects, all in the interface's bucket and
through its transform chain.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cc_core import LayoutCodec, LayoutStore
from cc_core.errors import InvalidArrayError

INDEX = "columns.json"


class ColumnsLayout(LayoutCodec):
    def upload(self, store: LayoutStore, name: str, value: Any, **metadata: Any) -> list[str]:
        lengths = {len(np.asarray(column)) for column in value.values()}
        if len(lengths) > 1 or any(np.ndim(column) != 1 for column in value.values()):
            raise InvalidArrayError(f"Columns of {name!r} must be 1-D arrays of one length")
        for column, array in value.items():
            store.put_value(f"{name}/{column}", np.asarray(array), "raw")
        store.upload_json(f"{name}/{INDEX}", {"columns": list(value)}, **metadata)
        return list(value)

    def download(self, store: LayoutStore, name: str, columns: list[str] | None = None, **options: Any) -> dict:
        stored = store.download_json(f"{name}/{INDEX}")["columns"]
        return {column: store.get_value(f"{name}/{column}", "raw") for column in columns or stored}
