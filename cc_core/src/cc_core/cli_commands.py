"""The ``cottoncandy`` commands for daily work on any backend: ls, glob, info, cat, cp, mv, rm,
upload, download and du.

Targets are URLs (``s3://bucket/name``, ``gdrive://folder/name``, ``memory://bucket/name``,
``file:///path``) or local paths; see :mod:`cc_core.targets`. Every command takes ``--json`` for
scripts. Large transfers show a progress bar in a terminal (``[basic] progress_threshold``);
``--no-progress`` hides it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import copying, names
from .backend import ObjectInfo, Prefix
from .config import load_config
from .errors import CottonCandyError, ObjectNotFoundError
from .metadata import CHECKSUM_KEY, DIGEST_KEY, chain_names, codec_name
from .patterns import has_magic, literal_prefix
from .progressbar import progress_for
from .targets import Target, TargetResolver, is_local_path

_RESERVED_KEYS = ("dtype", "shape", "order", "compression", "gzip")


# -- output ----------------------------------------------------------------------------------------
def human_size(size: float) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    if abs(size) < 1024:
        return f"{size:.0f} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        size /= 1024
        if abs(size) < 1024 or unit == "TiB":
            break
    return f"{size:.1f} {unit}"


def _emit_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def _entry_record(target: Target, entry: ObjectInfo | Prefix | str, kind: str | None = None) -> dict[str, Any]:
    if isinstance(entry, ObjectInfo):
        return {"name": target.show(entry.name), "type": "object", "size": entry.size,
                "modified": entry.modified.isoformat() if entry.modified else None}
    name = entry.name.rstrip("/") if isinstance(entry, Prefix) else entry
    return {"name": target.show(name), "type": kind or "folder", "size": None, "modified": None}


def _print_entries(records: list[dict[str, Any]], long: bool, exact_bytes: bool) -> None:
    for record in records:
        shown = record["name"] + ("/" if record["type"] in ("folder", "bucket") else "")
        if not long:
            print(shown)
            continue
        size = "" if record["size"] is None else (str(record["size"]) if exact_bytes else human_size(record["size"]))
        modified = (record["modified"] or "")[:19].replace("T", " ")
        print(f"{size:>12}  {modified:<19}  {shown}")


# -- helpers -----------------------------------------------------------------------------------------
def _objects_under(target: Target) -> list[ObjectInfo]:
    """The object the target names, or every object below it."""
    if target.is_object():
        return [target.interface.get_object(target.key)]
    prefix = target.key + "/" if target.key else ""
    return [e for e in target.interface.backend.list(prefix) if isinstance(e, ObjectInfo)]


def _missing(target: Target) -> ObjectNotFoundError:
    error = ObjectNotFoundError(target.key or "/", target.interface.backend.describe())
    error.args = (f"Nothing at {target.shown}: no object or folder of that name",)
    return error


# -- commands ------------------------------------------------------------------------------------
def _is_store(text: str) -> bool:
    """``s3://`` (a scheme and nothing else): the store itself, whose children are buckets."""
    scheme, bucket, key = names.split_url(text)
    return bool(scheme) and scheme != "file" and not bucket and not key


def command_ls(arguments: argparse.Namespace, resolver: TargetResolver) -> int:
    records: list[dict[str, Any]] = []
    for text in arguments.targets or ["."]:
        if _is_store(text):
            buckets = resolver.store(text).backend.list_buckets()
            records += [{"name": text + bucket, "type": "bucket", "size": None, "modified": None}
                        for bucket in sorted(buckets)]
            continue
        target = resolver.open(text)
        backend = target.interface.backend
        if arguments.recursive:
            entries: list[Any] = _objects_under(target)
            if not entries and target.key:
                raise _missing(target)
        elif has_magic(target.key):
            known = {e.name: e for e in backend.list(literal_prefix(target.key)) if isinstance(e, ObjectInfo)}
            entries = [known.get(name, name) for name in target.interface.ls(target.key)]
        else:
            prefix = target.key + "/" if target.key else ""
            entries = list(backend.list(prefix, delimiter="/"))
            if not entries and target.key:
                if not target.is_object():
                    raise _missing(target)
                entries = [target.interface.get_object(target.key)]
        records += [_entry_record(target, entry) for entry in entries]
    if arguments.json:
        _emit_json(records)
    else:
        _print_entries(records, arguments.long, arguments.bytes)
    return 0


def command_mb(arguments: argparse.Namespace, resolver: TargetResolver) -> int:
    for text in arguments.buckets:
        interface = resolver.make_bucket(text)
        if not arguments.json:
            print(f"{interface.backend.describe()} is ready")
    if arguments.json:
        _emit_json([{"name": text.rstrip("/"), "type": "bucket"} for text in arguments.buckets])
    return 0


def command_glob(arguments: argparse.Namespace, resolver: TargetResolver) -> int:
    target = resolver.open(arguments.pattern)
    found = target.interface.glob(target.key)
    if arguments.json or arguments.long:
        listed = target.interface.backend.list(literal_prefix(target.key))
        known = {e.name: e for e in listed if isinstance(e, ObjectInfo)}
        records = [_entry_record(target, known.get(name, name), "object") for name in found]
        if arguments.json:
            _emit_json(records)
        else:
            _print_entries(records, True, arguments.bytes)
    else:
        for name in found:
            print(target.show(name))
    return 0 if found or not arguments.strict else 1


def object_description(target: Target, info: ObjectInfo) -> dict[str, Any]:
    """What ``info`` shows about one object, from its metadata alone."""
    metadata = dict(info.metadata)
    record: dict[str, Any] = {
        "name": target.show(info.name), "size": info.size,
        "modified": info.modified.isoformat() if info.modified else None,
        "codec": codec_name(metadata), "transforms": chain_names(metadata),
    }
    if "dtype" in metadata and "shape" in metadata:
        import numpy as np

        shape = tuple(int(n) for n in metadata["shape"].strip("()[] ").split(",") if n.strip())
        dtype = np.dtype(metadata["dtype"])
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        record.update(dtype=str(dtype), shape=list(shape), order=metadata.get("order", "C"), array_bytes=nbytes,
                      ratio=round(info.size / nbytes, 4) if nbytes else None)
    record["metadata"] = {k: v for k, v in metadata.items() if not k.startswith("cc-") and k not in _RESERVED_KEYS}
    return record


def command_info(arguments: argparse.Namespace, resolver: TargetResolver) -> int:
    records = []
    for text in arguments.targets:
        target = resolver.open(text)
        if target.is_object():
            from .lazy_array import random_access

            info = target.interface.get_object(target.key)
            records.append({**object_description(target, info),
                            "random_access": random_access(target.interface, info.metadata)})
            continue
        objects = _objects_under(target)
        if not objects:
            raise _missing(target)
        records.append({"name": target.shown, "type": "folder", "objects": len(objects),
                        "size": sum(info.size for info in objects)})
    if arguments.json:
        _emit_json(records if len(records) > 1 else records[0])
        return 0
    for record in records:
        print(record["name"])
        if record.get("type") == "folder":
            print(f"  folder:      {record['objects']} objects, {human_size(record['size'])}")
            continue
        print(f"  size:        {human_size(record['size'])} ({record['size']} bytes stored)")
        print(f"  modified:    {record['modified'] or '-'}")
        print(f"  codec:       {record['codec'] or 'none (plain bytes)'}")
        print(f"  transforms:  {' -> '.join(record['transforms']) or 'none'}")
        access = "random access" if record["random_access"] else "not seekable: a slice reads the whole object"
        print(f"  slices:      {access}")
        if "dtype" in record:
            shape = "(" + ", ".join(map(str, record["shape"])) + ("," if len(record["shape"]) == 1 else "") + ")"
            array_size = human_size(record["array_bytes"])
            print(f"  array:       {record['dtype']} {shape} order {record['order']}, {array_size}"
                  + (f" (stored at {record['ratio']:.1%})" if record["ratio"] is not None else ""))
        for key, value in record["metadata"].items():
            print(f"  {key}: {value}")
    return 0


def command_cat(arguments: argparse.Namespace, resolver: TargetResolver) -> int:
    output = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
    for text in arguments.targets:
        target = resolver.open(text)
        if not target.is_object():
            raise _missing(target)
        if arguments.slice is not None:
            _print_slice(target, arguments.slice, arguments.json)
            continue
        stream = target.interface.download_stream(target.key, progress=False).content
        while block := stream.read(1 << 20):
            if output is None:
                sys.stdout.write(block.decode("utf-8", "replace"))
            else:
                output.write(block)
        if output is not None:
            output.flush()
    return 0


def _print_slice(target: Target, text: str, as_json: bool) -> None:
    """Print ``text`` (``'10:20,:'``) of the array ``target`` names, reading only what it selects."""
    import numpy as np

    from .lazy_array import parse_selection
    try:
        selection = parse_selection(text)
        part = np.asarray(target.interface.open_array(target.key)[selection])
    except (ValueError, IndexError) as exc:
        raise CottonCandyError(f"--slice {text!r} of {target.shown}: {exc}") from None
    if as_json:
        _emit_json({"name": target.shown, "selection": text, "dtype": str(part.dtype), "shape": list(part.shape),
                    "data": part.tolist()})
    else:
        print(repr(part))


def _is_local(text: str) -> bool:
    """A local path or a ``file://`` URL: objects in a local store, whose metadata ``cp`` keeps."""
    return is_local_path(text) or names.split_url(text)[0] == "file"


def _copy_or_move(arguments: argparse.Namespace, resolver: TargetResolver, move: bool) -> int:
    """cp/mv with cp's rules for names (into a folder that exists or ends in ``/``), through
    :mod:`cc_core.copying` as the interface's cp/mv; remote objects to a plain local path become
    plain files, as ``download`` writes them (a ``file://`` URL keeps them in a local store)."""
    if is_local_path(arguments.destination):
        remote = [not _is_local(text) for text in arguments.sources]
        if all(remote):
            return _to_plain_files(arguments, resolver, move)
        if any(remote):
            raise CottonCandyError("Copy remote objects and local ones to a local path in separate commands: remote "
                                   "objects become plain files there (as `download` writes them), local ones keep "
                                   "their metadata")
    destination = resolver.open(arguments.destination)
    into = destination.folder_hint or len(arguments.sources) > 1 or not destination.key or destination.is_folder()
    interface = destination.interface
    written = []
    for text in arguments.sources:
        source = resolver.open(text)
        selection = copying.select(copying.Place(source.interface.backend, source.key))
        if not selection.objects:
            raise _missing(source)
        if selection.folder and not arguments.recursive:
            raise CottonCandyError(f"{source.shown} is a folder of {len(selection.objects)} objects: "
                                   "pass -r to copy it")
        key = names.join(destination.key, source.key.rpartition("/")[2]) if into and source.key else destination.key
        with progress_for(False if arguments.no_progress else None, settings=interface.settings,
                          verbose=interface.verbose, description=f"copy {source.shown}") as progress:
            written += (copying.move if move else copying.copy)(
                selection, copying.Place(interface.backend, key), overwrite=arguments.force, progress=progress)
    if arguments.json:
        _emit_json([destination.show(name) for name in written])
    return 0


def command_cp(arguments: argparse.Namespace, resolver: TargetResolver) -> int:
    return _copy_or_move(arguments, resolver, move=False)


def command_mv(arguments: argparse.Namespace, resolver: TargetResolver) -> int:
    return _copy_or_move(arguments, resolver, move=True)


def command_rm(arguments: argparse.Namespace, resolver: TargetResolver) -> int:
    removed: list[str] = []
    for text in arguments.targets:
        target = resolver.open(text)
        if has_magic(target.key):
            found = target.interface.glob(target.key)
            if not found:
                raise ObjectNotFoundError(target.key, f"{target.interface.backend.describe()} (no match)")
            target.interface.backend.delete_many(found)
        elif not target.key:
            raise CottonCandyError(f"{target.shown} is a whole bucket; remove its folders or objects by name")
        else:
            selection = copying.select(copying.Place(target.interface.backend, target.key))
            if not selection.objects:  # an error here, where the interface only warns: a mistyped name
                raise _missing(target)
            if selection.folder and not arguments.recursive:
                raise CottonCandyError(f"{target.shown} is a folder: pass -r to remove it and everything under it")
            found = copying.remove(selection, recursive=arguments.recursive)
        removed += [target.show(name) for name in found]
    if arguments.json:
        _emit_json(removed)
    elif arguments.verbose:
        print("\n".join(f"removed {name}" for name in removed))
    return 0


def command_upload(arguments: argparse.Namespace, resolver: TargetResolver) -> int:
    destination = resolver.open(arguments.destination)
    interface = destination.interface
    many = len(arguments.sources) > 1
    into = destination.folder_hint or many or not destination.key or destination.is_folder()
    progress = False if arguments.no_progress else None
    written: list[str] = []
    for source in map(Path, arguments.sources):
        if source.is_dir():
            if not arguments.recursive:
                raise CottonCandyError(f"{source} is a folder: pass -r to upload it and its subfolders")
            base = names.join(destination.key, source.resolve().name) if into else destination.key
            written += interface.upload_from_directory(source, base, recursive=True, progress=progress)
        elif source.is_file():
            name = names.join(destination.key, source.name) if into else destination.key
            interface.upload_from_file(source, name, progress=progress)
            written.append(names.object_name(name))
        else:
            raise FileNotFoundError(f"No such file or folder: {source}")
    if arguments.json:
        _emit_json([destination.show(name) for name in written])
    return 0


@dataclass
class _PlainFiles:
    """What one source argument becomes on local disk: its objects, their files, the call writing them."""

    source: Target
    files: dict[str, Path]
    write: Callable[[bool | None], list[str]]


def _plain_files(arguments: argparse.Namespace, resolver: TargetResolver) -> list[_PlainFiles]:
    """Each source of ``download`` (or of ``cp``/``mv`` to a plain local path), resolved before a
    byte is written: an object, a folder (``-r``) or a pattern's matches."""
    destination = Path(arguments.destination).expanduser()
    into = destination.is_dir() or len(arguments.sources) > 1 or arguments.destination.endswith(("/", os.sep))
    plan: list[_PlainFiles] = []
    for text in arguments.sources:
        source = resolver.open(text)
        interface = source.interface
        if has_magic(source.key):
            folder = literal_prefix(source.key).rpartition("/")[0]
            files = {name: destination.joinpath(*name[len(folder) + 1 if folder else 0:].split("/"))
                     for name in interface.glob(source.key)}
        elif source.is_object():
            files = {source.key: destination / source.key.rpartition("/")[2] if into else destination}
        else:
            objects = _objects_under(source)
            if not objects:
                raise _missing(source)
            if not arguments.recursive:
                raise CottonCandyError(f"{source.shown} is a folder: "
                                       f"pass -r to {arguments.command} everything under it")
            into_folder = destination.is_dir() and source.key
            folder_path = destination / source.key.rpartition("/")[2] if into_folder else destination
            cut = len(source.key) + 1 if source.key else 0
            files = {info.name: folder_path.joinpath(*info.name[cut:].split("/")) for info in objects}
            plan.append(_PlainFiles(source, files,
                                    lambda progress, interface=interface, key=source.key, folder=folder_path:
                                    interface.download_directory(key, folder, progress=progress)))
            continue
        plan.append(_PlainFiles(source, files, lambda progress, interface=interface, files=files: [
            interface.download_to_file(name, path, progress=progress) for name, path in files.items()]))
    return plan


def _metadata_a_file_loses(source: Target, names_read: list[str]) -> list[str]:
    """The objects among ``names_read`` whose metadata (dtype, shape, user keys...) a plain file
    cannot keep: everything but the checksum and digest, which only guard the stored bytes."""
    backend = source.interface.backend
    return [name for name in names_read
            if set(backend.head(name).metadata) - {CHECKSUM_KEY, DIGEST_KEY}]


def _to_plain_files(arguments: argparse.Namespace, resolver: TargetResolver, move: bool) -> int:
    """``cp``/``mv`` (and ``download``) to a plain local path: each object's decoded bytes in a file,
    without metadata, as ``download`` writes them. ``mv`` refuses, before writing anything, objects
    with metadata a file would drop: ``file:///path`` keeps them in a local store instead."""
    plan = _plain_files(arguments, resolver)
    if arguments.command in ("cp", "mv") and not arguments.force:
        existing = [str(path) for entry in plan for path in entry.files.values() if path.exists()]
        if existing:
            more = f" (and {len(existing) - 1} more files)" if len(existing) > 1 else ""
            raise CottonCandyError(f"{existing[0]} exists{more}: pass -f to replace files that exist")
    if move:
        for entry in plan:
            kept = _metadata_a_file_loses(entry.source, list(entry.files))
            if kept:
                shown = ", ".join(entry.source.show(name) for name in kept[:3]) + (" ..." if len(kept) > 3 else "")
                raise CottonCandyError(
                    f"{len(kept)} object(s) carry metadata (dtype, shape or other keys) that a plain file cannot keep: "
                    f"{shown}. Move them into a local store with a file:// URL (file://"
                    f"{Path(arguments.destination).expanduser().absolute()}), or download them and rm them yourself"
                )
    progress = False if arguments.no_progress else None
    written: list[str] = []
    for entry in plan:
        written += entry.write(progress)
        if move:
            entry.source.interface.backend.delete_many(list(entry.files))
    if arguments.json:
        _emit_json(written)
    return 0


def command_download(arguments: argparse.Namespace, resolver: TargetResolver) -> int:
    return _to_plain_files(arguments, resolver, move=False)


def command_du(arguments: argparse.Namespace, resolver: TargetResolver) -> int:
    records = []
    for text in arguments.targets or ["."]:
        target = resolver.open(text)
        objects = _objects_under(target)
        if not objects and target.key:
            raise _missing(target)
        children: dict[str, list[int]] = {}
        cut = len(target.key) + 1 if target.key and not target.is_object() else 0
        for info in objects:
            child = info.name[:cut] + info.name[cut:].split("/")[0] if cut or not target.key else info.name
            totals = children.setdefault(child, [0, 0])
            totals[0] += info.size
            totals[1] += 1
        records.append({
            "name": target.shown, "size": sum(info.size for info in objects), "objects": len(objects),
            "children": [{"name": target.show(name), "size": size, "objects": count}
                         for name, (size, count) in sorted(children.items())],
        })
    if arguments.json:
        _emit_json(records if len(records) > 1 else records[0])
        return 0
    show = str if arguments.bytes else human_size
    for record in records:
        if not arguments.summarize:
            for child in record["children"]:
                print(f"{show(child['size']):>12}  {child['name']}")
        print(f"{show(record['size']):>12}  {record['name']}  ({record['objects']} objects)")
    return 0


# -- parser --------------------------------------------------------------------------------------
def _run(handler: Any) -> Any:
    """A handler that receives a resolver built from the common options."""
    def run(arguments: argparse.Namespace) -> int:
        resolver = TargetResolver(load_config(), verbose=not arguments.no_progress, endpoint_url=arguments.endpoint_url)
        try:
            return handler(arguments, resolver)
        finally:
            resolver.close()

    return run


def add_storage_commands(subparsers: Any) -> None:
    """Add ls, glob, info, cat, cp, mv, rm, upload, download and du to the command line."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    common.add_argument("--endpoint-url", metavar="URL", help="S3-compatible server (default: [login] endpoint_url)")
    common.add_argument("--no-progress", action="store_true", help="never show progress bars")
    listing = argparse.ArgumentParser(add_help=False)
    listing.add_argument("-l", "--long", action="store_true", help="show size and time of objects")
    listing.add_argument("--bytes", action="store_true", help="sizes in bytes, not KiB/MiB/GiB")
    copying = argparse.ArgumentParser(add_help=False)
    copying.add_argument("-r", "--recursive", action="store_true", help="include folders and everything under them")
    copying.add_argument("-f", "--force", action="store_true", help="replace objects that exist")
    target_help = "s3://bucket/name, gdrive://folder/name, memory://bucket/name, file:///path or a local path"

    def add(name: str, handler: Any, help_text: str, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
        parser = subparsers.add_parser(name, help=help_text, description=f"{help_text}. Targets: {target_help}.",
                                       parents=[common, *parents])
        parser.set_defaults(handler=_run(handler))
        return parser

    ls = add("ls", command_ls, "list a folder's children, or the names a pattern matches (* ? [..] **)", [listing])
    ls.add_argument("targets", nargs="*", metavar="TARGET",
                    help="folder, object or pattern (default: .); s3:// alone lists the buckets")
    ls.add_argument("-r", "--recursive", action="store_true", help="every object below, at any depth")

    mb = add("mb", command_mb, "make buckets (s3://name, memory://name); one that exists is left as it is", [])
    mb.add_argument("buckets", nargs="+", metavar="BUCKET")

    glob = add("glob", command_glob, "list the objects matching a pattern, sorted (* within a name, ** any depth)",
               [listing])
    glob.add_argument("pattern", metavar="PATTERN", help="e.g. 's3://bucket/exp/*/run0?.grp/**' (quote it)")
    glob.add_argument("--strict", action="store_true", help="exit with status 1 when nothing matches")

    info = add("info", command_info,
               "show an object's dtype, shape, size, codec and transform chain, from metadata", [])
    info.add_argument("targets", nargs="+", metavar="TARGET")

    cat = add("cat", command_cat, "write objects' (decoded) content to standard output", [])
    cat.add_argument("targets", nargs="+", metavar="TARGET")
    cat.add_argument("--slice", metavar="SELECTION",
                     help="print this part of an array (numpy indexing: '10:20,:', '...,::2'; "
                          "--slice=-1 for a leading minus), reading only its bytes; with --json: shape, dtype and data")

    for name, handler, verb in (("cp", command_cp, "copy"), ("mv", command_mv, "move")):
        parser = add(name, handler, f"{verb} objects or folders (-r), within or between backends, metadata kept",
                     [copying])
        parser.add_argument("sources", nargs="+", metavar="SOURCE")
        parser.add_argument("destination", metavar="DESTINATION",
                            help="a name, or a folder (trailing /) to put them in; a plain local path gets "
                                 "plain files as `download` writes them (no metadata), file:///path a local store "
                                 "that keeps it")

    rm = add("rm", command_rm, "remove objects, folders (-r) or the objects a pattern matches", [])
    rm.add_argument("targets", nargs="+", metavar="TARGET")
    rm.add_argument("-r", "--recursive", action="store_true", help="remove folders and everything under them")
    rm.add_argument("-v", "--verbose", action="store_true", help="print each name removed")

    upload = add("upload", command_upload, "upload local files and folders (-r)", [])
    upload.add_argument("sources", nargs="+", metavar="FILE")
    upload.add_argument("destination", metavar="DESTINATION", help="object name, or a folder (trailing /)")
    upload.add_argument("-r", "--recursive", action="store_true", help="upload folders and their subfolders")

    download = add("download", command_download, "download objects, folders (-r) or pattern matches to local files", [])
    download.add_argument("sources", nargs="+", metavar="SOURCE")
    download.add_argument("destination", metavar="PATH", help="a file, or a folder to put them in")
    download.add_argument("-r", "--recursive", action="store_true", help="download folders and everything under them")

    du = add("du", command_du, "total size and count of the objects under folders", [])
    du.add_argument("--bytes", action="store_true", help="sizes in bytes, not KiB/MiB/GiB")
    du.add_argument("targets", nargs="*", metavar="TARGET", help="default: .")
    du.add_argument("-s", "--summarize", action="store_true", help="only the total of each target")

