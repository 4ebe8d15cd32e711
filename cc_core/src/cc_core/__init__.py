"""cottoncandy core: the plugin manager, the stage interfaces and the built-in local backend.

Plugin authors import from here: :data:`hookimpl`, :class:`Backend`, :class:`ObjectCodec`,
:class:`LayoutCodec`, :class:`Transform` (and :class:`DecodeReader`), :class:`Payload`; and
:mod:`cc_core.testing` for the conformance suites.
"""

from importlib.metadata import PackageNotFoundError, version

from .api import get_encrypted_interface, get_interface
from .backend import Backend, Capabilities, Credentials, ObjectInfo, OpenedObject, Prefix
from .byteranges import ByteRequest, OffsetByteRequest, RangeByteRequest, SuffixByteRequest, byte_bounds
from .codec import ByteSource, Encoded, LayoutCodec, LayoutStore, ObjectCodec
from .config import Config, load_config
from .hookspecs import hookimpl, hookspec
from .interface import CCInterface, CloudStream, ObjectExistsError
from .payload import Payload, byte_view
from .plugins import get_plugin_manager
from .progress import ByteCounter, Progress
from .transform import COMPRESSION, ENCRYPTION, OTHER, DecodeReader, Transform

try:
    __version__ = version("cottoncandy-core")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

__all__ = [
    "COMPRESSION",
    "ENCRYPTION",
    "OTHER",
    "Backend",
    "ByteCounter",
    "ByteRequest",
    "ByteSource",
    "CCInterface",
    "Capabilities",
    "CloudStream",
    "Config",
    "Credentials",
    "DecodeReader",
    "Encoded",
    "LayoutCodec",
    "LayoutStore",
    "ObjectCodec",
    "ObjectExistsError",
    "ObjectInfo",
    "OffsetByteRequest",
    "OpenedObject",
    "Payload",
    "Prefix",
    "Progress",
    "RangeByteRequest",
    "SuffixByteRequest",
    "Transform",
    "byte_bounds",
    "byte_view",
    "get_encrypted_interface",
    "get_interface",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "load_config",
]
