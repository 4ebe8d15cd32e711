"""A fresh virtual environment made with uv, as a user's would be: none of this project's
environment variables, none of the test-only plugins on its path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def fresh_venv(folder: Path) -> tuple[str, Path, dict[str, str]]:
    """``(uv, python, environment)`` of a new venv in ``folder / "venv"``; skips the test without uv."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH (the README's commands install and use it)")
    environment = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "CC_CONFIG_DIR": str(folder / "config")}
    environment.pop("VIRTUAL_ENV", None)
    environment.pop("PYTHONPATH", None)  # the test-only plugins stay out of this environment
    venv = folder / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, env=environment,
                   timeout=300)
    return uv, venv / "bin" / "python", environment
