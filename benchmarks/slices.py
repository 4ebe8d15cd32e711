"""Reading ``a[i:i+10]`` of a big stored array: bytes requested and time, against the whole download.

Usage, from the repository root::

    UV_PYTHON_DOWNLOADS=never uv run --all-packages --all-extras python benchmarks/slices.py [--mib 256] [--reps 5]

A float64 array of ``--mib`` MiB (rows of 8 KiB) is stored raw and encrypted (aes-gcm, default
1 MiB segments) on a moto server (its own process, on 127.0.0.1) and on local disk. For each, it
measures: ``download_raw_array`` of the whole array (once), and ``open_array(name)[i:i+rows]`` at
random rows (``--reps`` times after one warm-up, a new ``open_array`` each time: its HEAD and header
reads count).
Bytes are those requested from the backend (every ``get_into``/``iter_chunks`` range, counted by
:class:`cc_core.testing.read_counter.ReadCounter`), not moved over the wire; moto re-reads the
whole object for every ranged GET, so times on moto overstate what a real S3 costs per request.
Prints a markdown table; nothing is timed in the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ["CC_CONFIG_DIR"] = tempfile.mkdtemp(prefix="cc-bench-config-")  # never the user's config

from run import MotoServer

import cottoncandy as cc
from cc_core.testing.read_counter import ReadCounter

ACCESS_KEY, SECRET_KEY = "bench", "bench"


def interfaces(where: str, root: str, endpoint: str) -> dict[str, object]:
    key = os.urandom(32)
    if where == "local":
        return {"raw": cc.get_interface(root, backend="local", force_bucket_creation=True, verbose=False),
                "aes-gcm": cc.get_encrypted_interface(root, backend="local", verbose=False, key=key)}
    options = dict(backend="s3", verbose=False)
    return {"raw": cc.get_interface("bench", ACCESS_KEY, SECRET_KEY, endpoint, force_bucket_creation=True, **options),
            "aes-gcm": cc.get_encrypted_interface("bench", ACCESS_KEY, SECRET_KEY, endpoint, key=key, **options)}


def measure(interface: object, name: str, call) -> tuple[float, int, int, object]:
    counter = ReadCounter(interface.backend)  # type: ignore[attr-defined]
    try:
        started = time.perf_counter()
        result = call()
        return time.perf_counter() - started, counter.requested, counter.requests, result
    finally:
        counter.restore()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=256, help="array size in MiB (default 256)")
    parser.add_argument("--rows", type=int, default=10, help="rows per slice (default 10)")
    parser.add_argument("--reps", type=int, default=5, help="slices measured per store (default 5)")
    arguments = parser.parse_args()
    columns = 1024
    array = np.random.default_rng(0).standard_normal(((arguments.mib << 20) // 8 // columns, columns))
    selection = arguments.rows * columns * 8
    rng = np.random.default_rng(1)
    server = MotoServer()
    lines = [f"float64 array {array.shape}, {array.nbytes >> 20} MiB; slice a[i:i+{arguments.rows}] = "
             f"{selection} bytes; median of {arguments.reps} slices", "",
             "| store | form | read | bytes requested | x selection | requests | time (ms) |",
             "|---|---|---|---:|---:|---:|---:|"]
    try:
        with tempfile.TemporaryDirectory(prefix="cc-bench-slices-") as root:
            for where in ("local", "moto"):
                for form, interface in interfaces(where, root, server.endpoint).items():
                    name = f"big-{form}"
                    interface.upload_raw_array(name, array, compression=False)  # type: ignore[attr-defined]
                    seconds, requested, requests, whole = measure(
                        interface, name, lambda interface=interface, name=name: interface.download_raw_array(name, progress=False))  # type: ignore[attr-defined]
                    assert np.array_equal(whole, array)
                    del whole
                    lines.append(f"| {where} | {form} | whole array | {requested:,} | {requested / selection:,.0f} "
                                 f"| {requests} | {seconds * 1000:,.0f} |")
                    interface.open_array(name)[:1]  # type: ignore[attr-defined]  # warm-up: codec and pools created
                    runs = []
                    for _ in range(arguments.reps):
                        start = int(rng.integers(0, len(array) - arguments.rows))
                        runs.append(measure(interface, name, lambda interface=interface, name=name, start=start:
                                            interface.open_array(name)[start : start + arguments.rows]))  # type: ignore[attr-defined]
                        assert np.array_equal(runs[-1][3], array[start : start + arguments.rows])
                    seconds = statistics.median(r[0] for r in runs)
                    requested = int(statistics.median(r[1] for r in runs))
                    requests = int(statistics.median(r[2] for r in runs))
                    lines.append(f"| {where} | {form} | open_array + a[i:i+{arguments.rows}] | {requested:,} | "
                                 f"{requested / selection:.2f} | {requests} | {seconds * 1000:,.1f} |")
                    interface.rm(name)  # type: ignore[attr-defined]
    finally:
        server.stop()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
