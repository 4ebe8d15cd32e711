"""The contestants: one class per way of storing an array, each run in its own client process.

This module is imported by ``client.py`` in three different environments (the project's workspace
venv and the two peer venvs under ``benchmarks/.env/``), so at module level it imports only the
standard library and numpy; every contestant imports its own library in :meth:`Contestant.setup`.

A contestant uploads an array under a fresh name per repetition (no contestant pays for deleting
or overwriting an earlier version) and downloads the last name it uploaded.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, ClassVar

import numpy as np


class Skip(Exception):
    """A contestant cannot run here (a plugin or library is missing); the message says why."""


class Contestant:
    """Base class: ``setup`` once, then ``upload``/``download`` as often as measured.

    Class attributes
    ----------------
    id : str
        Unique name, ``<who>-<what>-<store>``, used on the command line and in the tables.
    env : str
        ``"ours"`` (the workspace venv), ``"cc04"``, ``"zarr"`` or ``"obstore"`` (the peer venvs).
    store : str
        ``"s3"`` (the S3 server of the run: moto or the stub, ``context["endpoint"]``, trusted through
        ``context["ca_bundle"]`` over https) or ``"local"`` (a folder on the benchmark's disk).
    floor : bool
        True for the reference every other contestant of the same store is divided by.
    quick : bool
        Part of the ``--quick`` smoke run.
    """

    id: ClassVar[str] = ""
    env: ClassVar[str] = "ours"
    store: ClassVar[str] = "s3"
    floor: ClassVar[bool] = False
    quick: ClassVar[bool] = False
    description: ClassVar[str] = ""

    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context
        self.prefix = f"{self.id}/{context['array_id']}"
        self.root = Path(context["workdir"]) / self.id

    def setup(self) -> None:
        """Import libraries and open clients; raise :class:`Skip` when something is missing."""

    def upload(self, name: str, array: np.ndarray) -> None:
        raise NotImplementedError

    def download(self, name: str, like: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def name(self, rep: int) -> str:
        return f"{self.prefix}/rep{rep}"

    # -- helpers shared by the contestants of one store ------------------------------------------
    def boto3_client(self) -> Any:
        import boto3
        from botocore.client import Config

        return boto3.client(
            "s3", endpoint_url=self.context["endpoint"], aws_access_key_id="testing",
            aws_secret_access_key="testing", region_name="us-east-1", verify=self.context.get("ca_bundle") or True,
            config=Config(s3={"addressing_style": "path"}),
        )

    def local_folder(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root


# -- floors ------------------------------------------------------------------------------------
class BotoFloor(Contestant):
    id = "floor-boto3-s3"
    floor = True
    quick = True
    description = "boto3 put_object(arr.tobytes()) / np.frombuffer(get_object()['Body'].read())"

    def setup(self) -> None:
        self.client = self.boto3_client()

    def upload(self, name: str, array: np.ndarray) -> None:
        self.client.put_object(Bucket=self.context["bucket"], Key=name, Body=array.tobytes())

    def download(self, name: str, like: np.ndarray) -> np.ndarray:
        body = self.client.get_object(Bucket=self.context["bucket"], Key=name)["Body"].read()
        return np.frombuffer(body, dtype=like.dtype).reshape(like.shape)


class NumpyFloor(Contestant):
    id = "floor-numpy-local"
    store = "local"
    floor = True
    quick = True
    description = "np.save / np.load of a .npy file"

    def upload(self, name: str, array: np.ndarray) -> None:
        path = self.local_folder() / (name.replace("/", "_") + ".npy")
        np.save(path, array)

    def download(self, name: str, like: np.ndarray) -> np.ndarray:
        return np.load(self.local_folder() / (name.replace("/", "_") + ".npy"))


# -- this project ------------------------------------------------------------------------------
class Ours(Contestant):
    """cottoncandy (this project) through ``get_interface``, default settings unless said."""

    #: (kind, name) of registered plugins the contestant needs, e.g. ("transform", "aes-gcm")
    needs: ClassVar[tuple[tuple[str, str], ...]] = ()
    encrypted: ClassVar[bool] = False
    upload_options: ClassVar[dict[str, Any]] = {}
    #: Backend options (S3 transfer settings) that replace the defaults for this contestant.
    backend_options: ClassVar[dict[str, Any]] = {}
    quick = True

    def setup(self) -> None:
        import cottoncandy as cc

        if self.store == "s3":
            where: dict[str, Any] = dict(
                bucket_name=self.context["bucket"], ACCESS_KEY="testing", SECRET_KEY="testing",
                endpoint_url=self.context["endpoint"], backend="s3", **self.backend_options)
            if self.context.get("ca_bundle"):
                where["verify"] = self.context["ca_bundle"]
        else:
            where = dict(bucket_name=str(self.local_folder()), backend="local", force_bucket_creation=True)
        try:
            if self.encrypted:
                self.cci = cc.get_encrypted_interface(verbose=False, key=os.urandom(32), **where)
            else:
                self.cci = cc.get_interface(verbose=False, **where)
            for kind, plugin_name in self.needs:
                self.cci.plugins.registry.resolve(kind, plugin_name)
        except Exception as exc:  # a missing plugin names what to install
            raise Skip(f"{type(exc).__name__}: {exc}") from None


class OursRaw(Ours):
    id = "cc-raw-s3"
    description = "upload_raw_array / download_raw_array, default settings"

    def upload(self, name: str, array: np.ndarray) -> None:
        self.cci.upload_raw_array(name, array, **self.upload_options)

    def download(self, name: str, like: np.ndarray) -> np.ndarray:
        return self.cci.download_raw_array(name)


class OursSingleGet(OursRaw):
    id = "cc-raw-1get-s3"
    backend_options = {"download_threshold": 5 << 30}
    description = ("upload_raw_array / download_raw_array with [download_settings] mpd_use_threshold = 5000: "
                   "one GET per download, as the floor (moto re-reads the whole object for every ranged GET)")


class OursSignedCrc32(OursRaw):
    id = "cc-raw-signed-crc32-s3"
    backend_options = {"upload_checksum": "crc32"}
    description = ("upload_raw_array / download_raw_array with [s3] payload_signing = true, upload_checksum = crc32: "
                   "the requests of this project before issue #19 (SHA-256 over http, botocore's CRC32, our XXH3)")

    def setup(self) -> None:
        os.environ["CC_S3_PAYLOAD_SIGNING"] = "true"  # this client process only
        super().setup()


class OursToFile(OursRaw):
    id = "cc-file-s3"
    upload_options = {"compression": False}
    description = ("upload_raw_array(compression=False) / download_to_file, then np.memmap of the file "
                   "(the bytes are read once, by the download)")

    def download(self, name: str, like: np.ndarray) -> np.ndarray:
        target = self.local_folder() / name.replace("/", "_")
        self.cci.download_to_file(name, target)
        return np.memmap(target, dtype=like.dtype, mode="r", shape=like.shape)


class OursStream(OursRaw):
    id = "cc-stream-s3"
    upload_options = {"compression": False}
    description = "upload_raw_array(compression=False) / download_stream(name).content.read(), np.frombuffer"

    def download(self, name: str, like: np.ndarray) -> np.ndarray:
        data = self.cci.download_stream(name).content.read()
        return np.frombuffer(data, dtype=like.dtype).reshape(like.shape)


class OursZstd(OursRaw):
    id = "cc-zstd-s3"
    needs = (("transform", "zstd"),)
    upload_options = {"compression": "zstd"}
    description = "upload_raw_array(compression='zstd'), level 1 (the default level)"


class OursEncrypted(OursRaw):
    id = "cc-aes-s3"
    needs = (("transform", "aes-gcm"),)
    encrypted = True
    description = "get_encrypted_interface (aes-gcm) + upload_raw_array, default settings"


class OursNpy(Ours):
    id = "cc-npy-s3"
    needs = (("codec", "npy"),)
    description = "upload_npy_array / download_npy_array"

    def upload(self, name: str, array: np.ndarray) -> None:
        self.cci.upload_npy_array(name, array)

    def download(self, name: str, like: np.ndarray) -> np.ndarray:
        return self.cci.download_npy_array(name)


class OursDask(Ours):
    id = "cc-dask-s3"
    needs = (("codec", "dask"),)
    description = "upload_dask_array(whole array) / download_dask_array(...).compute()"

    def setup(self) -> None:
        super().setup()
        try:
            import dask.array  # noqa: F401
        except ImportError as exc:
            raise Skip(f"dask is not installed: {exc}") from None

    def upload(self, name: str, array: np.ndarray) -> None:
        self.cci.upload_dask_array(name, array)

    def download(self, name: str, like: np.ndarray) -> np.ndarray:
        return self.cci.download_dask_array(name).compute()


def _on_local(cls: type[Contestant]) -> type[Contestant]:
    """The same contestant on the local backend."""
    return type(cls.__name__ + "Local", (cls,), {"id": cls.id.removesuffix("-s3") + "-local", "store": "local"})


# -- cottoncandy 0.4.0 (peer venv "cc04") --------------------------------------------------------
class Cc04(Contestant):
    env = "cc04"
    upload_options: ClassVar[dict[str, Any]] = {}

    def setup(self) -> None:
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):  # 0.4 prints its bucket and backend
            import cottoncandy

            if self.store == "s3":
                self.cci = cottoncandy.get_interface(
                    self.context["bucket"], ACCESS_KEY="testing", SECRET_KEY="testing",
                    endpoint_url=self.context["endpoint"], verbose=False)
            else:
                self.cci = cottoncandy.get_interface(str(self.local_folder()), backend="local", verbose=False)

    def _quiet(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):  # "Compressed to X% the size", part counts
            return function(*args, **kwargs)


class Cc04Default(Cc04):
    id = "cc04-default-s3"
    description = "cottoncandy 0.4.0 upload_raw_array, default compression (gzip)"

    def upload(self, name: str, array: np.ndarray) -> None:
        self._quiet(self.cci.upload_raw_array, name, array, **self.upload_options)

    def download(self, name: str, like: np.ndarray) -> np.ndarray:
        return self._quiet(self.cci.download_raw_array, name)


class Cc04Raw(Cc04Default):
    id = "cc04-raw-s3"
    quick = True
    upload_options = {"compression": False}
    description = "cottoncandy 0.4.0 upload_raw_array(compression=False)"


class Cc04Dask(Cc04):
    id = "cc04-dask-s3"
    description = "cottoncandy 0.4.0 upload_dask_array / download_dask_array(...).compute()"

    def upload(self, name: str, array: np.ndarray) -> None:
        self._quiet(self.cci.upload_dask_array, name, array)

    def download(self, name: str, like: np.ndarray) -> np.ndarray:
        return self._quiet(lambda: self.cci.download_dask_array(name).compute())


# -- zarr v3 (peer venv "zarr") ------------------------------------------------------------------
class Zarr(Contestant):
    env = "zarr"
    zstd: ClassVar[bool] = False

    def setup(self) -> None:
        import zarr

        self.zarr = zarr
        if self.store == "s3":
            from zarr.storage import FsspecStore

            options = {"key": "testing", "secret": "testing",
                       "client_kwargs": {"endpoint_url": self.context["endpoint"], "region_name": "us-east-1"}}
            self.open_store = lambda name: FsspecStore.from_url(
                f"s3://{self.context['bucket']}/{name}", storage_options=options, read_only=False)
        else:
            from zarr.storage import LocalStore

            self.open_store = lambda name: LocalStore(self.local_folder() / name)

    def upload(self, name: str, array: np.ndarray) -> None:
        from zarr.codecs import ZstdCodec

        compressors = [ZstdCodec(level=1)] if self.zstd else None
        stored = self.zarr.create_array(self.open_store(name), shape=array.shape, dtype=array.dtype,
                                        compressors=compressors)
        stored[...] = array

    def download(self, name: str, like: np.ndarray) -> np.ndarray:
        return self.zarr.open_array(self.open_store(name), mode="r")[...]


class ZarrRaw(Zarr):
    id = "zarr-raw-s3"
    quick = True
    description = "zarr 3 on an s3fs FsspecStore, default chunks, no compression"


class ZarrZstd(Zarr):
    id = "zarr-zstd-s3"
    zstd = True
    description = "zarr 3 on an s3fs FsspecStore, default chunks, ZstdCodec(level=1)"


# -- obstore (peer venv "obstore") ----------------------------------------------------------------
class Obstore(Contestant):
    id = "obstore-s3"
    env = "obstore"
    description = ("obstore 0.12 (Rust object_store) put(store, name, array bytes) / get(...).bytes(), its defaults "
                   "(multipart above 5 MB, 12 parts at a time, SHA-256 payload signing)")

    def setup(self) -> None:
        from obstore.store import S3Store

        client_options: dict[str, Any] = {"allow_http": True}
        if self.context.get("ca_bundle"):
            client_options["root_certificate"] = Path(self.context["ca_bundle"]).read_text()
        self.store = S3Store(self.context["bucket"], endpoint=self.context["endpoint"], access_key_id="testing",
                             secret_access_key="testing", region="us-east-1", client_options=client_options)

    def upload(self, name: str, array: np.ndarray) -> None:
        import obstore

        obstore.put(self.store, name, array.reshape(-1).view(np.uint8))

    def download(self, name: str, like: np.ndarray) -> np.ndarray:
        import obstore

        body = obstore.get(self.store, name).bytes()
        return np.frombuffer(memoryview(body), dtype=like.dtype).reshape(like.shape)


_S3 = [BotoFloor, OursRaw, OursSignedCrc32, OursSingleGet, OursToFile, OursStream, OursZstd, OursNpy, OursDask,
       OursEncrypted, Cc04Default, Cc04Raw, Cc04Dask, ZarrRaw, ZarrZstd, Obstore]
_LOCAL = [NumpyFloor] + [_on_local(cls) for cls in _S3 if not cls.floor and not getattr(cls, "backend_options", None)
                         and cls not in (OursToFile, OursStream, Obstore)]
for _cls in _LOCAL:
    if _cls.id.startswith("zarr"):
        _cls.description = _cls.description.replace("an s3fs FsspecStore", "a LocalStore")
    elif _cls.id.startswith("cc04"):
        _cls.description += " on its local backend"

#: Every contestant by id, S3 first, floors first.
CONTESTANTS: dict[str, type[Contestant]] = {cls.id: cls for cls in _S3 + _LOCAL}


def remove_local(context: dict[str, Any], contestant_id: str) -> None:
    """Delete a contestant's local folder (outside the timed region)."""
    shutil.rmtree(Path(context["workdir"]) / contestant_id, ignore_errors=True)
