"""Copying, moving and removing objects and folders: for ``CCInterface.cp/mv/rm`` and the CLI.

Every copy follows one plan, so that nothing is lost whatever the names:

1. The source is listed once, before anything is written (:func:`select`). A move deletes exactly
   the names of that listing, and only after every copy succeeded: an object written under the
   source meanwhile was not copied and stays.
2. Copies that would read what they write are refused before any request: a folder into itself
   (``mv results results/archive``, as ``mv`` in a shell refuses) and copies onto names that are
   themselves being copied (``mv a/b a`` when ``a/b/b/x`` exists). Copying an object onto itself
   is a no-op. "The same place" is decided on the store's location (``s3://bucket/key``,
   ``file:///root/key``), so two spellings of one local folder are the same place.
3. Without ``overwrite``, names that exist at the destination are found in one listing of it
   and refused before anything is written.
4. The objects are copied in parallel, on up to ``[basic] threads`` threads: server-side (one
   request per object where the backend allows it) within a backend, streamed between backends.

An interface whose transforms bind objects to their names (encryption) passes ``rebind``: each
object's metadata is then read (one HEAD, and what ``rebind`` reads: an encryption header) and the
copy gets the metadata ``rebind`` returns, in a server-side copy that replaces the metadata
(:meth:`Backend.copy_with_metadata`; streamed where the backend cannot), so the bytes still do not
pass through the client.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from . import names
from .backend import Backend, ObjectInfo
from .byteranges import RangeByteRequest
from .caller import warn
from .errors import CottonCandyError, ObjectExistsError, ObjectNotFoundError, UnsupportedOperationError
from .parallel import bounded_map
from .payload import Payload
from .pipeline import SourceReader
from .progress import NO_PROGRESS, Progress
from .progressbar import ShareOfTotal
from .transform import ObjectPlace

#: ``rebind(metadata, source, destination, read)``: the metadata of a copy, or None to keep the
#: source's; ``read(start, stop)`` gives the source's stored bytes (:meth:`cc_core.pipeline.Pipeline.rebind`).
Rebind = Callable[[Mapping[str, str], ObjectPlace, ObjectPlace, Callable[[int, int], bytes]], "dict[str, str] | None"]

#: Threads for a folder copy when the backend has no settings (``[basic] threads`` otherwise).
DEFAULT_THREADS = 4
#: Names shown in an error before "and N more".
_SHOWN = 3


@dataclass(frozen=True)
class Place:
    """A name (object or folder; ``""`` is the whole bucket) in one bucket of one backend."""

    backend: Backend
    key: str

    def location(self, name: str) -> str:
        """Where ``name`` is stored, the same for every spelling of the bucket: ``s3://b/name``."""
        return f"{self.backend.describe().rstrip('/')}/{name}"


@dataclass(frozen=True)
class Selection:
    """What a copy, move or remove acts on: the objects found at a place, listed once.

    Attributes
    ----------
    place : Place
        Where the objects were found.
    objects : list of ObjectInfo
        The object ``place.key`` names, or every object below it (possibly none).
    folder : bool
        ``place.key`` names a folder (the objects are below it), not one object.
    """

    place: Place
    objects: list[ObjectInfo]
    folder: bool


def select(place: Place) -> Selection:
    """The object ``place`` names, else every object under it (one HEAD, then one listing).

    Parameters
    ----------
    place : Place
        A name in a bucket; an object of that name wins over a folder of that name.

    Returns
    -------
    Selection
        Empty (``objects == []``) when nothing is there; callers decide whether that is an error.
    """
    if place.key:
        try:
            return Selection(place, [place.backend.head(place.key)], folder=False)
        except ObjectNotFoundError:
            pass
    prefix = place.key + "/" if place.key else ""
    found = [entry for entry in place.backend.list(prefix) if isinstance(entry, ObjectInfo)]
    return Selection(place, found, folder=True)


def copy(selection: Selection, destination: Place, *, overwrite: bool = False,
         progress: Progress = NO_PROGRESS, rebind: Rebind | None = None) -> list[str]:
    """Copy the selected objects to ``destination``, keeping their metadata.

    Parameters
    ----------
    selection : Selection
        From :func:`select`; an empty selection raises ObjectNotFoundError.
    destination : Place
        The new name of the object, or of the folder (objects keep their names below it).
    overwrite : bool
        Replace objects that exist at the destination; without it they are refused before
        anything is written.
    progress : Progress
        Told the total size of the objects, and each object's bytes once it is copied.
    rebind : callable, optional
        ``rebind(metadata, source, destination)`` gives a copy new metadata (see the module's
        docstring); None copies the metadata as it is.

    Returns
    -------
    list of str
        The names written, in the order of the source's names.

    Raises
    ------
    ObjectNotFoundError
        Nothing is at the source.
    CottonCandyError
        A folder would be copied into itself, or onto names that are being copied.
    ObjectExistsError
        A destination name exists and ``overwrite`` is False.
    """
    pairs, _ = _copy_selection(selection, destination, overwrite, progress, "copy", rebind)
    return [target for _, target in pairs]


def move(selection: Selection, destination: Place, *, overwrite: bool = False,
         progress: Progress = NO_PROGRESS, rebind: Rebind | None = None) -> list[str]:
    """Copy the selected objects (see :func:`copy`), then delete exactly those sources.

    Nothing is deleted unless every copy succeeded; objects that appeared under the source after
    it was listed are not deleted. An object moved onto itself stays as it is.

    Returns
    -------
    list of str
        The names written.
    """
    pairs, copied = _copy_selection(selection, destination, overwrite, progress, "move", rebind)
    selection.place.backend.delete_many([info.name for info, _ in copied])
    return [target for _, target in pairs]


def remove(selection: Selection, *, recursive: bool) -> list[str]:
    """Delete the selected object, or with ``recursive`` every object of the selected folder.

    Parameters
    ----------
    selection : Selection
        From :func:`select`.
    recursive : bool
        Remove a folder and everything under it. With ``recursive``, an empty selection warns
        ("nothing found under ...", as cottoncandy 0.4 printed) and removes nothing.

    Returns
    -------
    list of str
        The names removed.

    Raises
    ------
    ObjectNotFoundError
        Nothing is at the name, and ``recursive`` is False.
    CottonCandyError
        The name is a folder and ``recursive`` is False.
    """
    place = selection.place
    if not selection.objects:
        if not recursive:
            raise ObjectNotFoundError(place.key, place.backend.describe())
        warn(f"nothing found under {place.key!r} in {place.backend.describe()}: nothing removed")
        return []
    if selection.folder and not recursive:
        raise CottonCandyError(f"{place.key!r} is a folder of {len(selection.objects)} objects; "
                               "pass recursive=True to remove them all")
    removed = [info.name for info in selection.objects]
    place.backend.delete_many(removed)
    return removed


# -- the plan ------------------------------------------------------------------------------------
def _copy_selection(
    selection: Selection, destination: Place, overwrite: bool, progress: Progress, verb: str,
    rebind: Rebind | None = None,
) -> tuple[list[tuple[ObjectInfo, str]], list[tuple[ObjectInfo, str]]]:
    """Plan, check and run the copies of a copy or move.

    Returns every (source object, destination name) pair, and those that were copied: all but
    the objects that are their own destination.
    """
    source = selection.place
    pairs = _pairs(selection, destination, verb)
    work = [(info, target) for info, target in pairs if source.location(info.name) != destination.location(target)]
    if work and not overwrite:
        _refuse_existing(destination, [target for _, target in work])
    _copy_all(source, destination, work, progress, rebind)
    return pairs, work


def _pairs(selection: Selection, destination: Place, verb: str) -> list[tuple[ObjectInfo, str]]:
    """(source object, destination name) for each selected object, after refusing overlaps."""
    source = selection.place
    if not selection.objects:
        raise ObjectNotFoundError(source.key or "/", source.backend.describe())
    if not selection.folder:
        return [(selection.objects[0], destination.key)]
    origin, target = source.location(source.key), destination.location(destination.key)
    if origin != target and target.startswith(origin.rstrip("/") + "/"):
        raise CottonCandyError(
            f"Cannot {verb} {origin} into itself: {target} is inside it. "
            f"Choose a destination outside {origin}, or {verb} its objects one by one")
    cut = len(source.key) + 1 if source.key else 0
    pairs = [(info, names.join(destination.key, info.name[cut:])) for info in selection.objects]
    _refuse_overwriting_sources(source, destination, pairs, verb)
    return pairs


def _refuse_overwriting_sources(source: Place, destination: Place, pairs: list[tuple[ObjectInfo, str]],
                                verb: str) -> None:
    """A copy that writes a name another copy of the batch reads would copy what it wrote."""
    sources = {source.location(info.name) for info, _ in pairs}
    clashes = [target for info, target in pairs
               if destination.location(target) in sources
               and destination.location(target) != source.location(info.name)]
    if clashes:
        raise CottonCandyError(
            f"Cannot {verb} {source.location(source.key)} to {destination.location(destination.key)}: "
            f"it would overwrite {_some(clashes)}, which it also reads. "
            f"Choose a destination that does not overlap the source")


def _refuse_existing(destination: Place, targets: list[str]) -> None:
    """Raise ObjectExistsError naming the destination names that exist (one request)."""
    if len(targets) == 1:
        taken = [targets[0]] if destination.backend.exists(targets[0]) else []
    else:
        prefix = destination.key + "/" if destination.key else ""
        existing = {entry.name for entry in destination.backend.list(prefix) if isinstance(entry, ObjectInfo)}
        taken = [target for target in targets if target in existing]
    if taken:
        raise ObjectExistsError(
            f"{_some([destination.location(name) for name in taken])} {'exists' if len(taken) == 1 else 'exist'}: "
            f"pass overwrite=True (on the command line --force) to replace {'it' if len(taken) == 1 else 'them'}")


def _some(shown: list[str]) -> str:
    more = f" and {len(shown) - _SHOWN} more" if len(shown) > _SHOWN else ""
    return ", ".join(shown[:_SHOWN]) + more


# -- the copies ----------------------------------------------------------------------------------
def _copy_all(source: Place, destination: Place, pairs: list[tuple[ObjectInfo, str]], progress: Progress,
              rebind: Rebind | None = None) -> None:
    """Copy every pair, in parallel; a failure stops the copies not yet started and is raised."""
    progress.set_size(sum(info.size for info, _ in pairs))
    server_side = (source.backend.name == destination.backend.name
                   and destination.backend.capabilities.server_side_copy)
    other_bucket = None if source.backend is destination.backend else source.backend.bucket

    def copy_one(pair: tuple[ObjectInfo, str]) -> None:
        info, target = pair
        share = ShareOfTotal(progress, info.size)
        if rebind is not None:
            _copy_rebound(source, destination, info.name, target, share, rebind, server_side, other_bucket)
        elif server_side:
            destination.backend.copy_listed(info, target, source_bucket=other_bucket)
        else:
            _stream(source.backend, info.name, destination.backend, target, share)
        share.finish()

    settings = destination.backend.settings
    threads = settings.getint("basic", "threads", fallback=DEFAULT_THREADS) if settings else DEFAULT_THREADS
    for _ in bounded_map(copy_one, pairs, in_flight=max(1, threads)):
        pass


def _copy_rebound(source: Place, destination: Place, name: str, target: str, progress: Progress,
                  rebind: Rebind, server_side: bool, other_bucket: str | None) -> None:
    """Copy one object with the metadata ``rebind`` gives it: server-side where the backend can."""
    info = source.backend.head(name)  # the metadata and version: listings do not carry them
    version = {} if info.version is None else {"version": info.version}

    def read(start: int, stop: int) -> bytes:  # clipped to the object, as a slice is
        stop = min(stop, info.size)
        if stop <= start:
            return b""
        chunks = source.backend.iter_chunks(name, byte_range=RangeByteRequest(start, stop), **version)
        return b"".join(bytes(c) for c in chunks)

    metadata = rebind(info.metadata, ObjectPlace.of(source.backend, name), ObjectPlace.of(destination.backend, target),
                      read)
    if metadata is None and server_side:
        destination.backend.copy_listed(info, target, source_bucket=other_bucket)
        return
    if server_side:
        try:
            destination.backend.copy_with_metadata(info, target, metadata or info.metadata, source_bucket=other_bucket)
            return
        except UnsupportedOperationError:
            pass
    _stream(source.backend, name, destination.backend, target, progress, info, metadata)


def _stream(source: Backend, name: str, destination: Backend, target: str, progress: Progress,
            info: ObjectInfo | None = None, metadata: Mapping[str, str] | None = None) -> None:
    """Copy the stored bytes and metadata (or ``metadata``) of one object between two backends, not decoded."""
    info = info or source.head(name)  # the metadata: listings do not carry it
    chunks = iter(source.iter_chunks(name, progress=progress))
    with io.BufferedReader(SourceReader.of_chunks(chunks, name), 1 << 20) as stream:
        destination.put(target, Payload(stream=stream, size=info.size), metadata or info.metadata)
