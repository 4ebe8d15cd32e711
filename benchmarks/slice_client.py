"""One client process of ``slices.py``: one contestant, its slices and its whole read, as one JSON line.

Usage (``slices.py`` runs this; by hand only to debug a contestant)::

    python benchmarks/slice_client.py '{"contestant": "cc-raw-s3", "mib": 8, "starts": [3, 99], ...}'

What it does:

1. ``setup`` (a contestant that cannot run here reports ``skipped`` and why), then the array of
   ``client.make_array("float64", mib)`` (the same seed in every process) is written (not measured);
2. one warm-up slice at row 0, so that imports, clients and pools exist before anything is measured;
3. for each start row: ``a[start:start+rows]`` measured: wall time (``perf_counter``), this
   process's CPU time over all its threads (``process_time``), and the bytes moved: on S3 the
   byte-counting proxy's server-to-client bytes and request lines (asked before and after the call),
   on local disk this process's ``/proc/self/io`` ``rchar`` (bytes read by system calls) and
   ``syscr`` (read calls). The result is compared with the array, outside the measured region, and
   then the contestant may add numbers of its own (cottoncandy's requested bytes);
4. the whole array read ``whole_reps`` times, measured the same way (after touching and freeing
   twice the array, as ``client.py`` explains), and compared with the array.

Only the standard library and numpy are imported at module level: this runs in the peer venv too.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from byteproxy import read_counts
from client import answer, make_array, prewarm_memory
from slice_contestants import CONTESTANTS, Skip


def _proc_io() -> dict[str, int]:
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return {"down": int(fields["rchar"]), "requests": int(fields["syscr"])}


class Meter:
    """Bytes moved and requests made by one call, the same way for every contestant of a store."""

    def __init__(self, control: list[Any] | None) -> None:
        self.sample: Callable[[], dict[str, int]] = (lambda: read_counts(control)) if control else _proc_io
        self.baseline = {"down": 0, "requests": 0}
        first = self.sample()  # what asking costs by itself (reading /proc/self/io is itself a read)
        second = self.sample()
        self.baseline = {key: second[key] - first[key] for key in self.baseline}

    def __call__(self, call: Callable[[], Any]) -> tuple[dict[str, float], Any]:
        before = self.sample()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = call()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        after = self.sample()
        moved = {key: after[key] - before[key] - self.baseline[key] for key in self.baseline}
        return {"wall": wall, "cpu": cpu, "moved": moved["down"], "requests": moved["requests"]}, result


def main(spec: dict[str, Any]) -> dict[str, Any]:
    contestant = CONTESTANTS[spec["contestant"]](spec)
    try:
        contestant.setup()
    except Skip as exc:
        return {"skipped": str(exc)}
    array = make_array("float64", spec["mib"])
    rows = spec["rows"]
    contestant.write(array)
    meter = Meter(spec.get("control"))
    if not np.array_equal(contestant.read_rows(0, rows), array[:rows]):  # the warm-up
        raise AssertionError(f"{contestant.id} read different rows")
    slices = []
    for start in spec["starts"]:
        numbers, got = meter(lambda: contestant.read_rows(start, start + rows))
        if not np.array_equal(got, array[start : start + rows]):
            raise AssertionError(f"{contestant.id} read different rows at {start}")
        del got
        slices.append({"start": start, **numbers, **contestant.requested(start, start + rows)})
    wholes = []
    for _ in range(spec["whole_reps"]):
        prewarm_memory(2 * array.nbytes)
        gc.collect()
        numbers, got = meter(contestant.read_whole)
        if not (got.shape == array.shape and np.array_equal(got, array)):
            raise AssertionError(f"{contestant.id} read a different whole array")
        del got
        wholes.append(numbers)
    return {"shape": list(array.shape), "nbytes": array.nbytes, "selection": array[:rows].nbytes,
            "slices": slices, "whole": wholes, **contestant.facts()}


if __name__ == "__main__":
    answer(main)
