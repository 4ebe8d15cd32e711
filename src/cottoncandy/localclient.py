"""cottoncandy 0.4's ``cottoncandy.localclient``: ``LocalClient`` is the local backend.

0.4 code reaches it as ``cci.backend_interface`` and tests it with
``isinstance(cci.backend_interface, LocalClient)``; ``.path`` is the root folder.
"""

from cc_core.builtin.local import LocalBackend as LocalClient

__all__ = ["LocalClient"]
