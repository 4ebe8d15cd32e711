"""cottoncandy's array codecs and numcodecs-format compression, as one plugin.

Codecs (looked up by name by :class:`cc_core.interface.CCInterface`):

- ``npy`` (:mod:`.npy`): standard ``.npy`` bytes, header in memory, body from the array's buffer.
- ``dask`` (:mod:`.dask_array`): ``NAME/ptNNNN`` raw parts + ``metadata.json``; lazy dask arrays.
- ``sparse`` (:mod:`.sparse`): scipy.sparse matrices and arrays, one raw array per attribute.
- ``group`` (:mod:`.group`): nested dicts as one raw array per leaf; lazy h5py-like view.
- ``hdf5`` (:mod:`.hdf5`): ``.h5`` files stored as groups, attributes kept.

Transforms (:mod:`.compression`): ``zstd`` (streaming), ``lz4`` and ``blosc``, writing what
numcodecs writes, so cottoncandy 0.4 reads them. All layouts are cottoncandy 0.4's.
"""
