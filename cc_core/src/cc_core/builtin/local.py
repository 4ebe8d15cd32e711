"""The local filesystem backend: the embedded default.

Layout, shared with cottoncandy 0.4: the bucket is a folder; object ``a/b`` is the file
``<bucket>/a/b`` and its metadata the JSON file ``<bucket>/a/b.meta.json`` beside it. Names that
would collide with these files (a segment ending in ``.meta.json``, or named like a temporary file)
are refused, and so is a name that would need a stored object to be a folder as well.

Writes are atomic: data and metadata are written to temporary files in the target folder and
renamed into place. The metadata records the identity of the data file it belongs to (inode, size
and a nanosecond modification time the writer sets, so that a reused inode number is no new
match). Across processes, a writer holds an exclusive ``flock`` on the object's folder across its
two renames and a reader a shared one across its metadata read and data open, so a reader always
pairs data and metadata of one version; a writer that died between its renames is finished by the
next reader. The lock lives on the folder itself: no lock file shows up in listings, and
cottoncandy 0.4 reads the layout as it is. Files written by 0.4 carry no identity record and are
read as they are.

Symbolic links are never followed on the way to an object: files are opened folder by folder with
``O_NOFOLLOW``, and listings skip links.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import stat
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from ..backend import Backend, Capabilities, ObjectInfo, OpenedObject, Prefix
from ..byteranges import ByteRequest, byte_bounds
from ..errors import BucketNotFoundError, ConfigError, InvalidNameError, ObjectChangedError, ObjectNotFoundError
from ..parallel import prefetch_pays, prefetched
from ..payload import DEFAULT_CHUNK_SIZE, Payload
from ..progress import NO_PROGRESS, Progress

META_SUFFIX = ".meta.json"
TEMP_MARKER = ".cc-tmp-"
VERSION_KEY = "cc-local-version"
#: Temporary files are ``.NAME.cc-tmp-<uuid4 hex>``; only names of exactly that form are skipped.
_TEMP_NAME = re.compile(r"\..+" + re.escape(TEMP_MARKER) + r"[0-9a-f]{32}", re.DOTALL)
_READ_ATTEMPTS = 12
#: A delete may remove a writer's freshly made (still empty) folder; the writer makes it again.
_FOLDER_ATTEMPTS = 8
#: Reads handed to an ``on_read`` digest go in windows that stay in the CPU cache.
_DIGEST_WINDOW = 2 << 20
_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
#: O_NONBLOCK: a FIFO planted under an object's name must not hang the reader (regular files ignore it).
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK


class LocalBackend(Backend):
    """Objects as files under a root folder (the bucket), created if it does not exist (as 0.4 did)."""

    capabilities = Capabilities(buckets=True, server_side_copy=True, metadata_after_data=True, read_callback=True,
                                copies_only=True)

    def __init__(self, bucket: str | None, *, fsync: bool | None = None, **options: Any) -> None:
        """A missing root folder is always created (``force_bucket_creation`` is not needed)."""
        if not bucket:
            raise ConfigError("The local backend needs a root folder: get_interface('/path/to/store', backend='local')")
        super().__init__(str(bucket), **options)
        settings = self.settings
        self.root = Path(bucket).expanduser().resolve()
        if fsync is None:
            fsync = bool(settings and settings.getboolean("local", "fsync", fallback=False))
        self.fsync = fsync
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise BucketNotFoundError(
                str(self.root), f"the folder cannot be created ({error.strerror}); give a folder you can write to"
            ) from None

    @property
    def path(self) -> str:
        """The root folder, as cottoncandy 0.4's ``LocalClient.path`` (``cci.backend_interface.path``)."""
        return str(self.root)

    def describe(self) -> str:
        return f"file://{self.root}"

    def pickle_options(self) -> dict[str, Any]:
        return {"fsync": self.fsync}

    # -- paths -----------------------------------------------------------------------------------
    def _path(self, name: str, root: Path | None = None) -> Path:
        """The file of object ``name``; refuses names the layout cannot hold and linked folders."""
        _check_layout_name(name)
        root = root or self.root
        path = root.joinpath(*name.split("/"))
        # names are validated already (no '..'): a parent that resolves elsewhere has a link on its way
        if path.parent.resolve() != path.parent:
            raise ObjectNotFoundError(name, f"file://{root} ({_LINK_REFUSED})")
        return path

    # -- writing ---------------------------------------------------------------------------------
    def put(
        self,
        name: str,
        payload: Payload,
        metadata: Mapping[str, str],
        *,
        progress: Progress = NO_PROGRESS,
        **options: Any,
    ) -> ObjectInfo:
        path = self._path(name)
        self._clear_empty_folder(name, path)
        if payload.size is not None:
            progress.set_size(payload.size)
        data_temp = self._write_temp(name, path, lambda f: self._write_payload(f, payload, progress))
        try:
            with open(data_temp, "rb") as written:
                stamp = time.time_ns()  # a unique version even where the inode number is reused
                os.utime(written.fileno(), ns=(stamp, stamp))
                version, stat = _version_of(written), os.fstat(written.fileno())
            stored = ObjectInfo(name, stat.st_size, dict(metadata), datetime.fromtimestamp(stat.st_mtime, UTC),
                                version)
            record = {**metadata, VERSION_KEY: version}
            encoded = json.dumps(record).encode("utf-8")
            meta_path = path.with_name(path.name + META_SUFFIX)
            meta_temp = self._write_temp(name, meta_path, lambda f: f.write(encoded))
        except BaseException:
            os.unlink(data_temp)
            raise
        data_renamed = False
        try:
            with _locked_folder(path.parent):  # readers in any process see both renames or neither
                try:
                    os.replace(data_temp, path)
                    data_renamed = True
                    _replace_unless_done(meta_temp, meta_path)
                except BaseException:  # interrupted: finish the new version if its data is in place
                    if data_renamed:
                        _replace_unless_done(meta_temp, meta_path)
                    raise
        except BaseException as error:
            if not data_renamed:
                for temp in (data_temp, meta_temp):
                    Path(temp).unlink(missing_ok=True)
                if isinstance(error, IsADirectoryError):  # a folder of that name appeared meanwhile
                    raise self._object_and_folder(name, name, self._first_object_in(name)) from None
            raise
        if self.fsync:
            _fsync_folder(path.parent)
        return stored

    def _clear_empty_folder(self, name: str, path: Path) -> None:
        """Make way for object ``name`` where an empty folder of that name was left; refuse where the
        folder holds objects (a local disk cannot hold object ``z`` beside object ``z/child``)."""
        try:
            path.rmdir()
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError as error:
            if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            raise self._object_and_folder(name, name, self._first_object_in(name)) from None

    def _first_object_in(self, name: str) -> str:
        found = next(self._walk(name + "/"), None)
        return found[0] if found else name + "/..."

    def _object_and_folder(self, name: str, object_name: str, inner_name: str) -> InvalidNameError:
        existing = inner_name if name == object_name else object_name
        return InvalidNameError(
            f"Cannot write {name!r} to {self.describe()}: on a local disk {object_name!r} cannot be both an "
            f"object and the folder of {inner_name!r} (S3 allows it). Remove or move {existing!r}, or "
            "choose another name"
        )

    def _make_folder(self, name: str, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            parts = name.split("/")
            ancestors = ["/".join(parts[:depth]) for depth in range(1, len(parts))]
            blocking = next((a for a in ancestors if self.root.joinpath(*a.split("/")).is_file()), ancestors[-1])
            raise self._object_and_folder(name, blocking, name) from None

    def _write_payload(self, file: BinaryIO, payload: Payload, progress: Progress) -> None:
        if payload.size:
            _reserve(file, payload.size)
        written = 0
        # a stream is a transform's output: produce the next chunk while this one is written
        # (a buffer payload is the array itself: a helper thread would only add CPU time)
        overlap = payload.is_stream and prefetch_pays(payload.size, copies_only=True)
        chunks = prefetched(payload.chunks()) if overlap else payload.chunks()
        for chunk in chunks:
            file.write(chunk)
            written += len(chunk)
            progress.relative_update(len(chunk))
        if payload.size and written < payload.size:  # a stream that ended early: no reserved tail
            file.truncate(written)

    def _write_temp(self, name: str, path: Path, write: Callable[[BinaryIO], Any]) -> str:
        temp = path.with_name(f".{path.name}{TEMP_MARKER}{uuid.uuid4().hex}")
        for attempt in range(_FOLDER_ATTEMPTS):
            self._make_folder(name, path)
            try:
                file = open(temp, "xb")  # noqa: SIM115 -- closed by the ``with file`` below, outside the retry loop
                break
            except FileNotFoundError:  # a delete removed the emptied folder between the two calls
                if attempt == _FOLDER_ATTEMPTS - 1:
                    raise
        try:
            with file:
                write(file)
                if self.fsync:
                    file.flush()
                    os.fsync(file.fileno())
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return str(temp)

    # -- reading ---------------------------------------------------------------------------------
    def _open_data(self, name: str, version: str | None = None) -> BinaryIO:
        """Open the data file; with ``version``, insist on that very version."""
        _check_layout_name(name)
        with _folder_of(self.root, name, self.describe()) as folder:
            file = _open_in(folder, name, name.rpartition("/")[2], self.describe())
        if version is not None and _version_of(file) != version:
            file.close()
            raise ObjectChangedError(f"Object {name!r} in {self.describe()} was replaced while being read")
        return file

    def head(self, name: str) -> ObjectInfo:
        info, file = self._open_version(name)
        file.close()
        return info

    def open_read(self, name: str, *, progress: Progress = NO_PROGRESS,
                  byte_range: ByteRequest | None = None) -> OpenedObject:
        """The metadata and the data file of one version, opened together as :meth:`head` does:
        the bytes (``byte_range``'s) come from that open file, so no writer can change them and no
        second open or version check is needed."""
        info, file = self._open_version(name)
        return _OpenedFile(self, info, file, progress, byte_range)

    def _open_version(self, name: str) -> tuple[ObjectInfo, BinaryIO]:
        """Metadata and size of one version, and its data file, open: metadata read and data file
        opened under a shared lock of the folder, which writers hold exclusively across their two
        renames."""
        _check_layout_name(name)
        file_name = name.rpartition("/")[2]
        for _ in range(_READ_ATTEMPTS):
            with _folder_of(self.root, name, self.describe()) as folder:
                fcntl.flock(folder, fcntl.LOCK_SH)
                metadata = _read_metadata(folder, name, file_name + META_SUFFIX, self.describe())
                file = _open_in(folder, name, file_name, self.describe())
            try:
                version = _version_of(file)
                stat_result = os.fstat(file.fileno())
                expected = metadata.pop(VERSION_KEY, None)
                agree = _same_version(expected, version) if expected is not None else bool(metadata)
                # they disagree though no writer is between its renames: one died there, or the data
                # file was changed outside cottoncandy (then the checksum decides)
                if agree or not self._finish_interrupted_write(name, version):
                    modified = datetime.fromtimestamp(stat_result.st_mtime, UTC)
                    return ObjectInfo(name, stat_result.st_size, metadata, modified, version), file
            except BaseException:
                file.close()
                raise
            file.close()
        raise ObjectChangedError(f"Object {name!r} in {self.describe()} kept changing while being read")

    def _finish_interrupted_write(self, name: str, version: str) -> bool:
        """Put the metadata of data version ``version`` in place if a writer that died between its
        renames left it in a temporary file: the object becomes the complete new version.

        Runs under the folder's exclusive lock, so no live writer is between its renames, and
        checks again that ``version`` is still the data in place. Returns whether the object
        changed (finished here or by someone else): then it is worth reading again.
        """
        where = self.describe()
        file_name = name.rpartition("/")[2]
        meta_name = file_name + META_SUFFIX
        with _folder_of(self.root, name, where) as folder:
            fcntl.flock(folder, fcntl.LOCK_EX)
            with _open_in(folder, name, file_name, where) as file:
                if _version_of(file) != version:
                    return True
            if _read_metadata(folder, name, meta_name, where).get(VERSION_KEY) == version:
                return True
            for entry in os.scandir(folder):
                if not (_TEMP_NAME.fullmatch(entry.name) and entry.name.startswith(f".{meta_name}{TEMP_MARKER}")):
                    continue
                try:
                    record = _read_metadata(folder, name, entry.name, where)
                except ValueError:  # a temporary file still being written
                    continue
                if record.get(VERSION_KEY) == version:
                    os.replace(entry.name, meta_name, src_dir_fd=folder, dst_dir_fd=folder)
                    return True
        return False

    def get_into(
        self, name: str, buffer: memoryview, *, byte_range: ByteRequest | None = None, version: str | None = None,
        progress: Progress = NO_PROGRESS, on_read: Callable[[memoryview], None] | None = None,
    ) -> int:
        """Read into ``buffer``; ``on_read`` gets each filled window while it is still in cache."""
        with self._open_data(name, version) as file:
            start, stop = byte_bounds(byte_range, os.fstat(file.fileno()).st_size)
            view = buffer.cast("B") if buffer.format != "B" else buffer
            return _read_file_into(file, start, view[: max((stop or 0) - start, 0)], on_read, progress)

    def iter_chunks(
        self,
        name: str,
        *,
        byte_range: ByteRequest | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        version: str | None = None,
        progress: Progress = NO_PROGRESS,
    ) -> Iterator[bytes]:
        with self._open_data(name, version) as file:
            start, stop = byte_bounds(byte_range, os.fstat(file.fileno()).st_size)
            file.seek(start)
            remaining = None if stop is None else max(stop - start, 0)
            while remaining is None or remaining > 0:
                block = file.read(chunk_size if remaining is None else min(chunk_size, remaining))
                if not block:
                    return
                if remaining is not None:
                    remaining -= len(block)
                progress.relative_update(len(block))
                yield block

    # -- listing ---------------------------------------------------------------------------------
    def list(self, prefix: str = "", delimiter: str | None = None) -> Iterator[ObjectInfo | Prefix]:
        if delimiter == "/":
            entries = list(self._scan_folder(prefix))
        else:
            entries = []
            seen_prefixes: set[str] = set()
            for name, stat_result in self._walk(prefix):
                cut = name.find(delimiter, len(prefix)) if delimiter else -1
                if cut >= 0:
                    rolled = name[: cut + len(delimiter)]  # type: ignore[arg-type]
                    if rolled not in seen_prefixes:
                        seen_prefixes.add(rolled)
                        entries.append(Prefix(rolled))
                    continue
                entries.append(_info(name, stat_result))
        entries.sort(key=lambda entry: entry.name)
        return iter(entries)

    def _start_folder(self, prefix: str) -> tuple[str, Path | None]:
        """The folder ``prefix`` ends in, or None where a link lies on its way (nothing to list)."""
        folder = prefix.rpartition("/")[0]
        start = self.root.joinpath(*folder.split("/")) if folder else self.root
        return folder, (start if start.resolve() == start else None)

    def _scan_folder(self, prefix: str) -> Iterator[ObjectInfo | Prefix]:
        """Objects and sub-folders of the one folder ``prefix`` ends in: no walk below it."""
        folder, start = self._start_folder(prefix)
        base = folder + "/" if folder else ""
        for entry in _entries(start):
            name = base + entry.name
            if not name.startswith(prefix) or _is_bookkeeping(entry.name):
                continue
            if entry.is_dir(follow_symlinks=False):
                if next(_objects_below(entry.path, "", ""), None) is not None:
                    yield Prefix(name + "/")
            elif entry.is_file(follow_symlinks=False):
                yield _info(name, entry.stat(follow_symlinks=False))

    def _walk(self, prefix: str) -> Iterator[tuple[str, os.stat_result]]:
        """(name, stat) of every object whose name starts with ``prefix``, pruning other folders."""
        folder, start = self._start_folder(prefix)
        return _objects_below(start, folder + "/" if folder else "", prefix)

    # -- copying and deleting --------------------------------------------------------------------
    def copy(self, source: str, destination: str, *, source_bucket: str | None = None) -> None:
        self._path(destination)  # a name the layout cannot hold is refused before anything is read
        backend = self._source_backend(source, source_bucket)
        info = backend.head(source)
        with backend._open_data(source, info.version) as file:
            self.put(destination, Payload(stream=file, size=info.size), info.metadata)

    def copy_with_metadata(self, source: ObjectInfo, destination: str, metadata: Mapping[str, str], *,
                           source_bucket: str | None = None) -> None:
        self._path(destination)
        backend = self._source_backend(source.name, source_bucket)
        with backend._open_data(source.name, source.version) as file:
            self.put(destination, Payload(stream=file, size=source.size), metadata)

    def _source_backend(self, source: str, source_bucket: str | None) -> LocalBackend:
        if source_bucket is None:
            return self
        source_root = Path(source_bucket).expanduser().resolve()
        if not source_root.is_dir():  # a source bucket is read, never created
            raise ObjectNotFoundError(source, f"file://{source_root}")
        return LocalBackend(str(source_root), settings=self.settings)

    def delete_many(self, names: Iterable[str]) -> None:
        for name in names:
            path = self._path(name)
            try:
                with _locked_folder(path.parent):  # never data of one version beside metadata of none
                    for doomed in (path, path.with_name(path.name + META_SUFFIX)):
                        doomed.unlink(missing_ok=True)
            except (FileNotFoundError, NotADirectoryError):
                continue
            self._remove_empty_folders(path.parent)

    def _remove_empty_folders(self, folder: Path) -> None:
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    # -- buckets: folders ------------------------------------------------------------------------
    def list_buckets(self) -> list[str]:
        """Sibling folders of the root folder (the root's parent is the "account")."""
        return sorted(str(p) for p in self.root.parent.iterdir() if p.is_dir())

    def bucket_exists(self, bucket: str) -> bool:
        return Path(bucket).expanduser().is_dir()

    def create_bucket(self, bucket: str, **options: Any) -> None:
        Path(bucket).expanduser().mkdir(parents=True, exist_ok=True)

    def delete_bucket(self, bucket: str) -> None:
        folder = Path(bucket).expanduser().resolve()
        if any(folder.iterdir()):
            raise OSError(f"Bucket folder {folder} is not empty; remove its objects first")
        shutil.rmtree(folder)


_LINK_REFUSED = "a symbolic link is on its way, and the local backend follows no links"


def _check_layout_name(name: str) -> None:
    """Refuse a name with a segment the layout uses for its own files."""
    for segment in name.split("/"):
        if segment.endswith(META_SUFFIX):
            raise InvalidNameError(
                f"Object name {name!r} cannot be stored by the local backend: its part {segment!r} ends in "
                f"{META_SUFFIX!r}, which is how the metadata file beside each object is named (the layout "
                "of cottoncandy 0.4); choose another name"
            )
        if _TEMP_NAME.fullmatch(segment):
            raise InvalidNameError(
                f"Object name {name!r} cannot be stored by the local backend: its part {segment!r} has the "
                f"form of the temporary files it writes ('.NAME{TEMP_MARKER}<32 hex digits>'); choose another name"
            )


def _is_bookkeeping(file_name: str) -> bool:
    """Metadata sidecars and temporary files are not objects."""
    return file_name.endswith(META_SUFFIX) or _TEMP_NAME.fullmatch(file_name) is not None


def _entries(folder: Path | str | None) -> list[os.DirEntry]:
    if folder is None:
        return []
    try:
        return list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _objects_below(folder: Path | str | None, base: str, prefix: str) -> Iterator[tuple[str, os.stat_result]]:
    """(name, stat) of the objects below ``folder`` (named ``base + ...``) that start with
    ``prefix``; folders that cannot hold such names are pruned, links are skipped."""
    for entry in _entries(folder):
        if _is_bookkeeping(entry.name):
            continue
        name = base + entry.name
        if entry.is_dir(follow_symlinks=False):
            if (name + "/").startswith(prefix) or prefix.startswith(name + "/"):
                yield from _objects_below(entry.path, name + "/", prefix)
        elif entry.is_file(follow_symlinks=False) and name.startswith(prefix):
            yield name, entry.stat(follow_symlinks=False)


class _OpenedFile(OpenedObject):
    """A read of the data file opened with its metadata (:meth:`LocalBackend.open_read`)."""

    def __init__(self, backend: LocalBackend, info: ObjectInfo, file: BinaryIO, progress: Progress,
                 byte_range: ByteRequest | None = None) -> None:
        super().__init__(backend, info, progress, byte_range)
        self._file = file

    def readinto(self, buffer: memoryview, on_read: Callable[[memoryview], None] | None = None) -> int:
        count = _read_file_into(self._file, self.position, buffer[: max(self.end - self.position, 0)],
                                on_read, self.progress)
        self.position += count
        return count

    def chunks(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        try:
            self._file.seek(self.position)
            while self.position < self.end and (block := self._file.read(min(chunk_size, self.end - self.position))):
                self.position += len(block)
                self.progress.relative_update(len(block))
                yield block
        finally:
            self.close()

    def close(self) -> None:
        self._file.close()


def _read_file_into(file: BinaryIO, start: int, view: memoryview, on_read: Callable[[memoryview], None] | None,
                    progress: Progress) -> int:
    """Fill ``view`` from ``file`` at ``start`` (fewer bytes only where the file ends), reading
    straight into it; ``on_read`` gets each filled window while it is still in cache."""
    window = (64 << 20) if on_read is None else _DIGEST_WINDOW
    file.seek(start)
    raw = file.raw if hasattr(file, "raw") else file
    total = 0
    while total < len(view):
        count = raw.readinto(view[total : total + window])
        if not count:
            break
        if on_read is not None:
            on_read(view[total : total + count])
        total += count
        progress.relative_update(count)
    return total


def _info(name: str, stat_result: os.stat_result) -> ObjectInfo:
    return ObjectInfo(name, stat_result.st_size, {}, datetime.fromtimestamp(stat_result.st_mtime, UTC))


@contextmanager
def _folder_of(root: Path, name: str, where: str) -> Iterator[int]:
    """A descriptor of the folder that holds object ``name``, reached one folder at a time
    without following any link; closing it releases any ``flock`` taken on it."""
    descriptor = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for folder in name.split("/")[:-1]:
            try:
                inner = os.open(folder, _FOLDER_FLAGS, dir_fd=descriptor)
            except (FileNotFoundError, NotADirectoryError):
                link = _is_link(folder, descriptor)
                raise ObjectNotFoundError(name, f"{where} ({_LINK_REFUSED})" if link else where) from None
            os.close(descriptor)
            descriptor = inner
        yield descriptor
    finally:
        os.close(descriptor)


def _open_in(folder: int, name: str, file_name: str, where: str, *, missing_ok: bool = False) -> BinaryIO | None:
    """Open the regular file ``file_name`` of ``folder`` (a file of object ``name``) for reading;
    a link is refused, and anything else (a folder, a FIFO) is no object. None if it is missing
    and ``missing_ok``."""
    try:
        descriptor = os.open(file_name, _FILE_FLAGS, dir_fd=folder)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ObjectNotFoundError(name, f"{where} ({_LINK_REFUSED})") from None
        if error.errno in (errno.ENOENT, errno.ENOTDIR):
            if missing_ok:
                return None
            raise ObjectNotFoundError(name, where) from None
        raise
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise ObjectNotFoundError(name, where)
    return os.fdopen(descriptor, "rb")


def _read_metadata(folder: int, name: str, file_name: str, where: str) -> dict[str, Any]:
    """The JSON metadata file ``file_name`` of ``folder``; ``{}`` if there is none."""
    file = _open_in(folder, name, file_name, where, missing_ok=True)
    if file is None:
        return {}
    with file:
        return json.loads(file.read())


def _is_link(file_name: str, folder: int) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(file_name, dir_fd=folder).st_mode)
    except OSError:
        return False


@contextmanager
def _locked_folder(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s exclusive ``flock``: across processes, one writer (or deleter) at a time
    between its renames (or unlinks), and no reader between them. A folder removed and made again
    while waiting is a different folder: lock the one now at that path."""
    while True:
        descriptor = os.open(folder, _FOLDER_FLAGS)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            held, current = os.fstat(descriptor), os.stat(folder, follow_symlinks=False)
            if (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino):
                yield
                return
        finally:
            os.close(descriptor)


def _reserve(file: BinaryIO, size: int) -> None:
    """Allocate the file's blocks before writing them, as ``ndarray.tofile`` does.

    Writing into a file that grows block by block costs 3-4x more than into reserved blocks on
    common Linux filesystems (128 MiB: 80 ms against 21 ms here). Where the filesystem or the
    platform cannot reserve, the write goes ahead as it is.
    """
    allocate = getattr(os, "posix_fallocate", None)
    if allocate is None:
        return
    with suppress(OSError):
        allocate(file.fileno(), 0, size)


def _version_of(file: BinaryIO) -> str:
    stat_result = os.fstat(file.fileno())
    return f"{stat_result.st_ino}:{stat_result.st_size}:{stat_result.st_mtime_ns}"


def _same_version(expected: str, version: str) -> bool:
    """Whether metadata recording ``expected`` belongs to data file ``version``; records written
    before the modification time was part of it hold only inode and size."""
    return version == expected or version.startswith(expected + ":")


def _replace_unless_done(meta_temp: str, meta_path: Path) -> None:
    """Rename the new metadata into place, unless an interrupted earlier call did already."""
    try:
        os.replace(meta_temp, meta_path)
    except FileNotFoundError:
        if not meta_path.exists():
            raise


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
