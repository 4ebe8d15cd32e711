"""The browser as a person meets it: ``python -i`` in a pseudo-terminal, readline completion on TAB.

The test reads back what the terminal echoes after TAB, which is exactly what completion inserted.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import numpy as np
import pytest

import cottoncandy as cc

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminals as on Linux")


class Terminal:
    """An interactive Python in a pseudo-terminal, typed into and read back."""

    def __init__(self, environment: dict[str, str]) -> None:
        master, slave = pty.openpty()
        self.master = master
        self.process = subprocess.Popen([sys.executable, "-i", "-q"], stdin=slave, stdout=slave, stderr=slave,
                                        env=environment, close_fds=True)
        os.close(slave)
        self.read_until(">>> ")

    def read_until(self, marker: str, timeout: float = 30.0) -> str:
        received = ""
        deadline = time.monotonic() + timeout
        while marker not in received:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {marker!r} within {timeout} s; the terminal showed:\n{received}")
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                received += os.read(self.master, 65536).decode(errors="replace")
        return received

    def run(self, line: str) -> str:
        os.write(self.master, (line + "\n").encode())
        return self.read_until(">>> ")

    def complete(self, text: str) -> str:
        """Type ``text`` and TAB; return the line as the terminal then shows it."""
        os.write(self.master, text.encode())
        self.read_until(text)  # all of it echoed: a late echo must not read as the completion
        os.write(self.master, b"\t")
        time.sleep(0.5)  # readline inserts the completion, or rings the bell when there is none
        shown = ""
        while select.select([self.master], [], [], 0.3)[0]:
            shown += os.read(self.master, 65536).decode(errors="replace")
        return text + shown

    def close(self) -> None:
        os.write(self.master, b"\x15exit()\n")  # ctrl-U clears the line first
        self.process.wait(timeout=30)
        os.close(self.master)


@pytest.fixture
def terminal(tmp_path, cc_config_dir):
    store = tmp_path / "store"
    interface = cc.get_interface(str(store), backend="local", force_bucket_creation=True, verbose=False)
    interface.upload_raw_array("exp/sub01_analysis.grp/bold", np.arange(6.0).reshape(2, 3))
    interface.upload_raw_array("exp/plain/weights", np.ones(4))
    environment = {**os.environ, "TERM": "xterm", "CC_CONFIG_DIR": str(cc_config_dir)}
    environment.pop("PYTHONSTARTUP", None)
    session = Terminal(environment)
    session.run("import cottoncandy as cc")
    session.run(f"b = cc.get_browser({str(store)!r}, backend='local')")
    yield session
    session.close()


def test_tab_completes_folders_and_groups_as_attributes(terminal):
    assert terminal.complete("b.ex").endswith("b.exp")
    terminal.run("")
    line = terminal.complete("b.exp.sub")
    assert line.endswith("b.exp.sub01_analysis_DOT_grp"), line
    assert "(" not in line
    shown = terminal.run("")
    assert "<cottoncandy-group" in shown and "sub01_analysis.grp: 1 keys" in shown
    assert terminal.complete("b.exp.pl").endswith("b.exp.plain")
    terminal.run("")


def test_completing_into_a_group_and_loading_shows_no_traceback(terminal):
    shown = terminal.run("b.exp.sub01_analysis_DOT_grp.load('bold').sum()")
    assert "15.0" in shown and "Traceback" not in shown
    shown = terminal.run("b.exp.sub01_analysis_DOT_grp.bold.shape")
    assert "(2, 3)" in shown and "Traceback" not in shown
