"""The core's commands: plugins, config, demo."""

import json
import subprocess
import sys

from cc_core.cli import main


def test_plugins_listing(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "core" in out and "cottoncandy-core" in out and "2 backends" in out
    assert "broken (cc-broken-plugin 0.1.0): failed" in out and "error: ModuleNotFoundError" in out
    assert max(len(line) for line in out.splitlines()) <= 80, out
    assert main(["plugins", "-v"]) == 0
    detailed = capsys.readouterr().out
    assert "backend:local" in detailed and max(len(line) for line in detailed.splitlines()) <= 80, detailed
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


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exit:
        assert exit.code == 0
    out = capsys.readouterr().out
    assert out.startswith("cottoncandy ") and "cottoncandy-core 1.0.0.dev0" in out
