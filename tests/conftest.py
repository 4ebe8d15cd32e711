"""Shared test setup: a private config directory for the whole run, the test-only plugins, and the
cottoncandy fixtures."""

import os
import sys
import tempfile
import tomllib
from pathlib import Path

# Before anything loads a config: tests never read or write the user's real config.
os.environ["CC_CONFIG_DIR"] = tempfile.mkdtemp(prefix="cc-test-config-")
for variable in [v for v in os.environ if v.startswith(("CC_LOGIN_", "CC_BASIC_", "CC_PIPELINE_", "CC_COMPRESSION_"))]:
    del os.environ[variable]


def _put_test_plugins_on_path() -> None:
    """Make the test-only plugins (tests/plugins/*) discoverable in this process and its children.

    They are not installed into the project's environment, so the README's commands never meet the
    deliberately broken one; instead each gets a ``*.dist-info`` with its entry points in a temporary
    folder on ``sys.path`` (as numcodecs' tests do), next to its ``src`` folder.
    """
    site = Path(tempfile.mkdtemp(prefix="cc-test-plugins-"))
    paths = [str(site)]
    for project in sorted((Path(__file__).parent / "plugins").glob("*/pyproject.toml")):
        spec = tomllib.loads(project.read_text())["project"]
        info = site / f"{spec['name'].replace('-', '_')}-{spec['version']}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {spec['name']}\nVersion: {spec['version']}\n")
        groups = spec.get("entry-points", {})
        (info / "entry_points.txt").write_text("".join(
            f"[{group}]\n" + "".join(f"{name} = {target}\n" for name, target in entries.items())
            for group, entries in groups.items()
        ))
        paths.append(str(project.parent / "src"))
    sys.path[:0] = paths
    os.environ["PYTHONPATH"] = os.pathsep.join(paths + [p for p in [os.environ.get("PYTHONPATH")] if p])


_put_test_plugins_on_path()

pytest_plugins = ["cc_core.testing.fixtures"]
