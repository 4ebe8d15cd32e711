"""What is wrong in a configuration, found before any work starts.

Every setting a cottoncandy installation knows is declared: the keys of the packaged
``defaults.cfg`` and those plugins declare through the ``cc_register_settings`` hook, each with
the kind of value it takes. :func:`find_problems` compares a :class:`~cc_core.config.Config`
against them and reports, with file and line, values that cannot work (``zstd_level = 99``,
``default_acl = privat``: errors) and names nothing reads (``[compresion]``, ``thraeds``,
``CC_PIPELINE_TRANSFORM``: typos, reported with the nearest known name).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config, parse_size

#: Environment variables of cottoncandy that are not ``CC_<SECTION>_<KEY>`` settings.
COMMAND_VARIABLES = ("CC_CONFIG_DIR", "CC_DISABLE_PLUGINS", "CC_LOAD_PLUGINS", "CC_DEBUG")
_TRUE_FALSE = ("1", "yes", "true", "on", "0", "no", "false", "off", "none")
KINDS = ("text", "bool", "int", "size", "float", "choice", "names")


@dataclass(frozen=True)
class SettingSpec:
    """One setting: where it lives and what values work.

    Attributes
    ----------
    section, key : str
        ``[section] key`` in ``options.cfg`` (``CC_SECTION_KEY`` in the environment).
    kind : str
        ``"text"`` (anything), ``"bool"``, ``"int"``, ``"size"`` (``8MB`` or a plain number),
        ``"float"``, ``"choice"`` (one of ``choices``) or ``"names"`` (comma-separated).
    choices : tuple of str
        The values a ``"choice"`` accepts (compared without regard to case).
    minimum, maximum : float, optional
        Bounds of a number.
    special : tuple of str
        Words accepted besides a number (``"auto"``).
    plugin : str
        The plugin that declared it.
    """

    section: str
    key: str
    kind: str = "text"
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    special: tuple[str, ...] = ()
    plugin: str = ""

    def problem_with(self, value: str) -> str | None:
        """Why ``value`` cannot work here, or None."""
        text = value.strip()
        if not text or self.kind == "text" or text.lower() in self.special:
            return None
        if self.kind == "bool":
            return None if text.lower() in _TRUE_FALSE else "is not true or false"
        if self.kind == "choice":
            if text.lower() in (choice.lower() for choice in self.choices):
                return None
            return f"is not one of {', '.join(self.choices)}{_nearest(text, self.choices)}"
        if self.kind == "names":
            return None
        try:
            parsers: dict[str, Callable[[str], float]] = {"int": int, "float": float, "size": parse_size}
            number = parsers[self.kind](text)
        except (ValueError, KeyError):
            words = " or ".join(("a size such as 8MB" if self.kind == "size" else f"a {self.kind} number",
                                 *self.special))
            return f"is not {words}"
        if (self.minimum is not None and number < self.minimum) or (self.maximum is not None and number > self.maximum):
            return f"is outside {_bounds(self.minimum, self.maximum)}"
        return None


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in a configuration: ``where`` (file and line, or the variable) and what."""

    where: str
    message: str
    is_error: bool

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class SettingSpecs:
    """The settings one installation knows: packaged defaults plus what plugins declared."""

    specs: dict[tuple[str, str], SettingSpec] = field(default_factory=dict)

    def add(self, spec: SettingSpec) -> None:
        if spec.kind not in KINDS:
            raise ValueError(f"Setting [{spec.section}] {spec.key}: "
                             f"kind {spec.kind!r} is not one of {', '.join(KINDS)}")
        self.specs[spec.section.lower(), spec.key.lower()] = spec

    def known(self, config: Config) -> dict[str, set[str]]:
        """Known keys by section: the packaged defaults' and the declared ones."""
        known: dict[str, set[str]] = {}
        for section, keys in config.default_keys().items():
            known.setdefault(section.lower(), set()).update(key.lower() for key in keys)
        for section, key in self.specs:
            known.setdefault(section, set()).add(key)
        return known


def find_problems(config: Config, specs: SettingSpecs) -> list[ConfigProblem]:
    """Everything wrong in ``config``: bad values (errors) and unknown names (typos), in file order."""
    known = specs.known(config)
    lines = _line_numbers(config.path)
    problems: list[ConfigProblem] = []
    for section in config.file_sections():
        where = _where(config.path, lines, section)
        if section.lower() not in known:
            problems.append(ConfigProblem(where, f"unknown section [{section}]{_nearest(section, known)}", False))
            continue
        known_keys = known[section.lower()]
        for key in config.file_keys(section):
            if key.lower() not in known_keys:
                problems.append(ConfigProblem(_where(config.path, lines, section, key),
                                              f"[{section}] has no setting {key!r}{_nearest(key, known_keys)}",
                                              False))
    for (section, key), spec in specs.specs.items():
        value = config.get(section, key)
        if value is None:
            continue
        reason = spec.problem_with(value)
        if reason:
            variable = _variable(section, key)
            where = variable if variable in os.environ else _where(config.path, lines, section, key)
            problems.append(ConfigProblem(where, f"[{section}] {key} = {value.strip()!r} {reason}", True))
    problems += _unknown_variables(known, os.environ)
    return problems


def _unknown_variables(known: Mapping[str, set[str]], environment: Mapping[str, str]) -> Iterator[ConfigProblem]:
    """``CC_<SECTION>_<KEY>`` variables whose section is known and whose key is not."""
    settings = {_variable(section, key) for section, keys in known.items() for key in keys}
    for variable in sorted(environment):
        if not variable.startswith("CC_") or variable in settings or variable in COMMAND_VARIABLES:
            continue
        section = next((s for s in sorted(known, key=len, reverse=True)
                        if variable.startswith(_variable(s, ""))), None)
        if section is not None:
            yield ConfigProblem(f"environment variable {variable}",
                                f"names no setting of [{section}]{_nearest(variable, settings)}", False)


def _variable(section: str, key: str) -> str:
    return f"CC_{section}_{key}".upper().replace("-", "_")


def _nearest(name: str, candidates: Iterable[str]) -> str:
    lowered = {candidate.lower(): candidate for candidate in candidates}
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean {lowered[match[0]]!r}?)" if match else ""


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"{minimum:g}..{maximum:g}"
    return f">= {minimum:g}" if minimum is not None else f"<= {maximum:g}"


_SECTION = re.compile(r"\s*\[([^\]]+)\]")
_KEY = re.compile(r"\s*([^=:#;\s][^=:]*?)\s*[=:]")


def _line_numbers(path: Path | None) -> dict[tuple[str, str], int]:
    """``{(section, key): line}`` of a config file (``key`` ``""`` for the section header)."""
    try:
        text = path.read_text(encoding="utf-8") if path else ""
    except (OSError, UnicodeDecodeError):
        return {}
    found: dict[tuple[str, str], int] = {}
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _SECTION.match(line)
        if header:
            section = header.group(1).strip().lower()
            found.setdefault((section, ""), number)
        elif section and not line[:1].isspace() and (key := _KEY.match(line)):
            found.setdefault((section, key.group(1).lower()), number)
    return found


def _where(path: Path | None, lines: Mapping[tuple[str, str], int], section: str, key: str = "") -> str:
    line = lines.get((section.lower(), key.lower()))
    if path is None or line is None:
        return f"[{section}]" + (f" {key}" if key else "")
    return f"{path}, line {line}"


def describe(problems: Iterable[ConfigProblem]) -> str:
    """One message for several problems."""
    return "; ".join(str(problem) for problem in problems)


__all__ = ["COMMAND_VARIABLES", "ConfigProblem", "SettingSpec", "SettingSpecs", "describe", "find_problems"]
