"""benchmarks/local_cpu.py runs, and its hashed-bytes column says what the paths hash: one XXH3 pass
over a plain object each way, none over an encrypted one (AES-GCM authenticates it)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("cc_crypto")


def test_a_one_mib_run_prints_the_table_and_the_targets(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "local_cpu.py"), "--sizes", "1", "--reps", "1",
         "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = {(cells[1], cells[2]): cells for line in done.stdout.splitlines()
            if (cells := [c.strip() for c in line.strip("|").split("|")])[0] == "1" and len(cells) == 9}
    assert rows[("cc raw local", "up")][8] == rows[("cc raw local", "down")][8] == "1.00"
    assert rows[("cc encrypted local (aes-gcm)", "up")][8] == rows[("cc encrypted local (aes-gcm)", "down")][8] == "0.00"
    assert rows[("np.save / np.load", "up")][8] == "-"
    assert re.search(r"\| 1 \| encrypted round trip x plain \| [\d.]+ x \| 1.50 x \|", done.stdout)
    assert list(tmp_path.iterdir()) == []  # the stores are removed
