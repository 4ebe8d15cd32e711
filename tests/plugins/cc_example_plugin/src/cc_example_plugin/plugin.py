"""Registers the example plugin's components; imports nothing heavy."""

from cc_core import hookimpl


@hookimpl
def cc_register_transforms(register):
    register("byteshuffle8", "cc_example_plugin.shuffle:ByteShuffle8",
             description="groups byte k of every 8-byte word (helps compress float64)")
