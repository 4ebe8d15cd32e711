"""The ``cottoncandy`` command line on the local and memory backends: every command, --json, exit
status and one-line errors, --help, progress bars, and real runs of the console script."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from cc_core.cli import build_parser, main

COMMANDS = ["ls", "glob", "info", "cat", "cp", "mv", "rm", "upload", "download", "du"]


def run(capsys, *arguments):
    code = main([str(a) for a in arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def fail(capsys, *arguments):
    """Run a command that must fail: status 1 and exactly one line on stderr."""
    code, out, err = run(capsys, *arguments)
    assert code == 1, (out, err)
    assert err.count("\n") == 1 and err.startswith(f"cottoncandy {arguments[0]}: "), err
    return err


@pytest.fixture
def store(interface):
    """A populated bucket and the URL-or-path prefix that names it on the command line."""
    interface.upload_raw_array("exp/sub01/run1.grp/data", np.arange(12.0).reshape(3, 4), compression="gzip")
    interface.upload_raw_array("exp/sub01/run2.grp/data", np.ones(5, np.int32))
    interface.upload_object("exp/notes.txt", b"hello\n", author="me")
    interface.upload_object("top", b"x" * 2048)
    base = f"memory://{interface.bucket_name}/" if interface.backend_name == "memory" else interface.bucket_name + "/"
    return interface, base


def test_ls(store, capsys):
    _cci, base = store
    assert run(capsys, "ls", base) == (0, f"{base}exp/\n{base}top\n", "")
    assert run(capsys, "ls", base + "exp")[1].splitlines() == [f"{base}exp/notes.txt", f"{base}exp/sub01/"]
    assert run(capsys, "ls", base + "exp/notes.txt")[1] == f"{base}exp/notes.txt\n"
    assert run(capsys, "ls", base + "exp/*/run?.grp")[1].splitlines() == [
        f"{base}exp/sub01/run1.grp/", f"{base}exp/sub01/run2.grp/"]
    assert run(capsys, "ls", "-r", base + "exp/sub01")[1].splitlines() == [
        f"{base}exp/sub01/run1.grp/data", f"{base}exp/sub01/run2.grp/data"]
    long = run(capsys, "ls", "-l", "--bytes", base)[1].splitlines()
    assert long[1].split()[0] == "2048" and long[1].endswith(f"{base}top")
    records = json.loads(run(capsys, "ls", "--json", base)[1])
    assert records[0] == {"name": f"{base}exp", "type": "folder", "size": None, "modified": None}
    assert records[1]["name"] == f"{base}top" and records[1]["type"] == "object" and records[1]["size"] == 2048
    assert "does-not-exist" in fail(capsys, "ls", base + "does-not-exist")


def test_glob(store, capsys):
    _cci, base = store
    assert run(capsys, "glob", base + "exp/**/data")[1].splitlines() == [
        f"{base}exp/sub01/run1.grp/data", f"{base}exp/sub01/run2.grp/data"]
    assert run(capsys, "glob", base + "exp/*") == (0, f"{base}exp/notes.txt\n", "")
    records = json.loads(run(capsys, "glob", "--json", base + "*")[1])
    assert records == [{"name": f"{base}top", "type": "object", "size": 2048, "modified": records[0]["modified"]}]
    assert run(capsys, "glob", base + "nothing*") == (0, "", "")
    assert run(capsys, "glob", "--strict", base + "nothing*")[0] == 1


def test_info(store, capsys):
    _cci, base = store
    code, out, _ = run(capsys, "info", base + "exp/sub01/run1.grp/data")
    assert code == 0
    assert "codec:       raw" in out and "transforms:  gzip" in out and "float64 (3, 4) order C, 96 B" in out
    record = json.loads(run(capsys, "info", "--json", base + "exp/sub01/run2.grp/data")[1])
    assert record["dtype"] == "int32" and record["shape"] == [5] and record["codec"] == "raw"
    assert record["transforms"] == [] and record["size"] == 20 and record["ratio"] == 1.0
    record = json.loads(run(capsys, "info", "--json", base + "exp/notes.txt")[1])
    assert record["codec"] is None and record["metadata"] == {"author": "me"} and "dtype" not in record
    record = json.loads(run(capsys, "info", "--json", base + "exp")[1])
    assert record["type"] == "folder" and record["objects"] == 3
    assert "missing" in fail(capsys, "info", base + "missing")


def test_cat(store, capsysbinary):
    _cci, base = store
    assert main(["cat", base + "exp/notes.txt", base + "exp/notes.txt"]) == 0
    assert capsysbinary.readouterr().out == b"hello\nhello\n"
    main(["cat", base + "exp/sub01/run1.grp/data"])  # decoded (gunzipped) bytes
    assert capsysbinary.readouterr().out == np.arange(12.0).tobytes()


def test_cp_and_mv(store, capsys):
    cci, base = store
    assert run(capsys, "cp", base + "top", base + "copy")[0] == 0
    assert cci.download_object("copy") == b"x" * 2048
    run(capsys, "cp", base + "top", base + "into/")
    assert cci.exists_object("into/top")
    err = fail(capsys, "cp", base + "top", base + "copy")
    assert "exists" in err and "--force" in err
    assert run(capsys, "cp", "--force", base + "exp/notes.txt", base + "copy")[0] == 0
    assert cci.download_object("copy") == b"hello\n"
    assert "-r" in fail(capsys, "cp", base + "exp", base + "backup")
    written = json.loads(run(capsys, "cp", "-r", "--json", base + "exp/sub01", base + "backup")[1])
    assert written == [f"{base}backup/run1.grp/data", f"{base}backup/run2.grp/data"]
    run(capsys, "cp", "-r", base + "exp/sub01", base + "backup")  # backup exists: copied into it
    np.testing.assert_array_equal(cci.download_raw_array("backup/sub01/run1.grp/data"), np.arange(12.0).reshape(3, 4))
    assert run(capsys, "mv", "-r", base + "backup", base + "moved")[0] == 0
    assert cci.glob("backup") == [] and len(cci.glob("moved/**")) == 4
    run(capsys, "mv", base + "copy", base + "renamed")
    assert not cci.exists_object("copy") and cci.download_object("renamed") == b"hello\n"


def test_cp_between_backends_keeps_bytes_and_metadata(local_interface, memory_interface, capsys):
    array = np.arange(1000, dtype=np.int64)
    memory_interface.upload_raw_array("arrays/a", array, compression="gzip", note="kept")
    source = f"memory://{memory_interface.bucket_name}/arrays"
    destination = f"file://{local_interface.bucket_name}/from-memory"  # a file:// URL: a local store
    assert run(capsys, "cp", "-r", source, destination)[0] == 0
    np.testing.assert_array_equal(local_interface.download_raw_array("from-memory/a"), array)
    assert local_interface.get_object("from-memory/a").metadata["note"] == "kept"
    assert local_interface.get_object("from-memory/a").size == memory_interface.get_object("arrays/a").size
    assert run(capsys, "mv", destination + "/a", f"memory://{memory_interface.bucket_name}/back")[0] == 0
    np.testing.assert_array_equal(memory_interface.download_raw_array("back"), array)
    assert not local_interface.exists_object("from-memory/a")


def _files_under(folder):
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def test_cp_to_a_plain_local_path_writes_what_download_writes(memory_interface, tmp_path, capsys):
    memory_interface.upload_raw_array("exp/run1/data", np.arange(6.0), compression="gzip")
    memory_interface.upload_object("exp/notes.txt", b"hello\n", author="me")
    source = f"memory://{memory_interface.bucket_name}/exp"
    assert run(capsys, "download", "-r", source, tmp_path / "downloaded")[0] == 0
    assert run(capsys, "cp", "-r", source, tmp_path / "copied")[0] == 0
    assert _files_under(tmp_path / "copied") == _files_under(tmp_path / "downloaded") == ["notes.txt", "run1/data"]
    for name in ("notes.txt", "run1/data"):  # decoded bytes, no .meta.json beside them
        assert (tmp_path / "copied" / name).read_bytes() == (tmp_path / "downloaded" / name).read_bytes()
    assert (tmp_path / "copied" / "run1" / "data").read_bytes() == np.arange(6.0).tobytes()
    assert "-f" in fail(capsys, "cp", source + "/notes.txt", tmp_path / "copied" / "notes.txt")  # cp's rule: no silent replace
    assert run(capsys, "cp", "-f", source + "/notes.txt", tmp_path / "copied" / "notes.txt")[0] == 0
    assert run(capsys, "cp", "-r", source, f"file://{tmp_path}/store")[0] == 0  # file:// keeps a store
    assert (tmp_path / "store" / "run1" / "data.meta.json").is_file()
    assert "separate commands" in fail(capsys, "cp", source + "/notes.txt", tmp_path / "copied" / "notes.txt",
                                       tmp_path / "elsewhere")


def test_mv_to_a_plain_local_path_refuses_to_drop_metadata(memory_interface, tmp_path, capsys):
    memory_interface.upload_raw_array("exp/a", np.arange(6.0))
    memory_interface.upload_object("exp/plain.bin", b"bytes")
    source = f"memory://{memory_interface.bucket_name}/exp"
    err = fail(capsys, "mv", "-r", source, tmp_path / "moved")
    assert "metadata" in err and "exp/a" in err and "file://" in err
    assert memory_interface.exists_object("exp/a") and not (tmp_path / "moved").exists()  # nothing written or removed
    assert run(capsys, "mv", source + "/plain.bin", tmp_path / "plain.bin")[0] == 0
    assert (tmp_path / "plain.bin").read_bytes() == b"bytes" and not memory_interface.exists_object("exp/plain.bin")
    assert run(capsys, "mv", "-r", source, f"file://{tmp_path}/store")[0] == 0  # a store keeps the metadata
    assert not memory_interface.exists_object("exp/a")


def test_rm(store, capsys):
    cci, base = store
    assert run(capsys, "rm", base + "top") == (0, "", "")
    assert not cci.exists_object("top")
    assert "-r" in fail(capsys, "rm", base + "exp/sub01")
    assert run(capsys, "rm", "-v", base + "exp/*.txt") == (0, f"removed {base}exp/notes.txt\n", "")
    removed = json.loads(run(capsys, "rm", "-r", "--json", base + "exp")[1])
    assert removed == [f"{base}exp/sub01/run1.grp/data", f"{base}exp/sub01/run2.grp/data"]
    assert cci.glob("") == []
    assert "gone" in fail(capsys, "rm", base + "gone")


def test_upload_and_download(interface, tmp_path, capsys):
    base = f"memory://{interface.bucket_name}/" if interface.backend_name == "memory" else interface.bucket_name + "/"
    folder = tmp_path / "data"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"A")
    (folder / "sub" / "b.bin").write_bytes(b"B" * 5000)
    assert run(capsys, "upload", folder / "a.txt", base + "single")[0] == 0
    assert interface.download_object("single") == b"A"
    run(capsys, "upload", folder / "a.txt", folder / "sub" / "b.bin", base + "several")
    assert interface.glob("several") == ["several/a.txt", "several/b.bin"]
    assert "-r" in fail(capsys, "upload", folder, base + "tree")
    uploaded = json.loads(run(capsys, "upload", "-r", "--json", folder, base + "tree")[1])
    assert uploaded == [f"{base}tree/a.txt", f"{base}tree/sub/b.bin"]
    run(capsys, "upload", "-r", folder, base + "tree")  # tree exists: the folder goes into it
    assert interface.exists_object("tree/data/sub/b.bin")
    assert "No such file" in fail(capsys, "upload", tmp_path / "missing", base + "x")

    out = tmp_path / "out"
    assert run(capsys, "download", base + "tree/a.txt", out / "a-copy.txt")[0] == 0
    assert (out / "a-copy.txt").read_bytes() == b"A"
    run(capsys, "download", base + "tree/sub/b.bin", out)  # an existing folder: into it
    assert (out / "b.bin").read_bytes() == b"B" * 5000
    assert "-r" in fail(capsys, "download", base + "tree", out / "tree")
    run(capsys, "download", "-r", base + "tree", out / "tree")
    assert (out / "tree" / "sub" / "b.bin").exists() and (out / "tree" / "data" / "a.txt").exists()
    written = json.loads(run(capsys, "download", "--json", base + "tree/**/*.bin", out / "bins")[1])
    assert sorted(os.path.relpath(p, out / "bins") for p in written) == ["data/sub/b.bin", "sub/b.bin"]
    assert "nothing-here" in fail(capsys, "download", base + "nothing-here", out)


def test_du(store, capsys):
    cci, base = store
    _code, out, _ = run(capsys, "du", "--bytes", base + "exp")
    sizes = {line.split()[1]: int(line.split()[0]) for line in out.splitlines()}
    total = sum(info.size for info in cci.get_objects("exp/"))
    assert sizes == {f"{base}exp/notes.txt": 6, f"{base}exp/sub01": total - 6, f"{base}exp": total}
    assert run(capsys, "du", "-s", base + "exp")[1].strip().endswith("(3 objects)")
    record = json.loads(run(capsys, "du", "--json", base)[1])
    assert record["objects"] == 4 and [c["name"] for c in record["children"]] == [f"{base}exp", f"{base}top"]
    assert "nope" in fail(capsys, "du", base + "nope")


def test_errors_are_one_line(memory_interface, local_interface, capsys):
    bucket = f"memory://{memory_interface.bucket_name}"
    assert "No installed backend serves nosuch:// URLs" in fail(capsys, "ls", "nosuch://bucket/x")
    assert "names no bucket" in fail(capsys, "cat", "memory://")
    assert "'no-such-bucket' does not exist" in fail(capsys, "ls", "memory://no-such-bucket/x")
    assert "three slashes" in fail(capsys, "ls", "file://host/x")
    assert "'..'" in fail(capsys, "info", bucket + "/a/../c")
    assert "is a whole bucket" in fail(capsys, "rm", "-r", bucket)
    assert "Nothing at " + bucket + "/missing" in fail(capsys, "cat", bucket + "/missing")
    assert "Nothing at" in fail(capsys, "info", local_interface.bucket_name + "/missing")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_everywhere(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: cottoncandy {command}") and "--json" in out and "s3://bucket/name" in out


def test_commands_are_listed_in_the_main_help():
    text = build_parser().format_help()
    assert all(command in text for command in COMMANDS) and "plugins" in text and "demo" in text


def test_large_transfers_show_bars(local_interface, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CC_BASIC_PROGRESS_BARS", "always")
    monkeypatch.setenv("CC_BASIC_PROGRESS_THRESHOLD", "100KB")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(300_000))
    destination = local_interface.bucket_name + "/"
    assert main(["upload", str(big), destination]) == 0
    assert "upload store/big.bin" in capsys.readouterr().err
    assert main(["download", destination + "big.bin", str(tmp_path / "back.bin")]) == 0
    assert "download big.bin" in capsys.readouterr().err
    assert (tmp_path / "back.bin").read_bytes() == big.read_bytes()
    main(["upload", "--no-progress", str(big), destination + "quiet"])
    (tmp_path / "small.bin").write_bytes(b"s" * 1000)
    main(["upload", str(tmp_path / "small.bin"), destination])
    assert capsys.readouterr().err == ""


def _console(*arguments, **kwargs):
    environment = {**os.environ, "CC_DISABLE_PLUGINS": "broken"}  # the test suite's deliberately broken plugin
    return subprocess.run([sys.executable, "-m", "cc_core.cli", *map(str, arguments)], capture_output=True,
                          text=True, timeout=120, env=environment, **kwargs)


def test_console_script_runs(local_interface, tmp_path):
    local_interface.upload_raw_array("exp/a", np.zeros((2, 2)))
    url = "file://" + local_interface.bucket_name
    result = _console("ls", "-r", url)
    assert result.returncode == 0 and result.stdout == f"{local_interface.bucket_name}/exp/a\n", result.stderr
    result = _console("info", "--json", url + "/exp/a")
    assert result.returncode == 0 and json.loads(result.stdout)["shape"] == [2, 2]
    result = _console("cat", url + "/exp/missing")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "exp/missing" in result.stderr
