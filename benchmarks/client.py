"""One client process: measure one contestant on one array, print the numbers as one JSON line.

Usage (the benchmark runs this; by hand only to debug a contestant)::

    python benchmarks/client.py '{"contestant": "cc-raw-s3", "kind": "float64", "mib": 8, ...}'

How it measures, per phase (upload, then download of the last uploaded name):

- a warm-up round trip of a tiny array first, so that imports, clients, connection pools and
  thread pools exist before anything is measured (every contestant gets the same);
- each repetition: touch and free a scratch buffer of three times the array (see below),
  ``gc.collect()`` and ``malloc_trim(0)``, reset the peak RSS (``echo 5 >
  /proc/self/clear_refs``), note VmRSS, run, read VmHWM; wall time by ``time.perf_counter`` and
  CPU time of all the process's threads by ``time.process_time``;
- extra memory = peak RSS above the RSS before the call; for a download minus the array it
  returns (that one is the result, not overhead). The maximum over repetitions is reported;
- the first download is compared with the array (outside the timed region).

Why the scratch buffer: this VM hands freed memory back to the host within a few seconds, and
memory touched again after that faults in at about 0.4 GiB/s instead of 5 GiB/s. Whichever
contestant happened to run right after a large free would win by 0.3 s per 128 MiB. Touching
and freeing a buffer before each repetition gives every contestant (and the page cache that a
local write fills) host-backed free pages, as on an ordinary machine. ``"prewarm": false`` in
the request turns it off.

Only the standard library and numpy are imported at module level: this script runs in the peer
venvs too.
"""

from __future__ import annotations

import ctypes
import gc
import json
import re
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from contestants import CONTESTANTS, Skip

RESULT_MARKER = "@@result "
_LIBC = ctypes.CDLL(None)


def make_array(kind: str, mib: float, seed: int = 1234) -> np.ndarray:
    """The benchmark's arrays: ``float64`` random normal (incompressible), or ``int16`` that zstd
    level 1 shrinks to about half (a slow sine of amplitude 300 plus noise of +-2, like a recorded
    signal). 2-D, 1,024 columns."""
    rng = np.random.default_rng(seed)
    itemsize = 8 if kind == "float64" else 2
    count = max(int(mib * (1 << 20)) // itemsize // 1024, 1) * 1024
    if kind == "float64":
        flat = rng.standard_normal(count)
    elif kind == "int16":
        signal = 300 * np.sin(np.arange(count, dtype=np.float64) / 500.0)
        flat = (signal + rng.integers(-2, 3, count)).astype(np.int16)
    else:
        raise ValueError(f"unknown array kind {kind!r}: float64 or int16")
    return flat.reshape(-1, 1024)


def _status(field: str) -> int:
    """A VmRSS / VmHWM value of this process, in bytes."""
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1)) * 1024  # type: ignore[union-attr]


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def prewarm_memory(nbytes: int) -> None:
    """Touch and free ``nbytes`` so that the kernel has that much host-backed free memory."""
    if nbytes:
        scratch = np.empty(nbytes, dtype=np.uint8)
        scratch.fill(1)
        del scratch


def measure(run: Callable[[], Any], reps: int, budget: float, result_bytes: int,
            prewarm: int) -> tuple[dict[str, Any], Any]:
    """Run ``run`` up to ``reps`` times (fewer once ``budget`` seconds are spent, at least once)."""
    walls, cpus, extras = [], [], []
    first = None
    started = time.perf_counter()
    for rep in range(reps):
        prewarm_memory(prewarm)
        gc.collect()
        _LIBC.malloc_trim(0)
        _reset_peak()
        before = _status("VmRSS")
        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = run()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        extras.append(_status("VmHWM") - before - result_bytes)
        walls.append(wall)
        cpus.append(cpu)
        if rep == 0:
            first = result
        del result
        if time.perf_counter() - started > budget:
            break
    numbers = {"wall": statistics.median(walls), "cpu": statistics.median(cpus), "extra": max(extras),
               "reps": len(walls), "walls": walls}
    return numbers, first


def main(spec: dict[str, Any]) -> dict[str, Any]:
    cls = CONTESTANTS[spec["contestant"]]
    array = make_array(spec["kind"], spec["mib"])
    context = {**spec, "array_id": f"{spec['kind']}-{spec['mib']}"}
    contestant = cls(context)
    try:
        contestant.setup()
        warm = make_array(spec["kind"], 1 / 64, seed=7)
        contestant.upload(f"{contestant.prefix}/warm", warm)
        if not np.array_equal(contestant.download(f"{contestant.prefix}/warm", warm), warm):
            raise AssertionError("the warm-up array came back different")
    except Skip as exc:
        return {"skipped": str(exc)}

    counter = iter(range(1_000_000))
    names: list[str] = []

    def upload() -> None:
        names.append(contestant.name(next(counter)))
        contestant.upload(names[-1], array)

    prewarm = 3 * array.nbytes if spec.get("prewarm", True) else 0
    up, _ = measure(upload, spec["reps"], spec["budget"], 0, prewarm)
    down, first = measure(lambda: contestant.download(names[-1], array), spec["reps"], spec["budget"],
                          array.nbytes, prewarm)
    if not (first.shape == array.shape and first.dtype == array.dtype and np.array_equal(first, array)):
        raise AssertionError(f"{cls.id} returned a different array")
    return {"nbytes": array.nbytes, "upload": up, "download": down, "names": names}


def answer(run: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Run a client's ``run`` on the JSON request in ``argv[1]`` and print its outcome after
    :data:`RESULT_MARKER`; an error becomes a failed contestant, and the benchmark goes on."""
    try:
        outcome = run(json.loads(sys.argv[1]))
    except Exception as exc:
        traceback.print_exc()
        outcome = {"failed": f"{type(exc).__name__}: {exc}"}
    print(RESULT_MARKER + json.dumps(outcome), flush=True)


if __name__ == "__main__":
    answer(main)
