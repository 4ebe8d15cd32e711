"""cottoncandy 0.4's ``cottoncandy.gdriveclient``: ``GDriveClient`` is the Google Drive backend.

0.4 code reaches it as ``cci.backend_interface``. Importing this module imports the Drive plugin.
"""

from cc_core.errors import MissingDependencyError

try:
    from cc_backend_gdrive.backend import GDriveBackend as GDriveClient
except ImportError as exc:
    raise MissingDependencyError(
        f"cottoncandy.gdriveclient is the Google Drive backend, which is not available ({exc}): "
        "pip install 'cottoncandy[gdrive]'"
    ) from exc

__all__ = ["GDriveClient"]
