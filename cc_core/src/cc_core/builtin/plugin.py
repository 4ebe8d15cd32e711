"""The core's built-ins, registered through the same hooks as any third-party plugin."""

from __future__ import annotations

from ..hookspecs import RegisterBackend, RegisterCodec, RegisterSetting, RegisterTransform, hookimpl
from ..retry import JITTERS


@hookimpl
def cc_register_backends(register: RegisterBackend) -> None:
    register("local", "cc_core.builtin.local:LocalBackend", schemes=("file",),
             description="files in a folder, metadata in NAME.meta.json beside them")
    register("memory", "cc_core.builtin.memory:MemoryBackend", schemes=("memory",),
             description="objects in this process's memory, for tests")


@hookimpl
def cc_register_codecs(register: RegisterCodec) -> None:
    register("raw", "cc_core.builtin.raw:RawCodec", description="numpy array bytes + dtype/shape/order")


@hookimpl
def cc_register_transforms(register: RegisterTransform) -> None:
    for name, cls, legacy in (("gzip", "GzipTransform", ()), ("zlib", "ZlibTransform", ()),
                              ("bz2", "Bz2Transform", ()), ("lzma", "LzmaTransform", ("xz",))):
        register(name, f"cc_core.builtin.compression:{cls}", aliases=legacy,
                 description=f"{name} compression (standard library)")


@hookimpl
def cc_register_settings(register: RegisterSetting) -> None:
    for section, key in (("login", "verbose_boto"), ("basic", "force_bucket_creation"), ("basic", "allow_pickle"),
                         ("compression", "do_compression"), ("local", "fsync")):
        register(section, key, "bool")
    register("basic", "threads", "int", minimum=1, maximum=1024)
    register("basic", "progress_threshold", "size", minimum=0)
    register("basic", "progress_bars", "choice", choices=("auto", "always", "never"))
    register("compression", "threshold", "size", minimum=0)
    register("compression", "gzip_level", "int", minimum=0, maximum=9)
    register("pipeline", "transforms", "names")
    register("plugins", "disable", "names")
    register("plugins", "load", "names")
    register("retry", "attempts", "int", minimum=1, maximum=100)
    register("retry", "base_delay", "float", minimum=0)
    register("retry", "max_delay", "float", minimum=0)
    register("retry", "jitter", "choice", choices=JITTERS)
    register("plugins", "prefer", "names")  # NAME=PLUGIN or KIND:NAME=PLUGIN: who serves a name two plugins register
