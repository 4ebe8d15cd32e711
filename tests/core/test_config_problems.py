"""Config problems are reported once, with file, line and the nearest valid name, before any work
starts; `cottoncandy config` runs on a broken file and shows what is wrong."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.cli import main
from cc_core.config import load_config
from cc_core.errors import ConfigError
from cc_core.plugins import get_plugin_manager


def write(cc_config_dir, content: bytes | str):
    path = cc_config_dir / "options.cfg"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("content, expected", [
    ("[basic\nthreads = 4\n", r"line 1: the section header '\[basic' lacks its closing '\]'"),
    ("[basic]\nthreads 4\n", r"line 2: cannot parse 'threads 4': settings are written 'key = value'"),
    ("[basic]\nthreads = 4\n[basic]\nthreads = 5\n", r"line 3: section \[basic\] a second time"),
    ("[basic]\nthreads = 4\nthreads = 5\n", r"line 3: section \[basic\] has key 'threads' a second time"),
    (b"[basic]\nthreads = 4\ndefault_acl = priv\xe9\n", r"line 3: byte 0xe9 is not UTF-8 text"),
])
def test_unreadable_files_name_file_and_line(cc_config_dir, content, expected):
    path = write(cc_config_dir, content)
    with pytest.raises(ConfigError, match=str(path).replace(".", r"\.") + ", " + expected):
        load_config()


@pytest.mark.parametrize("content, expected", [
    ("[compression]\nzstd_level = 99\n", r"options.cfg, line 2: \[compression\] zstd_level = '99' is outside -131072..22"),
    ("[basic]\ndefault_acl = privat\n", r"line 2: \[basic\] default_acl = 'privat' is not one of private, .*did you mean 'private'"),
    ("[basic]\nthreads = many\n", r"\[basic\] threads = 'many' is not a int number"),
    ("[upload_settings]\nmpu_use_threshold = sometimes\n", r"is not a size such as 8MB or auto"),
    ("[basic]\nprogress_bars = allways\n", r"not one of auto, always, never \(did you mean 'always'\?\)"),
])
def test_bad_values_fail_before_any_work(cc_config_dir, tmp_path, content, expected):
    write(cc_config_dir, content)
    with pytest.raises(ConfigError, match=expected):
        cc.get_interface(str(tmp_path / "store"), backend="local", force_bucket_creation=True, verbose=False)
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").iterdir())


def test_a_bad_value_in_the_environment_names_the_variable(cc_config_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("CC_COMPRESSION_ZSTD_LEVEL", "99")
    with pytest.raises(ConfigError, match="CC_COMPRESSION_ZSTD_LEVEL: .*outside"):
        cc.get_interface(str(tmp_path), backend="local", verbose=False)


def test_typos_warn_once_with_the_nearest_name(cc_config_dir, tmp_path, monkeypatch):
    write(cc_config_dir, "[compresion]\ndo_compression = True\n[basic]\nthraeds = 2\n")
    monkeypatch.setenv("CC_PIPELINE_TRANSFORM", "zstd")
    with pytest.warns(UserWarning) as caught:
        cci = cc.get_interface(str(tmp_path), backend="local", verbose=False)
    messages = [str(w.message) for w in caught]
    assert any("line 1: unknown section [compresion] (did you mean 'compression'?)" in m for m in messages), messages
    assert any("line 4: [basic] has no setting 'thraeds' (did you mean 'threads'?)" in m for m in messages), messages
    assert any("CC_PIPELINE_TRANSFORM: names no setting of [pipeline] (did you mean 'CC_PIPELINE_TRANSFORMS'?)" in m
               for m in messages), messages
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reported once: a second interface says nothing
        cc.get_interface(str(tmp_path), backend="local", verbose=False)
    cci.upload_raw_array("still/works", np.arange(3))


def test_settings_of_every_installed_plugin_are_known(cc_config_dir):
    from cc_core.config import packaged_defaults

    additions = {"[gdrive]": "trash = True", "[s3]": "max_attempts = 3\nretry_base_delay = 0.5",
                 "[encryption]": "method = AES\nkey = False\nscrypt_log_n = 15"}  # the last two: 0.3's
    content = packaged_defaults()
    for header, lines in additions.items():
        assert header + "\n" in content
        content = content.replace(header + "\n", f"{header}\n{lines}\n")
    write(cc_config_dir, content)
    assert get_plugin_manager().config_problems(load_config()) == []


def test_config_command_runs_on_a_broken_file(cc_config_dir, capsys):
    write(cc_config_dir, "[basic\nthreads = 4\n")
    assert main(["config"]) == 1
    out = capsys.readouterr().out
    assert "# problem:" in out and "lacks its closing ']'" in out and "[basic]" in out
    write(cc_config_dir, "[basic]\nthraeds = 4\n")
    assert main(["config", "--json"]) == 0  # a typo is a warning, not an error
    shown = json.loads(capsys.readouterr().out)
    assert any("did you mean 'threads'" in problem for problem in shown["problems"])


def test_config_command_shows_the_plugin_switches(cc_config_dir, monkeypatch, capsys):
    monkeypatch.setenv("CC_DISABLE_PLUGINS", "example")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "disable = example  # from CC_DISABLE_PLUGINS" in out
    assert "# plugins: " in out and "core ok" in out


def test_every_command_reports_a_broken_file_in_one_line(cc_config_dir, tmp_path):
    write(cc_config_dir, "[basic\n")
    for command in (["ls", str(tmp_path)], ["plugins"], ["config"]):
        result = subprocess.run([sys.executable, "-m", "cc_core.cli", *command], capture_output=True, text=True,
                                env={**__import__("os").environ, "CC_CONFIG_DIR": str(cc_config_dir),
                                     "CC_DISABLE_PLUGINS": "broken"})
        assert "Traceback" not in result.stderr, (command, result.stderr)
        if command[0] == "ls":
            assert result.returncode == 1 and result.stderr.count("\n") == 1 and "closing ']'" in result.stderr


def test_a_config_file_written_by_04_has_no_problems(cc_config_dir):
    """A lab's options.cfg from cottoncandy 0.4 (and 0.3's [encryption]) reads without a warning."""
    from core.test_compat04_api import CC04_DEFAULTS

    write(cc_config_dir, CC04_DEFAULTS + "\n[encryption]\nmethod = AES\nkey = False\n")
    assert [str(p) for p in get_plugin_manager().config_problems(load_config())] == []
