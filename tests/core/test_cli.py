"""The core's commands: plugins, config, demo."""

import json
import subprocess
import sys

from cc_core.cli import main


def test_plugins_listing(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "core" in out and "cottoncandy-core" in out and "backend:local" in out
    assert "failed: ModuleNotFoundError" in out
    assert main(["plugins", "--json"]) == 0
    records = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert records["example"]["status"] == "ok" and records["broken"]["status"] == "failed"


def test_config_listing(capsys, cc_config_dir):
    assert main(["config", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["path"] == str(cc_config_dir / "options.cfg")
    assert shown["settings"]["basic"]["default_acl"] == "private"


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "plugins" in capsys.readouterr().out


def test_demo_runs_as_a_console_script(tmp_path):
    result = subprocess.run([sys.executable, "-m", "cc_core.cli", "demo", str(tmp_path / "store"), "--size-mb", "2"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "demo: all arrays came back identical" in result.stdout
    assert (tmp_path / "store" / "arrays" / "float64_random.meta.json").exists()
