"""The README's "Writing a plugin" is enough to write a working backend plugin: its code blocks,
taken as they are, make a package that installs into a fresh environment (with the core alone),
is listed by ``cottoncandy plugins``, opens through ``get_interface`` and the CLI, and passes the
conformance kit. Builds a separate virtual environment with uv."""

import re
import subprocess
from pathlib import Path

import pytest
from fresh_venv import fresh_venv

ROOT = Path(__file__).resolve().parents[2]

USE = r"""
import numpy as np
import cc_core as cc

cci = cc.get_interface("mydict://bucket", verbose=False)
assert cci.backend_name == "mydict", cci.backend_name
cci.upload_raw_array("a/x", np.arange(10.0), compression="gzip")
assert (cci.download_raw_array("a/x") == np.arange(10.0)).all()
assert cci.ls("a") == ["a/x"]
assert cc.get_interface("bucket", backend="mydict", verbose=False).ls("") == ["a"]
print("plugin from the README: ok")
"""


def _write_plugin_from_readme(folder: Path) -> None:
    section = (ROOT / "README.md").read_text().split("## Writing a plugin", 1)[1].split("\n## ", 1)[0]
    files = {"toml": "pyproject.toml", "my_cc_plugin/plugin.py": "my_cc_plugin/plugin.py",
             "my_cc_plugin/backend.py": "my_cc_plugin/backend.py", "tests/test_backend.py": "tests/test_backend.py"}
    written = set()
    for language, code in re.findall(r"```(\w+)\n(.*?)```", section, re.S):
        first = code.splitlines()[0]
        key = "toml" if language == "toml" else next((k for k in files if k in first), None)
        if key:
            path = folder / files[key]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(code)
            written.add(key)
    assert written == set(files), f"the README lost a code block: found {sorted(written)}"
    (folder / "my_cc_plugin" / "__init__.py").write_text("")
    (folder / "tests" / "conftest.py").write_text('pytest_plugins = ["cc_core.testing.fixtures"]\n')


@pytest.mark.slow
def test_a_backend_plugin_written_from_the_readme_works(tmp_path):
    plugin = tmp_path / "my-cc-plugin"
    _write_plugin_from_readme(plugin)
    uv, python, environment = fresh_venv(tmp_path)
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(python), "-e", str(ROOT / "cc_core"), "-e",
                    str(plugin), "pytest"], check=True, env=environment, timeout=600)

    def run(*command: str, cwd: Path | None = None) -> str:
        result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=300, cwd=cwd)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Warning" not in result.stderr, result.stderr
        return result.stdout

    listing = run(str(python.parent / "cottoncandy"), "plugins", "-v")
    assert re.search(r"myplugin\s+my-cc-plugin\s+0\.1\.0\s+1 backend\s+ok", listing), listing
    assert "backend:mydict" in listing
    assert "plugin from the README: ok" in run(str(python), "-c", USE)
    run(str(python.parent / "cottoncandy"), "ls", "mydict://bucket/")
    kit = run(str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=plugin)
    assert re.search(r"\d+ passed", kit) and "failed" not in kit, kit
