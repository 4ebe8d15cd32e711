"""The contestants of ``slices.py``: ways to store a big array and read ``a[i:i+rows]`` of it.

Each one runs in its own client process (``slice_client.py``) in the venv its ``env`` names, so at
module level only the standard library and numpy are imported; every contestant imports its own
library in :meth:`SliceContestant.setup`. On S3 the contestants reach moto through the
byte-counting proxy (``context["endpoint"]`` is the proxy's URL).

The list is data: cottoncandy's forms are rows of ``OURS`` (which transforms and options), and a
form whose transform is not registered in the installed cottoncandy is reported as not available.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import numpy as np

MiB = 1 << 20


class Skip(Exception):
    """A contestant cannot run here (a plugin or library is missing); the message says why."""


class SliceContestant:
    """Store an array once, then read rows of it and the whole of it as often as measured.

    Class attributes
    ----------------
    id : str
        ``<who>-<form>-<store>``, unique; on the command line and in the table.
    env : str
        The venv it runs in: ``"ours"`` (the workspace venv) or ``"zarr"`` (the peer venv).
    store : str
        ``"s3"`` (moto, through the proxy) or ``"local"`` (a folder).
    role : str
        ``"ours"`` (checked against the targets), ``"peer"`` or ``"floor"`` (one plain ranged read
        of the same bytes: what the store itself costs).
    compare : str
        For ``"ours"``: the peer (id without the store) whose slice time is the time target.
    """

    id: ClassVar[str] = ""
    env: ClassVar[str] = "ours"
    store: ClassVar[str] = "s3"
    role: ClassVar[str] = "ours"
    compare: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context
        self.name = f"{self.id}/big"
        self.folder = Path(context["workdir"]) / self.id

    def setup(self) -> None:
        """Import libraries and open clients; raise :class:`Skip` when something is missing."""

    def write(self, array: np.ndarray) -> None:
        raise NotImplementedError

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        """``a[start:stop]`` of the stored array, opened anew (its metadata read) for this read."""
        raise NotImplementedError

    def read_whole(self) -> np.ndarray:
        raise NotImplementedError

    def facts(self) -> dict[str, Any]:
        """What the table needs besides the measurements (``unit``: bytes of one segment or frame)."""
        return {"unit": 0}

    def requested(self, start: int, stop: int) -> dict[str, Any]:
        """Extra numbers about one read, taken outside the measured call (cottoncandy's own count)."""
        return {}

    # -- helpers -----------------------------------------------------------------------------------
    def boto3_client(self) -> Any:
        import boto3
        from botocore.client import Config

        return boto3.client("s3", endpoint_url=self.context["endpoint"], aws_access_key_id="testing",
                            aws_secret_access_key="testing", region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"}))


# -- floors: one plain ranged read of the selection's bytes -------------------------------------
class RangeFloor(SliceContestant):
    id = "floor-range-s3"
    role = "floor"
    description = "boto3 put_object of the raw bytes; get_object(Range=) of exactly the selection's bytes"

    def setup(self) -> None:
        self.client = self.boto3_client()

    def write(self, array: np.ndarray) -> None:
        self.like = array
        self.client.put_object(Bucket=self.context["bucket"], Key=self.name, Body=array.tobytes())

    def _rows(self, start: int, stop: int) -> tuple[int, int]:
        row = self.like[0].nbytes
        return start * row, stop * row

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        first, end = self._rows(start, stop)
        body = self.client.get_object(Bucket=self.context["bucket"], Key=self.name,
                                      Range=f"bytes={first}-{end - 1}")["Body"].read()
        return np.frombuffer(body, self.like.dtype).reshape(-1, *self.like.shape[1:])

    def read_whole(self) -> np.ndarray:
        body = self.client.get_object(Bucket=self.context["bucket"], Key=self.name)["Body"].read()
        return np.frombuffer(body, self.like.dtype).reshape(self.like.shape)


class LocalRangeFloor(RangeFloor):
    id = "floor-range-local"
    store = "local"
    description = "array.tofile; os.pread of exactly the selection's bytes"

    def setup(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "big.bin"

    def write(self, array: np.ndarray) -> None:
        self.like = array
        array.tofile(self.path)

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        first, end = self._rows(start, stop)
        descriptor = os.open(self.path, os.O_RDONLY)
        try:
            data = os.pread(descriptor, end - first, first)
        finally:
            os.close(descriptor)
        return np.frombuffer(data, self.like.dtype).reshape(-1, *self.like.shape[1:])

    def read_whole(self) -> np.ndarray:
        return np.fromfile(self.path, self.like.dtype).reshape(self.like.shape)


# -- cottoncandy (this project) -------------------------------------------------------------------
class Ours(SliceContestant):
    """``upload_raw_array(name, a, compression=...)``; ``open_array(name)[i:i+rows]``."""

    compression: ClassVar[str | bool] = False
    encrypted: ClassVar[bool] = False
    needs: ClassVar[tuple[str, ...]] = ()  # see Form
    units: ClassVar[tuple[tuple[str, str, int], ...]] = ()

    def setup(self) -> None:
        import cottoncandy as cc

        if self.store == "s3":
            from botocore.client import Config

            # moto completes a multipart upload of 1 GiB in more than the default 10 s read timeout
            # without sending anything meanwhile (S3 sends whitespace); the retried completion then fails
            where: dict[str, Any] = dict(bucket_name=self.context["bucket"], ACCESS_KEY="testing",
                                         SECRET_KEY="testing", endpoint_url=self.context["endpoint"], backend="s3",
                                         config=Config(read_timeout=300))
        else:
            where = dict(bucket_name=str(self.folder), backend="local", force_bucket_creation=True)
        if self.encrypted:
            self.cci = cc.get_encrypted_interface(verbose=False, key=os.urandom(32), **where)
        else:
            self.cci = cc.get_interface(verbose=False, **where)
        registered = self.cci.plugins.registry.names("transform")
        missing = [name for name in self.needs if name not in registered]
        if missing:
            raise Skip(f"not available: transform {', '.join(missing)} is not registered in this cottoncandy "
                       f"(installed transforms: {', '.join(registered)})")

    def write(self, array: np.ndarray) -> None:
        self.cci.upload_raw_array(self.name, array, compression=self.compression)

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        return self.cci.open_array(self.name)[start:stop]

    def read_whole(self) -> np.ndarray:
        return self.cci.download_raw_array(self.name)

    def facts(self) -> dict[str, Any]:
        unit = sum(self.cci.settings.getint(section, option, fallback=default)
                   for section, option, default in self.units)
        return {"unit": unit, "seekable": bool(self.cci.open_array(self.name).seekable)}

    def requested(self, start: int, stop: int) -> dict[str, Any]:
        from cc_core.testing.read_counter import ReadCounter

        # not inside the measured call: the counter asks the backend for the object's size (a HEAD)
        counter = ReadCounter(self.cci.backend)
        try:
            self.read_rows(start, stop)
        finally:
            counter.restore()
        return {"cc_requested": counter.requested, "cc_requests": counter.requests}


class Form(NamedTuple):
    """One way cottoncandy stores the array: a row of :data:`OURS`."""

    name: str
    compression: str | bool
    encrypted: bool
    needs: tuple[str, ...]  # transforms that must be registered
    units: tuple[tuple[str, str, int], ...]  # (section, option, default) of the sizes of one read unit
    peer: str  # the zarr contestant its slice time is compared with


SEGMENT = ("encryption", "segment_size", MiB)
FRAME = ("compression", "seekable_frame_size", MiB)

#: cottoncandy's forms
OURS = [
    Form("raw", False, False, (), (), "zarr-raw"),
    Form("aes-gcm", False, True, ("aes-gcm",), (SEGMENT,), "zarr-raw"),
    Form("zstd-seekable", "zstd-seekable", False, ("zstd-seekable",), (FRAME,), "zarr-zstd"),
    Form("zstd-seekable-aes-gcm", "zstd-seekable", True, ("zstd-seekable", "aes-gcm"), (FRAME, SEGMENT), "zarr-zstd"),
]


# -- zarr v3 on obstore (peer venv "zarr") --------------------------------------------------------
class ZarrObstore(SliceContestant):
    """A chunked zarr v3 array (chunks of ``chunk_rows`` whole rows) in zarr's ``ObjectStore`` over
    obstore's ``S3Store`` (the proxy's endpoint, http allowed) or ``LocalStore``."""

    env = "zarr"
    role = "peer"
    zstd: ClassVar[bool] = False

    def setup(self) -> None:
        import obstore.store
        import zarr
        from zarr.storage import ObjectStore

        self.zarr = zarr
        if self.store == "s3":
            inner = obstore.store.S3Store(
                self.context["bucket"], prefix=self.name, endpoint=self.context["endpoint"], region="us-east-1",
                access_key_id="testing", secret_access_key="testing", virtual_hosted_style_request=False,
                client_options={"allow_http": True})
        else:
            inner = obstore.store.LocalStore(self.folder, mkdir=True)
        self.zarr_store = ObjectStore(inner, read_only=False)

    def write(self, array: np.ndarray) -> None:
        from zarr.codecs import ZstdCodec

        self.chunks = (max(1, min(len(array), self.context["chunk_bytes"] // max(array[0].nbytes, 1))),
                       *array.shape[1:])
        stored = self.zarr.create_array(self.zarr_store, shape=array.shape, dtype=array.dtype, chunks=self.chunks,
                                        compressors=[ZstdCodec(level=1)] if self.zstd else None)
        stored[...] = array

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        return self.zarr.open_array(self.zarr_store, mode="r")[start:stop]

    def read_whole(self) -> np.ndarray:
        return self.zarr.open_array(self.zarr_store, mode="r")[...]

    def facts(self) -> dict[str, Any]:
        return {"unit": 0, "chunks": list(self.chunks)}


class ZarrRaw(ZarrObstore):
    id = "zarr-raw-s3"
    description = "zarr v3 + obstore, chunks of whole rows (--chunk-kib), no compression"


class ZarrZstd(ZarrObstore):
    id = "zarr-zstd-s3"
    zstd = True
    description = "zarr v3 + obstore, chunks of whole rows (--chunk-kib), ZstdCodec(level=1)"


def _ours(form: Form) -> type[SliceContestant]:
    description = (("get_encrypted_interface + " if form.encrypted else "")
                   + f"upload_raw_array(compression={form.compression!r}); open_array(name)[i:i+rows]")
    return type(f"Ours_{form.name}", (Ours,), {
        "id": f"cc-{form.name}-s3", "compression": form.compression, "encrypted": form.encrypted,
        "needs": form.needs, "units": form.units, "compare": form.peer, "description": description})


def _on_local(cls: type[SliceContestant]) -> type[SliceContestant]:
    """The same contestant on local disk."""
    return type(cls.__name__ + "Local", (cls,), {"id": cls.id.removesuffix("-s3") + "-local", "store": "local"})


_S3 = [RangeFloor, *(_ours(form) for form in OURS), ZarrRaw, ZarrZstd]
#: Every contestant by id: S3 first, each store's floor first.
CONTESTANTS: dict[str, type[SliceContestant]] = {
    cls.id: cls for cls in _S3 + [LocalRangeFloor] + [_on_local(cls) for cls in _S3 if cls is not RangeFloor]}


def select(patterns: str | None, stores: list[str], peers: bool) -> list[str]:
    """Contestant ids matching comma-separated ``patterns`` (all when None) on ``stores``."""
    wanted = patterns.split(",") if patterns else ["*"]
    return [cid for cid, cls in CONTESTANTS.items()
            if cls.store in stores and (peers or cls.env == "ours")
            and any(fnmatch.fnmatch(cid, pattern) for pattern in wanted)]
