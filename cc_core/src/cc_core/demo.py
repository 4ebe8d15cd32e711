"""``cottoncandy demo``: the main job on the embedded local backend, with a report."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from .api import get_interface
from .errors import CottonCandyError

MiB = 1 << 20


def _rate(nbytes: int, seconds: float) -> str:
    return f"{nbytes / MiB / seconds:9.1f} MiB/s" if seconds > 0 else "        - MiB/s"


def _demo_arrays(size_mb: float) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    count = max(int(size_mb * MiB) // 8, 1)
    return {
        "arrays/float64_random": rng.standard_normal(count),
        "arrays/int16_image_stack": rng.integers(-2000, 2000, size=(16, 256, 256), dtype=np.int16),
        "arrays/float32_fortran": np.asfortranarray(rng.standard_normal((512, 300)).astype(np.float32)),
        "arrays/bool_mask": rng.random((1000, 100)) > 0.5,
        "arrays/complex128": rng.standard_normal(5000) + 1j * rng.standard_normal(5000),
        "arrays/datetime64": np.arange("2026-01-01", "2026-12-31", dtype="datetime64[D]"),
        "arrays/unicode_labels": np.array(["alpha", "beta", "gamma", "δέλτα"]),
        "arrays/scalar": np.array(3.5),
    }


def run_demo(folder: str | None = None, *, size_mb: float = 64.0) -> None:
    """Store and reload arrays of several dtypes and a group of arrays; print what happened."""
    temporary = folder is None
    root = Path(tempfile.mkdtemp(prefix="cottoncandy-demo-") if temporary else folder).absolute()
    try:
        cci = get_interface(str(root), backend="local", force_bucket_creation=True, verbose=False)
        print(f"cottoncandy demo on {cci.backend.describe()}\n")
        print(f"{'object':<28} {'dtype':<14} {'shape':<16} {'size':>10}  {'upload':>15}  {'download':>15}  ok")
        for name, array in _demo_arrays(size_mb).items():
            started = time.perf_counter()
            cci.upload_raw_array(name, array)
            uploaded = time.perf_counter()
            restored = cci.download_raw_array(name)
            downloaded = time.perf_counter()
            same = restored.dtype == array.dtype and restored.shape == array.shape and np.array_equal(restored, array)
            if not same:
                raise CottonCandyError(f"demo: {name} did not come back identical")
            print(f"{name:<28} {array.dtype!s:<14} {array.shape!s:<16} {array.nbytes / MiB:8.2f}MB"
                  f"  {_rate(array.nbytes, uploaded - started)}  {_rate(array.nbytes, downloaded - uploaded)}  yes")

        compressed = _demo_arrays(size_mb)["arrays/int16_image_stack"]
        cci.upload_raw_array("arrays/int16_zstd", compressed, compression="zstd")
        stored = cci.get_object("arrays/int16_zstd").size
        assert np.array_equal(cci.download_raw_array("arrays/int16_zstd"), compressed)
        print(f"\nzstd: {compressed.nbytes / MiB:.2f} MB of int16 stored in {stored / MiB:.2f} MB "
              f"({100 * stored / compressed.nbytes:.0f}%), read back identical")

        group = {"subject01": {"bold": np.ones((10, 20), np.float32), "mask": np.eye(5, dtype=bool)},
                 "stimulus": np.arange(100, dtype=np.int64)}
        cci.dict2cloud("experiment.grp", group, verbose=False)
        back = cci.cloud2dict("experiment.grp", verbose=False)
        assert np.array_equal(back["subject01"]["bold"], group["subject01"]["bold"])
        assert np.array_equal(back["stimulus"], group["stimulus"])
        print(f"group: dict2cloud/cloud2dict of {len(cci.glob('experiment.grp/**'))} arrays round-tripped: "
              f"{', '.join(cci.glob('experiment.grp/**'))}")

        print(f"\nstore now holds {len(cci.glob('**'))} objects, {cci.get_size() / MiB:.2f} MB; "
              f"top level: {cci.lsdir('/')}")
        print("demo: all arrays came back identical")
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
