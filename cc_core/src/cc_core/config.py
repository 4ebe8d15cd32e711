"""The configuration file and its environment overrides.

The file is ``options.cfg`` in the user config directory (platformdirs; ``CC_CONFIG_DIR``
overrides the directory, which tests use so they never touch a real user's config). It is created
on first use from the packaged ``defaults.cfg``, with mode 0600 because it can hold credentials.
Settings missing from an older file fall back to the packaged defaults.

Any setting can be overridden by an environment variable ``CC_<SECTION>_<KEY>`` in upper case,
e.g. ``CC_BASIC_DEFAULT_ACL=private`` or ``CC_PIPELINE_TRANSFORMS=zstd``.
"""

from __future__ import annotations

import ast
import configparser
import os
import stat
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import platformdirs

from .caller import warn
from .errors import ConfigError

CONFIG_FILE_NAME = "options.cfg"
CONFIG_DIR_VARIABLE = "CC_CONFIG_DIR"
_SECRET_WORDS = ("secret", "password", "passphrase", "token", "access_key", "master_key", "private")
# Settings secret by their section, whose key name alone says nothing: cottoncandy 0.3's AES key.
_SECRET_SETTINGS = {("encryption", "key")}
REDACTED = "********"


def config_dir() -> Path:
    """The directory of cottoncandy's config and key files."""
    override = os.environ.get(CONFIG_DIR_VARIABLE)
    return Path(override).expanduser() if override else Path(platformdirs.user_config_dir("cottoncandy"))


def is_secret(key: str, section: str = "") -> bool:
    """Whether a setting's value must never be shown.

    Parameters
    ----------
    key : str
        The setting's (or option's) name.
    section : str
        The config section it is in, when it is a setting (``[encryption] key`` is secret).
    """
    return (section.lower(), key.lower()) in _SECRET_SETTINGS or any(word in key.lower() for word in _SECRET_WORDS)


def create_private_file(path: Path, content: bytes) -> bool:
    """Create ``path`` with mode 0600 holding ``content``; never overwrite. True if created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
    return True


def warn_if_exposed(path: Path) -> None:
    """Warn when a file that may hold secrets is readable by other users."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        warn(
            f"{path} is readable by other users but may hold secrets; run: chmod 600 {path}",
            UserWarning,
        )


class Config:
    """Effective settings: packaged defaults, then the user's file, then the environment."""

    def __init__(self, parser: configparser.ConfigParser, path: Path | None,
                 file_parser: configparser.ConfigParser | None = None) -> None:
        self._parser = parser
        self._file = file_parser
        self.path = path
        self._chosen: set[tuple[str, str]] = set()  # (section, key) given to set()

    def _environment_value(self, section: str, key: str) -> str | None:
        return os.environ.get(f"CC_{section}_{key}".upper().replace("-", "_"))

    def get(self, section: str, key: str, fallback: str | None = None) -> str | None:
        value = self._environment_value(section, key)
        if value is not None:
            return value
        return self._parser.get(section, key, fallback=fallback)

    def is_set(self, section: str, key: str) -> bool:
        """Whether the user chose this setting (environment, file or :meth:`set`), rather than
        it coming from the packaged defaults only."""
        return (self._environment_value(section, key) is not None or (section, key.lower()) in self._chosen
                or (self._file is not None and self._file.has_option(section, key)))

    def _parsed(self, section: str, key: str, fallback: Any, parse: Callable[[str], Any], what: str) -> Any:
        """The setting through ``parse`` (``fallback`` when unset or empty); a ValueError from
        ``parse`` becomes a ConfigError that names the setting, the file and ``what`` was expected."""
        value = self.get(section, key)
        if value is None or value.strip() == "":
            return fallback
        try:
            return parse(value.strip())
        except ValueError:
            raise ConfigError(f"Setting [{section}] {key} = {value!r} in {self.path} is not {what}") from None

    def getboolean(self, section: str, key: str, fallback: bool = False) -> bool:
        return bool(self._parsed(section, key, fallback, _boolean, "true or false"))

    def getint(self, section: str, key: str, fallback: Any = 0) -> Any:
        """A whole number (``fallback`` when unset or empty)."""
        return self._parsed(section, key, fallback, parse_size, "a whole number")

    def getfloat(self, section: str, key: str, fallback: Any = None) -> Any:
        """A number such as ``0.5`` (``fallback`` when unset or empty).

        Raises
        ------
        ConfigError
            The value is not a number; the message names the setting and the file.
        """
        return self._parsed(section, key, fallback, float, "a number")

    def getsize(self, section: str, key: str, fallback: Any = None, *, unit: int = 1) -> Any:
        """A size in bytes (``fallback`` when unset or empty).

        Parameters
        ----------
        section, key : str
            The setting.
        fallback : optional
            What an unset or empty setting gives.
        unit : int
            What a plain number counts: 1 (bytes) for the keys of cottoncandy 1.0, ``1 << 20``
            (MB) for cottoncandy 0.4's keys such as ``[upload_settings] mpu_chunksize``. A number
            with a unit (``512KB``, ``8MB``, ``1.5GiB``; binary, KB = 1024) is exact either way.
            Each setting's meaning is listed in the README's settings table.

        Raises
        ------
        ConfigError
            The value is not a size; the message names the setting and the file.
        """
        def size(text: str) -> int:
            try:
                return int(float(text) * unit)
            except ValueError:
                return parse_size(text)

        return self._parsed(section, key, fallback, size, "a size such as 8MB")

    def section(self, name: str) -> dict[str, str]:
        keys = dict(self._parser.items(name)) if self._parser.has_section(name) else {}
        return {key: self.get(name, key) or "" for key in keys}

    def sections(self) -> list[str]:
        return self._parser.sections()

    def file_sections(self) -> list[str]:
        """The sections written in the file (not the packaged defaults)."""
        return self._file.sections() if self._file is not None else []

    def file_keys(self, section: str) -> list[str]:
        """The keys of ``section`` written in the file."""
        if self._file is None or not self._file.has_section(section):
            return []
        return list(self._file[section])

    @staticmethod
    def default_keys() -> dict[str, list[str]]:
        """The packaged defaults' keys by section: every setting the core knows."""
        return {name: list(keys) for name, keys in _defaults_parser().items() if name != configparser.DEFAULTSECT}

    def set(self, section: str, key: str, value: str) -> None:
        """Change a setting for this process (not written to the file)."""
        if not self._parser.has_section(section):
            self._parser.add_section(section)
        self._parser.set(section, key, value)
        self._chosen.add((section, key.lower()))

    def as_dict(self, *, redact: bool = True) -> dict[str, dict[str, str]]:
        """All effective settings; secrets replaced by asterisks unless ``redact=False``."""
        result = {}
        for name in self.sections():
            values = self.section(name)
            if redact:
                values = {k: (REDACTED if v and is_secret(k, name) else v) for k, v in values.items()}
            result[name] = values
        return result

    def __repr__(self) -> str:
        return f"<cottoncandy Config from {self.path}>"


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "yes", "true", "on"):
        return True
    if lowered in ("0", "no", "false", "off", "none"):
        return False
    raise ValueError(text)


def parse_size(text: str) -> int:
    """``"8MB"`` -> 8388608; plain integers pass through. Units are binary (KB = 1024)."""
    cleaned = text.strip().upper().replace("IB", "B")
    for suffix, factor in (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)):
        if cleaned.endswith(suffix):
            return int(float(cleaned[: -len(suffix)]) * factor)
    return int(cleaned)


def packaged_defaults() -> str:
    return resources.files("cc_core").joinpath("defaults.cfg").read_text(encoding="utf-8")


def _defaults_parser() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(packaged_defaults(), source="<packaged defaults>")
    return parser


def default_config() -> Config:
    """The packaged defaults alone (what a broken config file falls back to while it is reported)."""
    return Config(_defaults_parser(), None)


def load_config(path: Path | None = None, *, create: bool = True) -> Config:
    """Read the config file, creating it from the packaged defaults on first use.

    Raises
    ------
    ConfigError
        The file has a syntax error; the message names the file and the line.
    """
    path = path or config_dir() / CONFIG_FILE_NAME
    parser = _defaults_parser()
    if create:
        create_private_file(path, packaged_defaults().encode("utf-8"))
    file_parser = configparser.ConfigParser(interpolation=None)
    if path.exists():
        warn_if_exposed(path)
        text = _read_text(path)
        for target in (file_parser, parser):
            try:
                target.read_string(text, source=str(path))
            except configparser.MissingSectionHeaderError as exc:
                raise ConfigError(f"{path}, line {exc.lineno}: {_unparsable(exc.line)}") from None
            except configparser.ParsingError as exc:
                line_number, line = exc.errors[0]  # configparser keeps the line's repr()
                raise ConfigError(f"{path}, line {line_number}: {_unparsable(ast.literal_eval(line))}") from None
            except (configparser.DuplicateSectionError, configparser.DuplicateOptionError) as exc:
                what = f"section [{exc.section}]" + (f" has key {exc.option!r}" if hasattr(exc, "option") else "")
                raise ConfigError(f"{path}, line {exc.lineno}: {what} a second time: keep one") from None
            except configparser.Error as exc:
                raise ConfigError(f"{path}: {' '.join(str(exc).split())}") from None
    return Config(parser, path, file_parser)


def _unparsable(line: str) -> str:
    line = line.strip()
    if line.startswith("[") and not line.endswith("]"):
        return f"the section header {line!r} lacks its closing ']'"
    return f"cannot parse {line!r}: settings are written 'key = value' under a [section] header"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}, line {line}: byte {exc.object[exc.start]:#04x} is not UTF-8 text; "
                          "save the file as UTF-8") from None
