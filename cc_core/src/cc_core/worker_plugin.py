"""The dask WorkerPlugin of :func:`cc_core.distributed.setup` (imports dask.distributed)."""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from .distributed import _Handed, install


class SecretsPlugin(WorkerPlugin):
    """Carries credentials and keys to a worker process; they are forgotten when it is removed."""

    name = "cottoncandy-secrets"

    def __init__(self, handed: _Handed) -> None:
        self.handed = handed

    def setup(self, worker: Any) -> None:
        install(self.handed)

    def teardown(self, worker: Any) -> None:
        install(_Handed({}, {}))

    def __repr__(self) -> str:  # never the secrets
        return (f"<cottoncandy SecretsPlugin for {sorted(self.handed.credentials)} "
                f"and transforms {sorted(self.handed.transform_options)}>")
