"""Local disk, plain and encrypted, against ``np.save``/``np.load`` in one process (issue #19).

Usage, from the repository root::

    UV_PYTHON_DOWNLOADS=never uv run --all-packages --all-extras python benchmarks/local_cpu.py \
        [--sizes 128,1024] [--reps 5]

For each size, one float64 array (``client.make_array``) is written and read by four contestants,
interleaved repetition by repetition so that the machine's load falls on all of them alike:
``np.save``/``np.load`` of a ``.npy`` file (the floor), ``upload_raw_array``/``download_raw_array`` on
a local interface, and the same on an encrypted local interface (aes-gcm, default settings, a
random key). Each repetition is preceded by what ``client.py`` does (touch and free a scratch
buffer of three times the array, ``gc.collect()``, ``malloc_trim(0)``); every upload writes a new
name, deleted after its download (untimed). Wall time (``perf_counter``) and CPU time of all the
process's threads (``process_time``) are medians over ``--reps``.

``xxh3/byte`` is measured, not assumed: one more, untimed, round trip per contestant counts every
byte the XXH3 checksum and metadata digest of ``cc_core.integrity`` are fed, divided by the bytes
stored. Encrypted objects carry no XXH3 checksum: AES-GCM authenticates every stored byte (GHASH,
one pass, inside the cipher), so their column reads 0.00 plus a few hundred bytes of metadata.
Prints markdown; nothing is timed in the test suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ["CC_CONFIG_DIR"] = tempfile.mkdtemp(prefix="cc-bench-config-")  # never the user's config

import xxhash  # noqa: E402
from client import _LIBC, make_array, prewarm_memory  # noqa: E402

import cottoncandy as cc  # noqa: E402
from cc_core import integrity  # noqa: E402

GiB = 1 << 30
PHASES = ("up", "down")


class Contestant:
    """Writes and reads one array; ``names`` are what it stored (for the floor: file paths)."""

    def __init__(self, label: str, folder: Path, interface: Any = None) -> None:
        self.label, self.folder, self.interface = label, folder, interface
        self.count = 0
        self.last = ""

    def up(self, array: np.ndarray) -> None:
        self.count += 1
        self.last = f"a{self.count}"
        if self.interface is None:
            np.save(self.folder / f"{self.last}.npy", array)
        else:
            self.interface.upload_raw_array(self.last, array)

    def down(self, array: np.ndarray) -> np.ndarray:
        if self.interface is None:
            return np.load(self.folder / f"{self.last}.npy")
        return self.interface.download_raw_array(self.last)

    def remove(self) -> None:
        """Delete what the last upload stored: its dirty pages go without being written back, so
        that the next contestant's writes are not throttled by the kernel for this one's."""
        if self.interface is None:
            (self.folder / f"{self.last}.npy").unlink()
        else:
            self.interface.rm(self.last)

    def stored_bytes(self) -> int:
        path = self.folder / (f"{self.last}.npy" if self.interface is None else self.last)
        return path.stat().st_size


def contestants(root: Path) -> list[Contestant]:
    plain = cc.get_interface(str(root / "plain"), backend="local", verbose=False)
    encrypted = cc.get_encrypted_interface(str(root / "encrypted"), backend="local", verbose=False,
                                           key=os.urandom(32))
    (root / "numpy").mkdir()
    return [Contestant("np.save / np.load", root / "numpy"),
            Contestant("cc raw local", root / "plain", plain),
            Contestant("cc encrypted local (aes-gcm)", root / "encrypted", encrypted)]


def timed(run: Callable[[], Any], prewarm: int) -> tuple[float, float]:
    """Wall and CPU seconds of one call, after the same preparation ``client.py`` makes."""
    prewarm_memory(prewarm)
    import gc

    gc.collect()
    _LIBC.malloc_trim(0)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = run()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    del result
    return wall, cpu


@contextmanager
def counting_xxh3() -> Iterator[list[int]]:
    """Count the bytes ``cc_core.integrity`` hashes with XXH3 while the block runs."""
    counted = [0]

    class Counting:
        def __init__(self, data: Any = b"") -> None:
            self._digest = xxhash.xxh3_64()
            self.update(data)

        def update(self, data: Any) -> None:
            counted[0] += memoryview(data).nbytes
            self._digest.update(data)

        def hexdigest(self) -> str:
            return self._digest.hexdigest()

    def hexdigest(data: Any) -> str:
        counted[0] += memoryview(data).nbytes
        return xxhash.xxh3_64_hexdigest(data)

    original = integrity.xxhash
    integrity.xxhash = SimpleNamespace(xxh3_64=Counting, xxh3_64_hexdigest=hexdigest)  # type: ignore[assignment]
    try:
        yield counted
    finally:
        integrity.xxhash = original


def hashed_per_byte(contestant: Contestant, array: np.ndarray) -> dict[str, float]:
    """XXH3 bytes per stored byte of one upload and one download (untimed)."""
    if contestant.interface is None:
        return {}
    ratios = {}
    with counting_xxh3() as counted:
        contestant.up(array)
    stored = contestant.stored_bytes()
    ratios["up"] = counted[0] / stored
    with counting_xxh3() as counted:
        restored = contestant.down(array)
    ratios["down"] = counted[0] / stored
    if not np.array_equal(restored, array):
        raise AssertionError(f"{contestant.label} returned a different array")
    return ratios


def measure(mib: int, reps: int, root: Path) -> list[dict[str, Any]]:
    array = make_array("float64", mib)
    players = contestants(root)
    hashed = {player.label: hashed_per_byte(player, array) for player in players}
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(reps):
        for player in players:
            samples.setdefault((player.label, "up"), []).append(timed(lambda p=player: p.up(array), 3 * array.nbytes))
            samples.setdefault((player.label, "down"), []).append(
                timed(lambda p=player: p.down(array), 3 * array.nbytes))
            player.remove()
    rows = []
    for player in players:
        for phase in PHASES:
            runs = samples[(player.label, phase)]
            rows.append({"mib": mib, "contestant": player.label, "phase": phase,
                         "wall": statistics.median(w for w, _ in runs), "cpu": statistics.median(c for _, c in runs),
                         "walls": [w for w, _ in runs], "hashed": hashed[player.label].get(phase),
                         "nbytes": array.nbytes})
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    floor = {(r["mib"], r["phase"]): r for r in rows if r["contestant"].startswith("np.")}
    lines = ["| MiB | contestant | phase | wall s | x floor | CPU s | CPU x floor | CPU s/GiB | xxh3/byte |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        base = floor[(r["mib"], r["phase"])]
        hashed = "-" if r["hashed"] is None else f"{r['hashed']:.2f}"
        cpu_per_gib = r["cpu"] / (r["nbytes"] / GiB)
        lines.append(f"| {r['mib']} | {r['contestant']} | {r['phase']} | {r['wall']:.4f} "
                     f"| {r['wall'] / base['wall']:.2f} | {r['cpu']:.4f} | {r['cpu'] / base['cpu']:.2f} "
                     f"| {cpu_per_gib:.3f} | {hashed} |")
    return "\n".join(lines)


def targets(rows: list[dict[str, Any]]) -> str:
    """The issue's targets, met or missed by how much, per size."""
    by = {(r["mib"], r["contestant"], r["phase"]): r for r in rows}
    lines = ["| MiB | target | measured (wall) | limit | met |", "|---|---|---|---|---|"]
    for mib in sorted({r["mib"] for r in rows}):
        def wall(label: str, phase: str, size: int = mib) -> float:
            return float(by[(size, label, phase)]["wall"])

        checks = [
            ("local raw upload x np.save", wall("cc raw local", "up") / wall("np.save / np.load", "up"), 1.25),
            ("local raw download x np.load", wall("cc raw local", "down") / wall("np.save / np.load", "down"), 1.25),
            ("encrypted round trip x plain",
             (wall("cc encrypted local (aes-gcm)", "up") + wall("cc encrypted local (aes-gcm)", "down"))
             / (wall("cc raw local", "up") + wall("cc raw local", "down")), 1.5),
        ]
        for name, value, limit in checks:
            met = "yes" if value <= limit else f"**no** (by {value / limit:.2f}x)"
            lines.append(f"| {mib} | {name} | {value:.2f} x | {limit:.2f} x | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="128,1024", help="array sizes in MiB, comma-separated (default 128,1024)")
    parser.add_argument("--reps", type=int, default=5, help="repetitions per contestant and phase (default 5)")
    parser.add_argument("--workdir", type=Path, default=HERE / ".env",
                        help="where the stores go (default benchmarks/.env, gitignored); removed afterwards")
    args = parser.parse_args(argv)
    rows = []
    for mib in (int(size) for size in args.sizes.split(",")):
        args.workdir.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix="local-cpu-", dir=args.workdir))
        try:
            rows += measure(mib, args.reps, root)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    print(f"float64 arrays, medians of {args.reps}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end\n")
    print(table(rows))
    print()
    print(targets(rows))
    print("\nwall s per repetition (for the noise):")
    for r in rows:
        print(f"- {r['mib']} MiB {r['contestant']} {r['phase']}: {' '.join(f'{w:.4f}' for w in r['walls'])}")


if __name__ == "__main__":
    main()
