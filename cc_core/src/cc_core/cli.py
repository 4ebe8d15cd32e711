"""The ``cottoncandy`` command line.

Subcommands of the core: ``plugins`` (what is installed and whether it loaded), ``config`` (the
file in use and the effective settings, secrets redacted) and ``demo`` (the README's main job).
Plugins add their own subcommands through the ``cc_register_commands`` hook. The commands for
daily work on any backend (ls, glob, info, cat, cp, mv, rm, upload, download, du) are in
:mod:`cc_core.cli_commands`. Errors print one line and exit with status 1 (``CC_DEBUG=1`` shows
the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections import Counter
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from . import __version__
from .cli_commands import add_storage_commands
from .config import config_dir, default_config, load_config
from .errors import ConfigError, CottonCandyError
from .plugins import get_plugin_manager

_WIDTH = 79  # an 80-column terminal


def _print_table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip())


def _provides_summary(provides: list[str]) -> str:
    """``["backend:s3", "codec:npy", "codec:dask"]`` -> ``"1 backend 2 codecs"`` (the table fits 80 columns)."""
    counts = Counter(item.partition(":")[0] for item in provides)
    return " ".join(f"{count} {kind}{'s' if count > 1 else ''}" for kind, count in counts.items()) or "-"


def command_plugins(arguments: argparse.Namespace) -> int:
    manager = get_plugin_manager()
    records = sorted(manager.records.values(), key=lambda r: r.name)
    conflicts = manager.registry.conflicts()
    for record in records:
        record.conflicts = [str(c) for c in conflicts if record.name in {r.plugin for r in c.providers}]
    if arguments.json:
        print(json.dumps([vars(r) for r in records], indent=2))
        return 0
    rows = [[r.name, r.distribution, r.version, _provides_summary(r.provides),
             r.status + (" (conflict)" if r.conflicts else "")] for r in records]
    _print_table(rows, ["plugin", "distribution", "version", "provides", "status"])
    details = [r for r in records if arguments.verbose or r.status == "failed"]
    for record in details:
        print(f"\n{record.name} ({record.distribution} {record.version}): {record.status}")
        lines = [f"provides {', '.join(record.provides)}"] if arguments.verbose and record.provides else []
        lines += [f"error: {record.error}"] if record.error else []
        for line in lines:
            print(textwrap.fill(line, width=_WIDTH, initial_indent="  ", subsequent_indent="    "))
    for conflict in conflicts:
        print(textwrap.fill(f"{'settled' if conflict.chosen else 'conflict'}: {conflict}", width=_WIDTH,
                            initial_indent="\n" if conflict is conflicts[0] else "", subsequent_indent="    ",
                            break_on_hyphens=False))
    if not arguments.verbose:
        print("\n-v lists what each plugin provides; --json gives everything")
    return 0


def command_config(arguments: argparse.Namespace) -> int:
    """Show the file, the effective settings and everything wrong with them; runs on a broken file."""
    manager = get_plugin_manager()
    try:
        config = load_config()
        found = manager.config_problems(config)
        problems, errors = [str(p) for p in found], [str(p) for p in found if p.is_error]
    except ConfigError as exc:  # unreadable: show what is wrong and the defaults in effect meanwhile
        config, problems, errors = default_config(), [str(exc)], [str(exc)]
    values = config.as_dict(redact=True)
    switches = {"CC_DISABLE_PLUGINS": "disable", "CC_LOAD_PLUGINS": "load"}
    overridden = {key: os.environ[variable] for variable, key in switches.items() if variable in os.environ}
    values.setdefault("plugins", {}).update(overridden)
    statuses = {record.name: record.status for record in manager.records.values()}
    path = str(config.path or config_dir() / "options.cfg")
    if arguments.json:
        print(json.dumps({"path": path, "settings": values, "plugins": statuses, "problems": problems}, indent=2))
        return 1 if errors else 0
    print(f"# {path}")
    for problem in problems:
        print(textwrap.fill(f"# problem: {problem}", width=_WIDTH, subsequent_indent="#   "))
    for section, settings in values.items():
        print(f"\n[{section}]")
        for key, value in settings.items():
            variable = next((v for v, k in switches.items() if k == key and section == "plugins" and v in os.environ),
                            None)
            print(f"{key} = {value}" + (f"  # from {variable}" if variable else ""))
    print("# plugins: " + ", ".join(f"{name} {status}" for name, status in sorted(statuses.items())))
    return 1 if errors else 0


def command_demo(arguments: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(arguments.folder, size_mb=arguments.size_mb)
    return 0


def _version_line() -> str:
    try:
        umbrella = version("cottoncandy")
    except PackageNotFoundError:
        umbrella = "not installed"
    return f"cottoncandy {umbrella} (cottoncandy-core {__version__}, Python {sys.version.split()[0]})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cottoncandy",
                                     description="Store and read numpy arrays on S3, Google Drive and local disk.")
    parser.add_argument("--version", action="version", version=_version_line())
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")

    plugins = subparsers.add_parser("plugins",
                                    help="list plugins: name, distribution, version, what they provide, status")
    plugins.add_argument("--json", action="store_true", help="print JSON")
    plugins.add_argument("-v", "--verbose", action="store_true", help="list every backend, codec and transform")
    plugins.set_defaults(handler=command_plugins)

    config = subparsers.add_parser("config",
                                   help="show the config file's path and effective settings (secrets redacted)")
    config.add_argument("--json", action="store_true", help="print JSON")
    config.set_defaults(handler=command_config)

    demo = subparsers.add_parser("demo", help="store and reload arrays on the local backend and report sizes and speed")
    demo.add_argument("folder", nargs="?", help="store folder (default: a temporary folder, removed afterwards)")
    demo.add_argument("--size-mb", type=float, default=64.0, help="size of the largest demo array in MiB (default 64)")
    demo.set_defaults(handler=command_demo)

    add_storage_commands(subparsers)
    get_plugin_manager().hooks.hook.cc_register_commands(subparsers=subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    handler = getattr(arguments, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(arguments) or 0)
    except BrokenPipeError:  # the reader went away (`cottoncandy cat ... | head`)
        sys.stderr.close()
        return 141
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get("CC_DEBUG"):
            raise
        known = isinstance(exc, (CottonCandyError, OSError))
        message = str(exc) if known else f"{type(exc).__name__}: {exc}"
        print(f"cottoncandy {arguments.command}: {' '.join(message.split())}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
