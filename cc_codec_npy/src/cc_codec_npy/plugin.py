"""Entry point of the cc_codec_npy plugin: registers its components with cottoncandy.

Imports only cc_core, so that listing plugins never imports this package's heavy dependencies.
"""

from __future__ import annotations

from cc_core.hookspecs import RegisterCodec, RegisterSetting, RegisterTransform, hookimpl

PACKAGE = "cc_codec_npy"


@hookimpl
def cc_register_codecs(register: RegisterCodec) -> None:
    register("npy", f"{PACKAGE}.npy:NpyCodec", description="standard .npy bytes (np.save / np.load)")
    register("dask", f"{PACKAGE}.dask_array:DaskCodec", install="pip install 'cottoncandy[dask]'",
             description="chunked arrays: NAME/ptNNNN raw parts + metadata.json, read as dask arrays")
    register("sparse", f"{PACKAGE}.sparse:SparseCodec", install="pip install 'cottoncandy[sparse]'",
             description="scipy.sparse matrices/arrays: one raw array per attribute + metadata.json")
    register("group", f"{PACKAGE}.group:GroupCodec",
             description="nested dicts of arrays: one raw array per leaf; lazy h5py-like datasets")
    register("hdf5", f"{PACKAGE}.hdf5:Hdf5Codec", install="pip install 'cottoncandy[hdf5]'",
             description="HDF5 files as groups, attributes kept")


@hookimpl
def cc_register_transforms(register: RegisterTransform) -> None:
    for name, cls in (("zstd", "ZstdTransform"), ("lz4", "LZ4Transform"), ("blosc", "BloscTransform")):
        register(name, f"{PACKAGE}.compression:{cls}", install="pip install cottoncandy",
                 description=f"{name} compression in numcodecs' format (cottoncandy 0.4 reads it)")
    register("zstd-seekable", f"{PACKAGE}.seekable_zstd:SeekableZstdTransform", install="pip install cottoncandy",
             description="zstd in independent frames with a seek table (zstd's seekable format): random access")


@hookimpl
def cc_register_settings(register: RegisterSetting) -> None:
    register("compression", "zstd_level", "int", minimum=-131072, maximum=22)  # zstd's own range
    register("compression", "seekable_frame_size", "size", minimum=1 << 10, maximum=1 << 30)
    register("upload_settings", "dask_chunksize", "size", minimum=1)
