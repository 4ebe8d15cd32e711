"""Registers the example plugin's components; imports nothing heavy (only cc_core)."""

from cc_core.hookspecs import RegisterBackend, RegisterCodec, RegisterTransform, hookimpl


@hookimpl
def cc_register_backends(register: RegisterBackend) -> None:
    register("dict", "cc_example_plugin.dict_backend:DictBackend", schemes=("dict",),
             description="objects in a Python dict of this process (an example backend)")


@hookimpl
def cc_register_codecs(register: RegisterCodec) -> None:
    register("text", "cc_example_plugin.text:TextCodec", description="a str as UTF-8 bytes")
    register("columns", "cc_example_plugin.columns:ColumnsLayout",
             description="a dict of 1-D arrays as one object per column plus NAME/columns.json")


@hookimpl
def cc_register_transforms(register: RegisterTransform) -> None:
    register("byteshuffle8", "cc_example_plugin.shuffle:ByteShuffle8",
             description="groups byte k of every 8-byte word (helps compress float64)")
