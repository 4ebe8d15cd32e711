"""cottoncandy: sugar for S3. Store and read numpy arrays on S3, Google Drive and local disk.

A facade over :mod:`cc_core` so that code written for cottoncandy 0.4 keeps working::

    import cottoncandy as cc
    cci = cc.get_interface('/data/store', backend='local')
    cci.upload_raw_array('exp/run1/weights', arr)
"""

from importlib.metadata import PackageNotFoundError, version

from cc_core import distributed, errors
from cc_core.api import get_browser, get_encrypted_interface, get_interface
from cc_core.interface import CCInterface, CCInterface as DefaultInterface, CloudStream

try:
    __version__ = version("cottoncandy")
except PackageNotFoundError:
    __version__ = "0+unknown"

__all__ = [
    "CCInterface", "CloudStream", "DefaultInterface", "distributed", "errors", "get_browser", "get_encrypted_interface",
    "get_interface",
]
