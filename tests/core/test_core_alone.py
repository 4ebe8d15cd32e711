"""The core installed alone, without any other member: it imports, works on the local backend and
says what to install for the missing plugins. Builds a separate virtual environment with uv."""

import subprocess
from pathlib import Path

import pytest
from fresh_venv import fresh_venv

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import sys, tempfile
import numpy as np
import cc_core
from cc_core import get_encrypted_interface, get_interface
from cc_core.errors import UnknownComponentError
from cc_core.plugins import get_plugin_manager

records = get_plugin_manager().records
assert sorted(records) == ["core"], sorted(records)
cci = get_interface(tempfile.mkdtemp(), backend="local")
array = np.asfortranarray(np.arange(24.0).reshape(4, 6))
cci.upload_raw_array("a/b", array, compression="gzip")
restored = cci.download_raw_array("a/b")
assert restored.flags.f_contiguous and (restored == array).all()
for call, expected in [
    (lambda: get_interface("bucket", backend="s3"), "pip install 'cottoncandy[s3]'"),
    (lambda: cci.upload_raw_array("z", array, compression="zstd"), "Unknown transform 'zstd'"),
    (lambda: cci.upload_npy_array("n", array), "Unknown codec 'npy'"),
    # at construction, not at the first upload
    (lambda: get_encrypted_interface(tempfile.mkdtemp(), backend="local"), "pip install 'cottoncandy[crypto]'"),
]:
    try:
        call()
    except UnknownComponentError as exc:
        assert expected in str(exc), str(exc)
    else:
        raise AssertionError("no error for " + expected)
for heavy in ("boto3", "dask", "scipy", "numcodecs", "pydrive2"):
    assert heavy not in sys.modules, heavy
print("core alone: ok")
"""


@pytest.mark.slow
def test_core_alone_in_its_own_environment(tmp_path):
    uv, python, environment = fresh_venv(tmp_path)
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(python), str(ROOT / "cc_core")],
                   check=True, env=environment, timeout=600)
    result = subprocess.run([str(python), "-c", SCRIPT], capture_output=True, text=True, env=environment, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "core alone: ok" in result.stdout
    listing = subprocess.run([str(python.parent / "cottoncandy"), "plugins", "-v"], capture_output=True, text=True,
                             env=environment, timeout=300)
    assert listing.returncode == 0, listing.stderr
    assert "core" in listing.stdout and "backend:local" in listing.stdout
