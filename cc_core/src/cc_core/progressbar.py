"""Progress bars for large transfers in interactive sessions, silence everywhere else.

A transfer given no progress object gets one from :func:`automatic_progress`: a tqdm bar that
appears once the transfer announces a size of at least ``[basic] progress_threshold`` bytes, when
the interface is verbose and the session is interactive. ``[basic] progress_bars`` decides what
interactive means:

- ``auto`` (default): a Jupyter/IPython kernel, or a terminal on stderr outside CI (``CI`` unset)
  and with a usable ``TERM``; scripts whose output goes to a file or a pipe stay quiet;
- ``always``: always (also forced with ``CC_BASIC_PROGRESS_BARS=always``);
- ``never``: never.

A caller that passes its own progress object (fsspec's ``set_size`` / ``relative_update``) gets
exactly that and no bar; ``progress=False`` means silence.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .errors import ConfigError
from .progress import NO_PROGRESS, Progress, announce

DEFAULT_THRESHOLD = 64 << 20
_MODES = ("auto", "always", "never")


def in_notebook() -> bool:
    """Whether we run inside a Jupyter/IPython kernel (a notebook, JupyterLab, qtconsole)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython() if hasattr(ipython, "get_ipython") else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def in_terminal() -> bool:
    """Whether stderr is a terminal a person watches (not CI, not a dumb terminal)."""
    if os.environ.get("CI") or os.environ.get("TERM") == "dumb":
        return False
    stream = sys.stderr
    return stream is not None and hasattr(stream, "isatty") and stream.isatty()


def bars_enabled(settings: Any) -> bool:
    """Whether progress bars may be shown, per ``[basic] progress_bars`` and the session."""
    mode = (settings.get("basic", "progress_bars", fallback="auto") or "auto").strip().lower() if settings else "auto"
    if mode not in _MODES:
        raise ConfigError(f"Setting [basic] progress_bars = {mode!r} must be one of: {', '.join(_MODES)}")
    if mode != "auto":
        return mode == "always"
    return in_notebook() or in_terminal()


def threshold(settings: Any) -> int:
    """Smallest transfer in bytes that gets a bar (``[basic] progress_threshold``)."""
    return settings.getint("basic", "progress_threshold", fallback=DEFAULT_THRESHOLD) if settings else DEFAULT_THRESHOLD


def _tqdm_class() -> Any:
    if in_notebook():
        try:
            import ipywidgets  # noqa: F401  (tqdm.notebook needs it; without it, a text bar)
            from tqdm.notebook import tqdm

            return tqdm
        except ImportError:
            pass
    from tqdm import tqdm

    return tqdm


class ProgressBar:
    """A progress object that shows a tqdm bar once the announced size reaches ``minimum``.

    When all announced bytes have moved the bar stays, showing the phase the transfer announces
    (:meth:`phase`: the final request, the checksum); :meth:`close` removes it and, after a
    transfer that succeeded, prints one line: what moved, its size, the time and the rate.

    Parameters
    ----------
    description : str
        Shown left of the bar, e.g. ``"upload data/x"``.
    minimum : int
        Transfers announcing fewer bytes show nothing.
    """

    def __init__(self, description: str, minimum: int = 0) -> None:
        self.description = description
        self.minimum = minimum
        self.bar: Any = None
        self._started = time.monotonic()
        self._lock = threading.Lock()

    def set_size(self, size: int) -> None:
        with self._lock:
            if self.bar is not None:
                self.bar.total = size
                self.bar.refresh()
            elif size >= self.minimum and size > 0:
                self._started = time.monotonic()
                self.bar = _tqdm_class()(total=size, desc=self.description, unit="B", unit_scale=True,
                                         unit_divisor=1024, dynamic_ncols=True, leave=False, file=sys.stderr)

    def relative_update(self, increment: int = 1) -> None:
        with self._lock:
            if self.bar is None:
                return
            self.bar.update(increment)
            if self.bar.total is not None and self.bar.n >= self.bar.total:
                self._show_phase("finishing")

    def phase(self, text: str) -> None:
        """Show what the transfer does now (e.g. ``"completing the upload"``) beside the bar."""
        with self._lock:
            self._show_phase(text)

    def _show_phase(self, text: str) -> None:
        if self.bar is not None:
            self.bar.set_description_str(f"{self.description}: {text}", refresh=True)

    def close(self, succeeded: bool = True) -> None:
        """Remove the bar; after a transfer that ``succeeded``, print its summary line."""
        with self._lock:
            if self.bar is None:
                return
            bar, self.bar = self.bar, None
            bar.close()
            if succeeded:
                seconds = max(time.monotonic() - self._started, 1e-6)
                size = bar.total if bar.total is not None else bar.n
                print(f"{self.description}: {_size(size)} in {seconds:.1f} s ({_size(size / seconds)}/s)",
                      file=sys.stderr, flush=True)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, kind: Any, *exc_info: Any) -> None:
        self.close(succeeded=kind is None)


def _size(count: float) -> str:
    """``count`` bytes as people read them: 500.0 MiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def automatic_progress(progress: Progress | bool | None, *, settings: Any, verbose: bool, description: str) -> Progress:
    """The progress object a transfer should report to.

    Parameters
    ----------
    progress : progress object, None or False
        The caller's: returned unchanged. ``False``: silence. ``None`` or the default
        ``NO_PROGRESS``: a :class:`ProgressBar` if bars are enabled and ``verbose``, else silence.
    settings : Config
        Read for ``[basic] progress_bars`` and ``progress_threshold``.
    verbose : bool
        The interface's ``verbose`` flag.
    description : str
        Label of the bar.
    """
    if progress is False:
        return NO_PROGRESS
    if progress is not None and progress is not NO_PROGRESS:
        return progress  # type: ignore[return-value]
    if not verbose or not bars_enabled(settings):
        return NO_PROGRESS
    return ProgressBar(description, threshold(settings))


@contextmanager
def progress_for(progress: Progress | bool | None, *, settings: Any, verbose: bool,
                 description: str) -> Iterator[Progress]:
    """:func:`automatic_progress` as a context: a bar it made is closed on exit, also on errors."""
    chosen = automatic_progress(progress, settings=settings, verbose=verbose, description=description)
    succeeded = False
    try:
        yield chosen
        succeeded = True
    finally:
        if isinstance(chosen, ProgressBar):
            chosen.close(succeeded)


class ShareOfTotal:
    """Reports one transfer of a batch as its ``weight`` bytes of the batch's progress.

    A folder transfer announces the total once (``set_size(sum of weights)``) and gives each file
    a share; whatever size the file's transfer announces (compressed, encrypted), its updates are
    scaled so that the finished file has added exactly ``weight`` to the batch.
    """

    def __init__(self, total: Progress, weight: int) -> None:
        self.total = total
        self.weight = weight
        self._size: int | None = None
        self._done = 0
        self._reported = 0
        self._lock = threading.Lock()

    def set_size(self, size: int) -> None:
        self._size = size

    def phase(self, text: str) -> None:
        announce(self.total, text)

    def relative_update(self, increment: int = 1) -> None:
        with self._lock:
            self._done += increment
            if not self._size:
                target = min(self._done, self.weight)
            else:
                target = min(self.weight, self._done * self.weight // self._size)
            step, self._reported = target - self._reported, target
        if step:
            self.total.relative_update(step)

    def finish(self) -> None:
        """Report what is left of the weight (a transfer that announced no size, or an empty one)."""
        with self._lock:
            step, self._reported = self.weight - self._reported, self.weight
        if step:
            self.total.relative_update(step)
