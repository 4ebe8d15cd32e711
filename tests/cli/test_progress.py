"""Progress: every transfer reports its full byte count on every backend; a tqdm bar appears only for
large transfers in interactive, verbose sessions."""

import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from cc_core.config import parse_size
from cc_core.progress import ByteCounter
from cc_core.progressbar import ProgressBar, ShareOfTotal, automatic_progress, bars_enabled, in_notebook

ARRAY = np.arange(50_000, dtype=np.float64).reshape(250, 200)


def stored_size(interface, name):
    return interface.get_object(name).size


def transfer(interface, call, *args, **kwargs):
    counter = ByteCounter()
    result = call(*args, progress=counter, **kwargs)
    return counter, result


@pytest.mark.parametrize("compression", [False, "gzip"])
def test_raw_arrays_report_every_byte(interface, compression):
    up, _ = transfer(interface, interface.upload_raw_array, "a", ARRAY, compression=compression)
    size = stored_size(interface, "a")
    assert up.size == up.transferred == size
    down, restored = transfer(interface, interface.download_raw_array, "a")
    assert down.size == down.transferred == size
    np.testing.assert_array_equal(restored, ARRAY)


def test_objects_files_json_pickle_report_every_byte(interface, tmp_path):
    body = bytes(range(256)) * 1000
    source = tmp_path / "file.bin"
    source.write_bytes(body)
    uploads = [
        ("obj", interface.upload_object, ("obj", body)),
        ("doc.json", interface.upload_json, ("doc.json", {"x": list(range(1000))})),
        ("p.pkl", interface.upload_pickle, ("p.pkl", list(range(1000)))),
        ("file", interface.upload_from_file, (source, "file")),
    ]
    for name, call, args in uploads:
        counter, _ = transfer(interface, call, *args)
        assert counter.transferred == counter.size == stored_size(interface, name)
    for call, name in [(interface.download_object, "obj"), (interface.download_json, "doc.json"),
                       (interface.download_pickle, "p.pkl")]:
        counter, _ = transfer(interface, call, name)
        assert counter.transferred == counter.size == stored_size(interface, name)
    counter, written = transfer(interface, interface.download_to_file, "file", tmp_path / "copy.bin")
    assert counter.transferred == counter.size == len(body) and Path(written).read_bytes() == body
    counter = ByteCounter()
    assert interface.download_stream("obj", progress=counter).content.read() == body
    assert counter.transferred == counter.size == len(body)


def test_npy_arrays_report_every_byte(interface):
    pytest.importorskip("cc_codec_npy")
    up, _ = transfer(interface, interface.upload_npy_array, "n.npy", ARRAY)
    down, restored = transfer(interface, interface.download_npy_array, "n.npy")
    assert up.transferred == up.size == down.transferred == down.size == stored_size(interface, "n.npy")
    np.testing.assert_array_equal(restored, ARRAY)


def test_folder_transfers_report_one_total(interface, tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    sizes = {"a": 1000, "sub/b": 5000, "sub/c": 0, "d": 70_000}
    for name, size in sizes.items():
        (folder / name).write_bytes(b"\x07" * size)
    interface.settings.set("pipeline", "transforms", "gzip")  # stored sizes differ from file sizes
    counter, uploaded = transfer(interface, interface.upload_from_directory, folder, "up", recursive=True)
    assert sorted(uploaded) == sorted(f"up/{name}" for name in sizes)
    assert counter.size == counter.transferred == sum(sizes.values())
    stored = sum(info.size for info in interface.get_objects("up/"))
    counter, written = transfer(interface, interface.download_directory, "up", tmp_path / "out")
    assert counter.size == counter.transferred == stored and len(written) == 4
    assert (tmp_path / "out" / "sub" / "b").read_bytes() == b"\x07" * 5000


def test_share_of_total_scales_to_the_weight():
    total = ByteCounter()
    share = ShareOfTotal(total, 1000)
    share.set_size(10)  # e.g. the compressed size
    for _ in range(10):
        share.relative_update(1)
    share.finish()
    assert total.transferred == 1000
    unsized = ShareOfTotal(total, 50)
    unsized.relative_update(20)
    unsized.finish()
    assert total.transferred == 1050


# -- the automatic bar ---------------------------------------------------------------------------
@pytest.fixture
def big(interface, monkeypatch):
    monkeypatch.setenv("CC_BASIC_PROGRESS_THRESHOLD", "64KB")
    return interface


def test_bar_for_large_transfers_when_forced(big, monkeypatch, capsys):
    monkeypatch.setenv("CC_BASIC_PROGRESS_BARS", "always")
    big.upload_raw_array("large", ARRAY)  # 400 KB
    np.testing.assert_array_equal(big.download_raw_array("large"), ARRAY)
    err = capsys.readouterr().err
    assert "upload large" in err and "download large" in err and "391k" in err.lower()
    big.upload_raw_array("small", ARRAY[:10])  # under the threshold
    big.download_raw_array("small")
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("mode", ["auto", "never"])
def test_quiet_in_scripts_and_when_switched_off(big, monkeypatch, capsys, mode):
    monkeypatch.setenv("CC_BASIC_PROGRESS_BARS", mode)  # auto: pytest's stderr is no terminal
    big.upload_raw_array("large", ARRAY)
    big.download_raw_array("large")
    assert capsys.readouterr().err == ""


def test_quiet_when_not_verbose_or_given_a_callback(big, monkeypatch, capsys):
    monkeypatch.setenv("CC_BASIC_PROGRESS_BARS", "always")
    big.verbose = False
    big.upload_raw_array("large", ARRAY)
    big.verbose = True
    counter = ByteCounter()
    big.download_raw_array("large", progress=counter)
    big.download_raw_array("large", progress=False)
    assert capsys.readouterr().err == "" and counter.transferred == ARRAY.nbytes


class _Terminal:
    """A stderr that says it is a terminal."""

    def __init__(self):
        self.text = []

    def isatty(self):
        return True

    def write(self, text):
        self.text.append(text)

    def flush(self):
        pass


def test_auto_shows_bars_in_a_terminal_but_not_in_ci(big, monkeypatch):
    monkeypatch.setenv("CC_BASIC_PROGRESS_BARS", "auto")
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("CI", raising=False)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert bars_enabled(big.settings)
    big.upload_raw_array("large", ARRAY)
    assert "upload large" in "".join(terminal.text)
    monkeypatch.setenv("CI", "true")
    assert not bars_enabled(big.settings)


def test_auto_shows_bars_in_a_notebook(big, monkeypatch):
    shell_class = type("ZMQInteractiveShell", (), {})
    fake_ipython = types.SimpleNamespace(get_ipython=lambda: shell_class())
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)
    monkeypatch.setenv("CC_BASIC_PROGRESS_BARS", "auto")
    assert in_notebook() and bars_enabled(big.settings)
    chosen = automatic_progress(None, settings=big.settings, verbose=True, description="x")
    assert isinstance(chosen, ProgressBar) and chosen.minimum == parse_size("64KB")
    fake_ipython.get_ipython = lambda: None  # a plain python session with IPython imported
    assert not in_notebook()


def test_bar_stays_for_the_last_phase_and_ends_with_a_summary(monkeypatch, capsys):
    bar = ProgressBar("job", minimum=10)
    bar.set_size(100)
    assert bar.bar is not None
    bar.relative_update(60)
    bar.relative_update(40)
    assert bar.bar is not None  # all bytes moved, the final request may still take long
    bar.phase("completing the upload")
    assert "job: completing the upload" in capsys.readouterr().err
    bar.close()
    assert bar.bar is None
    assert re.search(r"(^|\r)job: 100 B in \d+\.\d s \([\d.]+ [KMG]?i?B/s\)$", capsys.readouterr().err, re.MULTILINE)
    with pytest.raises(RuntimeError), ProgressBar("failing", minimum=0) as failing:
        failing.set_size(10)
        failing.relative_update(3)
        raise RuntimeError("network down")
    assert failing.bar is None and "failing: 10 B in" not in capsys.readouterr().err
    small = ProgressBar("small", minimum=1000)
    small.set_size(10)
    small.relative_update(10)
    small.close()
    assert small.bar is None and "small" not in capsys.readouterr().err


def test_bad_mode_is_a_config_error(interface, monkeypatch):
    monkeypatch.setenv("CC_BASIC_PROGRESS_BARS", "sometimes")
    with pytest.raises(ValueError, match="progress_bars"):
        interface.upload_object("x", b"1")
