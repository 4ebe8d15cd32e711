"""Warnings that point at the user's line: the first frame outside cottoncandy's packages.

Every warning the library emits goes through :func:`warn`. It walks the stack past cottoncandy's
own packages (and the thread and import machinery) to the caller's line, so a warning reads
``analysis.py:12: MasterKeyCreatedWarning`` rather than ``pipeline.py:285``. Work done on a
worker thread has no caller on its stack: the pools run it under :func:`with_caller`, which
carries the location captured on the thread that started the operation.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from contextvars import ContextVar
from types import FrameType
from typing import Any, NamedTuple, TypeVar

#: Top-level packages whose frames are never "the caller": cottoncandy's distributions, and the
#: machinery that calls into them (threads, imports, plugin hooks).
LIBRARY_PACKAGES = frozenset({"cottoncandy", "cc_core", "cc_backend_s3", "cc_backend_gdrive", "cc_codec_npy",
                              "cc_crypto"})
_MACHINERY = frozenset({"threading", "concurrent", "importlib", "pluggy", "contextlib", "runpy"})

Function = TypeVar("Function", bound=Callable[..., Any])


class Location(NamedTuple):
    filename: str
    lineno: int
    module_globals: dict[str, Any]


_started_at: ContextVar[Location | None] = ContextVar("cc_caller_location", default=None)


def _is_caller(frame: FrameType) -> bool:
    name = str(frame.f_globals.get("__name__", ""))
    spec = frame.f_globals.get("__spec__")
    if name == "__main__" and spec is not None:  # python -m cc_core.cli runs the library as __main__
        name = spec.name
    package = name.partition(".")[0]
    return package not in LIBRARY_PACKAGES and package not in _MACHINERY


def caller_location() -> Location | None:
    """Where the running cottoncandy operation was called from (None if nowhere is known)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if _is_caller(frame):
            return Location(frame.f_code.co_filename, frame.f_lineno, frame.f_globals)
        frame = frame.f_back
    return _started_at.get()


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Emit a warning attributed to the caller's line (see the module's docstring)."""
    location = caller_location()
    if location is None:
        warnings.warn(message, category, stacklevel=2)
        return
    module = str(location.module_globals.get("__name__", "")) or location.filename
    registry = location.module_globals.setdefault("__warningregistry__", {})
    # no module_globals: the source line is read from the file (an interactive __main__'s loader
    # raises when asked for its source)
    warnings.warn_explicit(message, category, location.filename, location.lineno, module=module, registry=registry)


def with_caller(function: Function) -> Function:
    """``function`` that, run on another thread, warns at the location of the caller of now."""
    location = caller_location()

    def run(*args: Any, **kwargs: Any) -> Any:
        token = _started_at.set(location)
        try:
            return function(*args, **kwargs)
        finally:
            _started_at.reset(token)

    return run  # type: ignore[return-value]
