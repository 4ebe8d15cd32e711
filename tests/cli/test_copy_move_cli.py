"""``cottoncandy cp``/``mv``/``rm`` on local paths, memory:// and s3:// (moto): nothing lost.

The command line copies through the same code as ``CCInterface.cp``/``mv`` (``cc_core.copying``);
these tests check what only the command line has: targets given as paths whose local roots differ,
``-r``, ``--force``, trailing ``/`` and copies between backends. See docs/RELIABILITY.md.
"""

import pytest

from cc_core.cli import main

RESULTS = ["results/r0", "results/r1", "results/sub/r2"]


def fail(capsys, *arguments):
    code = main([str(a) for a in arguments])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1, err
    return err


def ok(capsys, *arguments):
    assert main([str(a) for a in arguments]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def contents(cci):
    return {name: cci.download_object(name) for name in cci.glob("")}


@pytest.fixture
def results(interface):
    for name in RESULTS:
        interface.upload_object(name, name.encode())
    base = f"memory://{interface.bucket_name}/" if interface.backend_name == "memory" else interface.bucket_name + "/"
    return interface, base


@pytest.mark.parametrize("command", ["mv", "cp"])
def test_folder_into_its_own_subfolder_is_refused(results, capsys, command):
    """#13: on local paths the two targets even get different roots (store/ and store/results/)."""
    cci, base = results
    before = contents(cci)
    for destination in ("results/archive", "results/", "results/sub/deeper"):
        err = fail(capsys, command, "-r", base + "results", base + destination)
        assert "into itself" in err
    assert contents(cci) == before


def test_mv_of_a_folder_then_back(results, capsys):
    cci, base = results
    ok(capsys, "mv", "-r", base + "results", base + "moved")
    assert cci.glob("") == ["moved/r0", "moved/r1", "moved/sub/r2"]
    ok(capsys, "mv", "-r", base + "moved", base + "results")
    assert contents(cci) == {name: name.encode() for name in RESULTS}


def test_rm_r_of_nothing_is_still_an_error_on_the_command_line(results, capsys):
    """The interface warns (0.4's behaviour for cleanup code); a shell user mistyped a name."""
    _cci, base = results
    assert "gone" in fail(capsys, "rm", "-r", base + "gone")


@pytest.fixture
def s3_results(s3_interface, moto_endpoint, monkeypatch):
    monkeypatch.setenv("CC_LOGIN_ACCESS_KEY", ACCESS_KEY)
    monkeypatch.setenv("CC_LOGIN_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("CC_LOGIN_ENDPOINT_URL", moto_endpoint)
    for name in RESULTS:
        s3_interface.upload_object(name, name.encode())
    return s3_interface, f"s3://{s3_interface.bucket_name}/"


pytest.importorskip("cc_backend_s3")
pytest.importorskip("moto")
from s3.conftest import ACCESS_KEY, SECRET_KEY, moto_endpoint, s3_bucket, s3_client, s3_interface  # noqa: E402,F401


@pytest.mark.parametrize("command", ["mv", "cp"])
def test_folder_into_its_own_subfolder_is_refused_on_s3(s3_results, capsys, command):
    cci, base = s3_results
    before = contents(cci)
    assert "into itself" in fail(capsys, command, "-r", base + "results", base + "results/archive")
    assert contents(cci) == before


def test_mv_between_s3_and_local_folders(s3_results, local_interface, capsys):
    cci, base = s3_results
    local = local_interface.bucket_name + "/"
    ok(capsys, "mv", "-r", base + "results", local)
    assert cci.glob("") == []
    assert contents(local_interface) == {name: name.encode() for name in RESULTS}
    ok(capsys, "mv", "-r", local + "results", base + "back")
    assert contents(cci) == {name.replace("results/", "back/"): name.encode() for name in RESULTS}
    assert local_interface.glob("") == []
