"""The distributions as users install them: wheels built from this tree, installed with pip into fresh
virtual environments while the package index is reachable, as it is for every user.

What this guards: every distribution of ours has a name we own (``cottoncandy``, ``cottoncandy-*``),
so pip can never take a stranger's package of the same name from the index instead of ours (the
name ``cc-core`` on the index belongs to the Curious Containers project); each extra installs exactly
the plugins it promises; a third-party plugin's dependency on ``cottoncandy-core`` resolves to ours;
and ``pip install -U cottoncandy`` over cottoncandy 0.4.0 leaves no 0.4 module behind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"cottoncandy", "cottoncandy-core", "cottoncandy-npy", "cottoncandy-s3", "cottoncandy-gdrive",
        "cottoncandy-crypto"}
VERSION = "1.0.0.dev0"
PLUGINS_OF_EXTRA = {
    "": {"core", "npy"},
    "[s3]": {"core", "npy", "s3"},
    "[all]": {"core", "npy", "s3", "gdrive", "crypto"},
}
ROUND_TRIP = r"""
import tempfile, numpy as np, cottoncandy as cc
cci = cc.get_interface(tempfile.mkdtemp(), backend="local", verbose=False)
array = np.arange(12.0).reshape(3, 4)
cci.upload_raw_array("a/b", array, compression="zstd")
assert (cci.download_raw_array("a/b") == array).all()
print("round trip ok", cc.__version__)
"""

pytestmark = pytest.mark.slow


def _run(command: list[str], environment: dict[str, str], **options) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=1200, **options)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def environment(tmp_path_factory) -> dict[str, str]:
    config = tmp_path_factory.mktemp("config")
    environment = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return {**environment, "CC_CONFIG_DIR": str(config), "UV_PYTHON_DOWNLOADS": "never"}


@pytest.fixture(scope="module")
def dist(tmp_path_factory, environment) -> Path:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH (the README's commands install and use it)")
    folder = tmp_path_factory.mktemp("dist")
    _run([uv, "build", "--all-packages", "--wheel", "--quiet", "-o", str(folder)], environment, cwd=ROOT)
    wheels = sorted(path.name for path in folder.glob("*.whl"))
    assert {name.split("-")[0].replace("_", "-") for name in wheels} == OURS, wheels
    return folder


def _venv(path: Path, environment: dict[str, str]) -> Path:
    # the base interpreter, not this venv's: a user's fresh venv knows nothing of ours
    base = getattr(sys, "_base_executable", sys.executable)
    _run([base, "-m", "venv", str(path)], environment)
    return path / "bin"


def _installed(bin_folder: Path, environment: dict[str, str]) -> dict[str, str]:
    listing = _run([str(bin_folder / "python"), "-m", "pip", "list", "--format", "json"], environment)
    return {entry["name"].lower(): entry["version"] for entry in json.loads(listing.stdout)}


@pytest.mark.parametrize("extra", sorted(PLUGINS_OF_EXTRA))
def test_each_extra_installs_our_wheels_and_exactly_its_plugins(extra, dist, environment, tmp_path):
    bin_folder = _venv(tmp_path / "venv", environment)
    _run([str(bin_folder / "python"), "-m", "pip", "install", "--quiet", "--pre", "--find-links", str(dist),
          f"cottoncandy{extra}"], environment)
    installed = _installed(bin_folder, environment)
    ours = {name: version for name, version in installed.items() if name in OURS}
    assert ours == {name: VERSION for name in ours}, f"a distribution of ours came from elsewhere: {ours}"
    assert "cc-core" not in installed, "the Curious Containers cc-core was installed"
    listing = _run([str(bin_folder / "cottoncandy"), "plugins", "--json"], environment)
    records = {record["name"]: record for record in json.loads(listing.stdout)}
    assert set(records) == PLUGINS_OF_EXTRA[extra], records
    assert all(record["status"] == "ok" for record in records.values()), records
    assert "round trip ok" in _run([str(bin_folder / "python"), "-c", ROUND_TRIP], environment).stdout


def test_a_third_party_plugin_resolves_cottoncandy_core_to_ours(dist, environment, tmp_path):
    bin_folder = _venv(tmp_path / "venv", environment)
    _run([str(bin_folder / "python"), "-m", "pip", "install", "--quiet", "--pre", "--find-links", str(dist),
          str(ROOT / "tests" / "plugins" / "cc_example_plugin")], environment)
    installed = _installed(bin_folder, environment)
    assert installed.get("cottoncandy-core") == VERSION and "cc-core" not in installed, installed
    listing = _run([str(bin_folder / "cottoncandy"), "plugins", "--json"], environment)
    records = {record["name"]: record for record in json.loads(listing.stdout)}
    assert records["example"]["status"] == "ok" and records["example"]["distribution"] == "cc-example-plugin"


def test_upgrading_from_cottoncandy_04_leaves_no_04_module(dist, environment, tmp_path):
    bin_folder = _venv(tmp_path / "venv", environment)
    python = str(bin_folder / "python")
    _run([python, "-m", "pip", "install", "--quiet", "cottoncandy==0.4.0"], environment)
    _run([python, "-m", "pip", "install", "--quiet", "-U", "--pre", "--find-links", str(dist), "cottoncandy"],
         environment)
    assert _installed(bin_folder, environment)["cottoncandy"] == VERSION
    assert f"round trip ok {VERSION}" in _run([python, "-c", ROUND_TRIP], environment).stdout
    # every file in the cottoncandy package folder is one our wheel installed
    package = Path(_run([python, "-c", "import cottoncandy, os; print(os.path.dirname(cottoncandy.__file__))"],
                        environment).stdout.strip())
    record = next(package.parent.glob(f"cottoncandy-{VERSION}.dist-info")) / "RECORD"
    recorded = {line.split(",")[0] for line in record.read_text().splitlines()}
    leftovers = [str(path.relative_to(package.parent)) for path in package.rglob("*")
                 if path.is_file() and "__pycache__" not in path.parts
                 and str(path.relative_to(package.parent)) not in recorded]
    assert not leftovers, f"cottoncandy 0.4 files left behind: {leftovers}"
