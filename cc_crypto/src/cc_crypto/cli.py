"""``cottoncandy key ...``: show, generate, export and import the encryption master key, migrate
cottoncandy 0.3's and format version 1's encrypted objects to the current format, and bind objects
copied without the key to their new names.

No command ever overwrites a key file: losing a master key loses every object encrypted with it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cc_core.backend import ObjectInfo
from cc_core.config import load_config
from cc_core.errors import CottonCandyError

from .errors import MasterKeyError
from .keys import (
    EXTRA_KEYS_FOLDER,
    KeyRing,
    MasterKey,
    RsaKey,
    SymmetricKey,
    create_key_file,
    format_key_id,
    parse_key,
)


def _keyring(arguments: argparse.Namespace) -> KeyRing:
    settings = getattr(arguments, "settings", None) or load_config()
    return KeyRing.from_config(settings)


def _selected(keyring: KeyRing, key_id: str | None) -> MasterKey:
    if not key_id:
        return keyring.encryption_key(generate=False)
    for key in keyring.keys():  # noqa: SIM118 -- KeyRing.keys() is a list of keys, not a dict view
        if format_key_id(key.key_id).startswith(key_id.lower()):
            return key
    raise MasterKeyError(f"No available master key has id {key_id!r}; 'cottoncandy key id' lists them")


def command_id(arguments: argparse.Namespace) -> int:
    """Print the id of the key that encrypts, then of every other key that can decrypt."""
    keyring = _keyring(arguments)
    keys = keyring.keys()
    if not keys:
        print(f"No master key yet. One is generated in {keyring.key_file} on the first encrypted upload, "
              "or now with 'cottoncandy key generate'.", file=sys.stderr)
        return 1
    for position, key in enumerate(keys):
        role = "encrypts" if position == 0 else "decrypts"
        print(f"{format_key_id(key.key_id)}  {role}  {key.describe()}")
    return 0


def command_generate(arguments: argparse.Namespace) -> int:
    """Create the master key file; refuse if it exists."""
    keyring = _keyring(arguments)
    path = keyring.key_file
    assert path is not None
    if path.exists():
        raise MasterKeyError(f"{path} exists and is never overwritten; its key id: "
                             f"{format_key_id(keyring.encryption_key(generate=False).key_id)}")
    key = RsaKey.generate(arguments.rsa) if arguments.rsa else SymmetricKey.generate()
    if not create_key_file(path, key.export()):
        raise MasterKeyError(f"{path} was created by another process meanwhile; it was left as it is")
    print(f"Created master key {format_key_id(key.key_id)} in {path}.")
    print("BACK IT UP: run 'cottoncandy key export BACKUP_FILE' and keep the copy safe and private.")
    return 0


def command_export(arguments: argparse.Namespace) -> int:
    """Write the key (or its public half) to a new file, or to standard output."""
    key = _selected(_keyring(arguments), arguments.id)
    text = key.export(public=arguments.public)
    if arguments.file in (None, "-"):
        sys.stdout.write(text)
        if not arguments.public:
            print("# The key above is secret: whoever has it reads your encrypted objects.", file=sys.stderr)
        return 0
    path = Path(arguments.file).expanduser()
    if not create_key_file(path, text):
        raise MasterKeyError(f"{path} exists and is never overwritten; choose a new file name")
    half = "the public half of " if arguments.public else ""
    print(f"Wrote {half}master key {format_key_id(key.key_id)} to {path} (mode 0600).")
    return 0


def import_key(text: str, keyring: KeyRing, *, source: str) -> tuple[MasterKey, Path | None]:
    """Store a key in the key file, or beside it under ``keys/`` when a key file exists.

    Returns the key and the file written (None when the key was available already).
    """
    key = parse_key(text, source=source)
    for existing in keyring.keys():  # noqa: SIM118 -- a list of keys, not a dict view
        if existing.key_id == key.key_id and (existing.can_decrypt or not key.can_decrypt):
            return key, None
    assert keyring.key_file is not None and keyring.extra_folder is not None
    if not keyring.key_file.exists():
        target = keyring.key_file
    else:
        target = keyring.extra_folder / f"{format_key_id(key.key_id)}.key"
    if not create_key_file(target, key.export()):
        raise MasterKeyError(f"{target} exists and is never overwritten; remove or rename it yourself if you are sure")
    return key, target


def command_import(arguments: argparse.Namespace) -> int:
    """Import a key file (``-``: standard input)."""
    if arguments.file == "-":
        text, source = sys.stdin.read(), "standard input"
    else:
        path = Path(arguments.file).expanduser()
        try:
            text, source = path.read_text(encoding="utf-8"), f"file {path}"
        except (OSError, UnicodeDecodeError) as exc:
            raise MasterKeyError(f"Cannot read {path}: {exc}") from None
    keyring = _keyring(arguments)
    key, target = import_key(text, keyring, source=source)
    if target is None:
        print(f"Master key {format_key_id(key.key_id)} is available already; nothing written.")
    elif target == keyring.key_file:
        print(f"Imported master key {format_key_id(key.key_id)} into {target}: it encrypts new objects.")
    else:
        print(f"Imported master key {format_key_id(key.key_id)} into {target}. It decrypts the objects made "
              f"with it; new objects stay encrypted with the key in {keyring.key_file}.")
    return 0


def command_migrate(arguments: argparse.Namespace) -> int:
    """Re-encrypt cottoncandy 0.3's objects under a target in the current format; report each one."""
    from cc_core.targets import TargetResolver

    from .legacy03 import TRANSFORM_NAME, Legacy03Pipeline, is_03_object
    from .migrate import format_version, migrate_object, migrate_v1_object
    from .transform import AesGcmTransform

    settings = load_config()
    resolver = TargetResolver(settings, verbose=False, endpoint_url=arguments.endpoint_url)
    try:
        target = resolver.open(arguments.target)
        interface = target.interface
        pipeline = Legacy03Pipeline(interface.plugins.registry, settings, always=[AesGcmTransform.name])
        pipeline.configure_transform(TRANSFORM_NAME, method="RSA" if arguments.rsa_key else "AES",
                                     key=arguments.rsa_key)
        keys = pipeline.reader.keys
        objects = _objects(target)
        records = []
        for info in objects:
            record = {"name": target.show(info.name), "status": "skipped", "method": None, "transforms": None,
                      "error": None}
            records.append(record)
            if not is_03_object(info.metadata):
                try:
                    version = format_version(interface.backend, info)
                    if version != 1:
                        record["error"] = ("written in the current format" if version
                                           else "not encrypted by 0.3 nor in format 1")
                        continue
                    record["method"] = "format 1"
                    record["transforms"] = migrate_v1_object(pipeline, interface.backend, info,
                                                             dry_run=arguments.dry_run)
                except CottonCandyError as exc:
                    record["status"], record["error"] = "failed", str(exc)
                    continue
                record["status"] = "would migrate" if arguments.dry_run else "migrated"
                continue
            record["method"] = keys.method_of(info.metadata)
            if not keys.can_read(info.metadata):
                record["status"], record["error"] = "failed", _missing_key_advice(record["method"])
                continue
            try:
                done = migrate_object(pipeline, interface.backend, info, dry_run=arguments.dry_run)
            except CottonCandyError as exc:
                record["status"], record["error"] = "failed", str(exc)
                continue
            record["status"] = "would migrate" if arguments.dry_run else "migrated"
            record["transforms"] = done.transforms
    finally:
        resolver.close()
    statuses = ("migrated", "would migrate", "skipped", "failed")
    counts = {status: sum(r["status"] == status for r in records) for status in statuses}
    if arguments.json:
        print(json.dumps({"objects": records, "counts": counts}, indent=2))
    else:
        for record in records:
            if record["status"] == "failed":
                print(f"FAILED    {record['name']}: {record['error']}", file=sys.stderr)
            elif record["status"] == "skipped":
                print(f"skipped   {record['name']} ({record['error']})")
            else:
                origin = record["method"] if record["method"] == "format 1" else f"0.3 {record['method']}"
                print(f"{record['status']}  {record['name']} ({origin} -> {record['transforms']})")
        done_word = "would be migrated" if arguments.dry_run else "migrated"
        print(f"{counts['would migrate'] if arguments.dry_run else counts['migrated']} {done_word}, "
              f"{counts['skipped']} skipped, {counts['failed']} failed"
              + (" (left as they were: a plain object of cottoncandy 0.4 fails too, it was never encrypted)"
                 if counts["failed"] else ""))
    return 1 if counts["failed"] else 0


def _objects(target: Any) -> list[ObjectInfo]:
    """The object a target names, or every object under it, each with its metadata (one HEAD each)."""
    backend = target.interface.backend
    if target.is_object():
        return [backend.head(target.key)]
    prefix = target.key + "/" if target.key else ""
    # listings may omit metadata: each object is recognised by its own head
    return [backend.head(e.name) for e in backend.list(prefix) if isinstance(e, ObjectInfo)]


def command_rebind(arguments: argparse.Namespace) -> int:
    """Bind the encrypted objects under a target to the names they have now; report each one."""
    from cc_core.targets import TargetResolver

    from .migrate import rebind_object
    from .transform import AesGcmTransform

    settings = load_config()
    resolver = TargetResolver(settings, verbose=False, endpoint_url=arguments.endpoint_url)
    failed = done = 0
    try:
        target = resolver.open(arguments.target)
        transform = AesGcmTransform.from_config(settings)
        for info in _objects(target):
            shown = target.show(info.name)
            chain = (n.strip().lower() for n in info.metadata.get("cc-transforms", "").split(","))
            if AesGcmTransform.name not in chain:
                print(f"skipped   {shown} (not encrypted with aes-gcm)")
                continue
            try:
                was = rebind_object(transform, target.interface.backend, info, dry_run=arguments.dry_run)
            except CottonCandyError as exc:
                failed += 1
                print(f"FAILED    {shown}: {exc}", file=sys.stderr)
                continue
            if was is None:
                print(f"skipped   {shown} (bound to this name already, or not name-bound)")
            else:
                done += 1
                print(f"{'would rebind' if arguments.dry_run else 'rebound'}  {shown} (was sealed for {was!r})")
    finally:
        resolver.close()
    print(f"{done} {'would be rebound' if arguments.dry_run else 'rebound'}, {failed} failed")
    return 1 if failed else 0


def _missing_key_advice(method: str) -> str:
    if method == "RSA":
        return "a 0.3 RSA object: give 0.3's RSA private key file with --rsa-key FILE"
    return "a 0.3 AES object, and 0.3's AES key is not configured: set [encryption] key (base64) or CC_ENCRYPTION_KEY"


def add_commands(subparsers: Any) -> None:
    """Add ``cottoncandy key`` and its subcommands."""
    key = subparsers.add_parser(
        "key", help="encryption master key: show its id, generate, export, import; migrate older objects, "
                    "rebind copied ones")
    commands = key.add_subparsers(dest="key_command", metavar="KEY_COMMAND")
    key.set_defaults(handler=lambda arguments: (key.print_help(), 2)[1])

    show = commands.add_parser("id", help="print the id of the master key (and of other keys that decrypt)")
    show.set_defaults(handler=command_id)

    generate = commands.add_parser("generate", help="create the master key file now (never overwrites one)")
    generate.add_argument("--rsa", type=int, metavar="BITS", nargs="?", const=3072, default=None,
                          help="an RSA key pair instead of an AES key (default 3072 bits)")
    generate.set_defaults(handler=command_generate)

    export = commands.add_parser("export", help="write the master key to a new file (default: standard output)")
    export.add_argument("file", nargs="?", help="a new file; never overwritten ('-' = standard output)")
    export.add_argument("--public", action="store_true", help="only the public half of an RSA key")
    export.add_argument("--id", help="export another available key, by id (a prefix is enough)")
    export.set_defaults(handler=command_export)

    load = commands.add_parser(
        "import", help=f"import a key file: the master key if there is none, else into {EXTRA_KEYS_FOLDER}/ "
                       "to decrypt with")
    load.add_argument("file", help="a key file written by 'cottoncandy key export' ('-' = standard input)")
    load.set_defaults(handler=command_import)

    migrate = commands.add_parser(
        "migrate", help="re-encrypt cottoncandy 0.3's encrypted objects in place in the current format",
        description="Re-encrypt every object cottoncandy 0.3's get_encrypted_interface wrote under TARGET "
                    "with aes-gcm and your master key. Each object is read and checked whole before it is "
                    "written back under its name; an object that fails is left as it was and reported. "
                    "0.3's AES key comes from [encryption] key (or CC_ENCRYPTION_KEY).")
    migrate.add_argument("target", metavar="TARGET", help="an object or folder: s3://bucket/prefix, a local path, ...")
    migrate.add_argument("--rsa-key", metavar="FILE",
                         help="0.3's RSA private key file, for objects 0.3 encrypted with 'RSA'")
    migrate.add_argument("--dry-run", action="store_true", help="read and check every object, write nothing")
    migrate.add_argument("--endpoint-url", metavar="URL", help="S3-compatible server (default: [login] endpoint_url)")
    migrate.add_argument("--json", action="store_true", help="print JSON for scripts")
    migrate.set_defaults(handler=command_migrate)

    rebind = commands.add_parser(
        "rebind", help="bind encrypted objects copied without the key (another tool, a plain interface) "
                       "to their new names",
        description="Objects are bound to their bucket and name: a copy made without the key is refused on reading. "
                    "Rebind the objects under TARGET to the names they have now, if you trust them: each object's "
                    "metadata must still authenticate under your master key; only its name tag is replaced, with a "
                    "server-side copy onto itself (no data transfer on S3).")
    rebind.add_argument("target", metavar="TARGET", help="an object or folder: s3://bucket/prefix, a local path, ...")
    rebind.add_argument("--dry-run", action="store_true", help="check and report, change nothing")
    rebind.add_argument("--endpoint-url", metavar="URL", help="S3-compatible server (default: [login] endpoint_url)")
    rebind.set_defaults(handler=command_rebind)
