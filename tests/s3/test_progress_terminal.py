"""Progress and warnings as a person sees them in a terminal (issue #16), on moto.

A script and the CLI run in a pseudo-terminal; the tests read back what the terminal shows. A
large upload shows every phase after the body is sent (completing the multipart upload, the
self-copy that records a streamed upload's checksum) and ends with one summary line; warnings
point at the script's own lines, also those emitted on worker threads.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import textwrap
import time

import pytest

from .conftest import ACCESS_KEY, SECRET_KEY, SMALL_PART

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminals as on Linux")


def in_terminal(command: list[str], environment: dict[str, str], timeout: float = 120) -> str:
    """Run ``command`` with a pseudo-terminal as its stdin, stdout and stderr; what it showed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # 24 rows, 120 columns
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=environment, close_fds=True)
    os.close(slave)
    shown = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    block = os.read(master, 65536)
                except OSError:  # the other side closed: the process ended
                    break
                if not block:
                    break
                shown += block
            elif process.poll() is not None:
                break
        process.wait(timeout=10)
    finally:
        os.close(master)
    return shown.decode(errors="replace")


@pytest.fixture
def environment(cc_config_dir, moto_endpoint):
    variables = {**os.environ, "TERM": "xterm", "CC_CONFIG_DIR": str(cc_config_dir),
                 "CC_BASIC_PROGRESS_THRESHOLD": str(1 << 20), "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                 "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": "us-east-1",
                 "COLUMNS": "120"}
    for name in ("CI", "PYTHONSTARTUP", "PYTHONWARNINGS"):
        variables.pop(name, None)
    return variables


def script(tmp_path, text: str) -> str:
    path = tmp_path / "analysis.py"
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_a_large_upload_shows_every_phase_and_a_summary(tmp_path, environment, moto_endpoint, s3_bucket):
    data = tmp_path / "big.bin"
    data.write_bytes(os.urandom(3 << 20))
    path = script(tmp_path, f"""
        import cottoncandy as cc
        cci = cc.get_interface({s3_bucket!r}, endpoint_url={moto_endpoint!r}, multipart_threshold={1 << 20},
                               part_size={SMALL_PART * 4}, min_part_size={SMALL_PART})
        cci.upload_from_file({str(data)!r}, "big.bin")
        print("DONE")
    """)
    shown = in_terminal([sys.executable, path], environment)
    assert "DONE" in shown, repr(shown)
    assert "upload big.bin: completing the upload" in shown, shown
    assert "upload big.bin: recording the checksum (server-side copy)" in shown, shown
    summary = re.search(r"upload big\.bin: 3\.0 MiB in \d+\.\d s \([\d.]+ [KMG]?i?B/s\)", shown)
    assert summary, shown
    assert summary.start() > shown.rindex("recording the checksum"), "the summary comes last"


def test_the_cli_upload_shows_the_phases_and_a_summary(tmp_path, environment, moto_endpoint, s3_bucket):
    data = tmp_path / "run.bin"
    data.write_bytes(os.urandom(2 << 20))
    environment = {**environment, "CC_S3_MULTIPART_THRESHOLD": str(1 << 20)}
    shown = in_terminal([sys.executable, "-m", "cc_core.cli", "upload", "--endpoint-url", moto_endpoint, str(data),
                         f"s3://{s3_bucket}/run.bin"], environment)
    assert re.search(r"upload run\.bin: 2\.0 MiB in \d+\.\d s", shown), shown


def test_warnings_point_at_the_callers_line(tmp_path, environment, cc_config_dir):
    store = tmp_path / "store"
    path = script(tmp_path, f"""
        import numpy as np
        import cottoncandy as cc
        cci = cc.get_interface({str(store)!r}, backend="local", force_bucket_creation=True, verbose=False)
        cci.upload_raw_array("grp/a", np.ones(3))
        cci.upload_json("grp/b", {{"not": "an array"}})
        arrays = cci.cloud2dict("grp", threads=2)
        cci.get_bucket_objects()
        encrypted = cc.get_encrypted_interface({str(store)!r}, backend="local")
        encrypted.upload_raw_array("secret", np.ones(3))
        print("DONE")
    """)
    shown = in_terminal([sys.executable, path], environment)
    assert "DONE" in shown, shown
    lines = [line for line in shown.splitlines() if "Warning:" in line]
    assert any(line.startswith(f"{path}:7: UserWarning: Could not download 'grp/b'") for line in lines), shown
    assert any(line.startswith(f"{path}:8: DeprecationWarning") for line in lines) or "DeprecationWarning" not in shown
    assert any(line.startswith(f"{path}:10: MasterKeyCreatedWarning") for line in lines), shown
    assert not re.search(r"(pipeline|thread|keys|group)\.py:\d+:", shown), shown
