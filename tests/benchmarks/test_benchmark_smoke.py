"""The benchmark script runs: its quick mode for this project's contestants and the floors.

No peer venv and no network: ``--no-peers`` keeps the run to the workspace venv and a moto server
on 127.0.0.1 that the script starts itself.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "run.py"

pytest.importorskip("moto.server")

#: a benchmark run in subprocesses: still in CI, left out by ``pytest -m "not slow"``
pytestmark = pytest.mark.slow


def test_quick_run_measures_every_contestant_of_ours(tmp_path):
    output, numbers = tmp_path / "results.md", tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--no-peers", "--output", str(output), "--json", str(numbers),
         "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = json.loads(numbers.read_text())
    ids = {row["id"] for row in rows}
    assert {"floor-boto3-s3", "floor-numpy-local", "cc-raw-s3", "cc-raw-local", "cc-npy-s3", "cc-dask-local",
            "cc-aes-local", "cc-zstd-s3"} <= ids
    assert not any(row["id"].startswith(("cc04", "zarr")) for row in rows)
    for row in rows:
        assert "failed" not in row, row
        if "skipped" in row:  # only a missing plugin may skip a contestant, and it says which
            assert row["skipped"]
            continue
        assert row["nbytes"] == 1 << 20
        for phase in ("upload", "download"):
            assert row[phase]["reps"] == 1 and row[phase]["wall"] > 0 and row[phase]["cpu"] >= 0
        assert row["stored"] >= row["nbytes"] * 0.5
    report = output.read_text()
    assert "| `cc-raw-s3` |" in report and "## Targets" in report and "<!-- notes -->" in report
    assert report.splitlines()[0] == "# Benchmark results"


def test_list_names_every_contestant():
    done = subprocess.run([sys.executable, str(SCRIPT), "--list"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0
    listed = [line.split()[0] for line in done.stdout.splitlines() if line.strip()]
    assert "cc-raw-s3" in listed and "zarr-zstd-local" in listed and "cc04-dask-s3" in listed


def test_a_run_on_the_https_stub_measures_and_counts_what_was_stored(tmp_path):
    numbers = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--server", "stub-https", "--only", "floor-boto3-s3,cc-raw-s3,cc-raw-signed-crc32-s3",
         "--sizes", "2", "--kinds", "float64", "--reps", "2", "--output", str(tmp_path / "results.md"),
         "--json", str(numbers), "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = json.loads(numbers.read_text())
    assert [row["id"] for row in rows] == ["floor-boto3-s3", "cc-raw-s3", "cc-raw-signed-crc32-s3"]
    for row in rows:
        assert row["upload"]["reps"] == 2 and row["stored"] >= row["nbytes"], row
    assert "S3 server: stub-https" in (tmp_path / "results.md").read_text()
