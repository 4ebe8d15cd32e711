"""The Google Drive backend: objects are files in a folder tree on Drive.

How names map to Drive (also in this package's README):

- The bucket is a folder path from the top of My Drive (``"/"`` or None: My Drive itself); an
  object name is a path below it. Folders are created as needed when uploading.
- Drive allows several files (and folders) with the same title in one folder. A name resolves,
  folder by folder, to the **oldest** folder of that title (ties: the smaller id) and, in the last
  folder, to the **newest** file of that title (latest ``createdDate``, ties: the larger id).
  Trashed items, Google Docs/Sheets/shortcuts, and titles containing ``/`` are ignored.
- Overwriting uploads a new file under the same title and then deletes the older ones. Readers
  see the old file until the new one is complete, then the new one: never a partial file. A failed
  upload leaves nothing (Drive creates a file only when its upload completes). The file id
  changes on every overwrite; it is the object's ``version``, so a read that started on one
  version never returns bytes of another.
- Metadata is stored in the file's properties (see :mod:`cc_backend_gdrive.properties`) and comes
  back with every listing and lookup: reading an array's dtype and shape downloads no content.
- Deleting an object deletes its file permanently (``trash=True``: moves it to the trash) and
  removes folders it leaves empty, up to the bucket folder.
"""

from __future__ import annotations

import builtins
import io
import pathlib
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, BinaryIO, Literal, cast, overload

from googleapiclient.errors import HttpError

from cc_core.backend import Backend, Capabilities, ObjectInfo, Prefix
from cc_core.byteranges import ByteRequest, SuffixByteRequest, byte_bounds
from cc_core.config import default_config, parse_size
from cc_core.errors import (
    BucketNotFoundError,
    ConfigError,
    ObjectChangedError,
    ObjectNotFoundError,
)
from cc_core.payload import DEFAULT_CHUNK_SIZE, Payload
from cc_core.progress import NO_PROGRESS, Progress
from cc_core.retry import RetryPolicy

from .auth import AuthFiles, DriveClient, authenticate
from .media import MIMETYPE, PayloadMedia
from .properties import METADATA_LIMIT, decode_properties, encode_properties
from .retry import DRIVE_RETRY, DRIVE_RETRY_KEYS, call as retrying, status_of

FOLDER = "application/vnd.google-apps.folder"
GOOGLE_APPS_PREFIX = "application/vnd.google-apps."
FILE_FIELDS = "id,title,mimeType,fileSize,createdDate,modifiedDate,parents(id),properties(key,value,visibility)"
LIST_FIELDS = f"nextPageToken,items({FILE_FIELDS})"
PAGE_SIZE = 1000
#: Folders listed by one query (``'a' in parents or 'b' in parents ...``) when walking a tree.
PARENTS_PER_QUERY = 20
#: Seconds a folder's id is trusted before it is looked up again.
FOLDER_CACHE_SECONDS = 60.0
RESUMABLE_GRANULARITY = 256 * 1024

FolderPath = tuple[str, ...]

_clients: dict[tuple[Any, ...], DriveClient] = {}
_clients_lock = threading.Lock()


def quote(text: str) -> str:
    """A string literal for a Drive query."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def segments(path: str | None) -> FolderPath:
    """``"/a/b/"`` -> ``("a", "b")``."""
    return tuple(part for part in (path or "").split("/") if part)


def _timestamp(record: Mapping[str, Any]) -> datetime:
    text = record.get("createdDate") or "1970-01-01T00:00:00Z"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def newest(records: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The file a name resolves to: latest ``createdDate``, then the larger id."""
    return max(records, key=lambda r: (_timestamp(r), r["id"]), default=None)


def oldest(records: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The folder a name resolves to: earliest ``createdDate``, then the smaller id."""
    return min(records, key=lambda r: (_timestamp(r), r["id"]), default=None)


def _is_object(record: Mapping[str, Any]) -> bool:
    return not record.get("mimeType", "").startswith(GOOGLE_APPS_PREFIX) and "/" not in record.get("title", "/")


class FolderCache:
    """Folder ids by path, trusted for :data:`FOLDER_CACHE_SECONDS`; shared by one account's backends."""

    def __init__(self) -> None:
        self._ids: dict[FolderPath, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, path: FolderPath) -> str | None:
        with self._lock:
            entry = self._ids.get(path)
        if entry is None or time.monotonic() - entry[1] > FOLDER_CACHE_SECONDS:
            return None
        return entry[0]

    def set(self, path: FolderPath, folder_id: str) -> None:
        with self._lock:
            self._ids[path] = (folder_id, time.monotonic())

    def forget(self, path: FolderPath) -> None:
        """Forget ``path`` and everything below it."""
        with self._lock:
            for key in [k for k in self._ids if k[: len(path)] == path]:
                del self._ids[key]


def _client(files: AuthFiles, endpoint_url: str | None, timeout: float, interactive: bool | None) -> DriveClient:
    key = (files, endpoint_url, timeout)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            auth = authenticate(files, timeout=timeout, interactive=interactive)
            client = _clients[key] = DriveClient(auth, endpoint_url)
            client.folders = FolderCache()  # type: ignore[attr-defined]
        return client


def _path_option(value: str | None, suffixes: tuple[str, ...]) -> str | None:
    """An ``ACCESS_KEY``/``SECRET_KEY`` value that names a file (0.4 passed paths there).

    S3 keys from ``[login]`` are not paths: they are ignored rather than taken for file names.
    """
    if not value:
        return None
    if "/" in value or "\\" in value or value.endswith(suffixes) or pathlib.Path(value).expanduser().exists():
        return value
    return None


class GDriveBackend(Backend):
    """Objects as files in a Google Drive folder tree (Drive API v2 through pydrive2).

    Parameters
    ----------
    bucket : str or None
        Root folder path on Drive (``"/project/data"``); ``"/"`` or None is My Drive itself.
    settings : cc_core.config.Config, optional
        Read for the ``[gdrive]`` section: ``secrets``, ``credentials``, ``service_account_key``
        and the tuning keys below (as ``chunk_size = 8MB`` ...).
    access_key, secret_key : str, optional
        Paths of the client secrets and saved credentials files (cottoncandy 0.4's convention).
    endpoint_url : str, optional
        A Drive-compatible server that serves its own discovery document (tests); default Google.
    force_bucket_creation : bool
        Create the root folder if it does not exist.
    secrets_file, credentials_file, service_account_key : str, optional
        Authentication files (see :mod:`cc_backend_gdrive.auth`); default from ``[gdrive]``.
    chunk_size : int
        Bytes per resumable upload request, a multiple of 256 KiB; default 8 MiB.
    resumable_threshold : int
        Objects larger than this upload resumably; smaller ones in one request. Default 5 MiB.
    download_chunk_size : int
        Bytes per ranged download request; default 16 MiB.
    retries : int
        Retries of a transient failure (429, 5xx, rate limits, dropped connections); default 6.
    retry_delay : float
        Seconds before the first retry, doubled each time; default 1.
    timeout : float
        Seconds before a request times out (and is retried); default 120.
    trash : bool
        Move deleted files to the trash instead of deleting them for good; default False.
    interactive : bool, optional
        Allow a browser sign-in when no credentials are saved; default: when stdin is a terminal.
    """

    capabilities = Capabilities(buckets=True, server_side_copy=True, metadata_limit=METADATA_LIMIT)

    def __init__(
        self,
        bucket: str | None,
        *,
        settings: Any = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        endpoint_url: str | None = None,
        force_bucket_creation: bool = False,
        secrets_file: str | None = None,
        credentials_file: str | None = None,
        service_account_key: str | None = None,
        chunk_size: int | str | None = None,
        resumable_threshold: int | str | None = None,
        download_chunk_size: int | str | None = None,
        retries: int | None = None,
        retry_delay: float | None = None,
        timeout: float | None = None,
        trash: bool | None = None,
        interactive: bool | None = None,
    ) -> None:
        self._root = segments(bucket)
        super().__init__("/" + "/".join(self._root), settings=settings)
        self._pickled: dict[str, Any] = {}
        secrets_file = secrets_file or _path_option(access_key, (".json",))
        credentials_file = credentials_file or _path_option(secret_key, (".txt", ".json", ".dat"))
        if access_key and secrets_file == access_key:
            self._pickled["secrets_file"] = access_key
        if secret_key and credentials_file == secret_key:
            self._pickled["credentials_file"] = secret_key
        self.chunk_size = self._size_setting("chunk_size", chunk_size, 8 << 20)
        if self.chunk_size <= 0 or self.chunk_size % RESUMABLE_GRANULARITY:
            raise ConfigError(
                f"[gdrive] chunk_size = {self.chunk_size} must be a positive multiple of 256 KiB "
                "(262144 bytes): Google Drive refuses other resumable chunk sizes"
            )
        self.resumable_threshold = self._size_setting("resumable_threshold", resumable_threshold, 5 << 20)
        self.download_chunk_size = max(1, self._size_setting("download_chunk_size", download_chunk_size, 16 << 20))
        config = settings if settings is not None else default_config()
        self.trash = _boolean(trash) if trash is not None else config.getboolean("gdrive", "trash", fallback=False)
        if retries is None:
            retries = config.getint("gdrive", "retries", fallback=None)
        self._retry = RetryPolicy.from_config(settings, "gdrive", defaults=DRIVE_RETRY, keys=DRIVE_RETRY_KEYS,
                                              attempts=None if retries is None else 1 + int(retries),
                                              base_delay=retry_delay)
        timeout = float(timeout if timeout is not None else config.getfloat("gdrive", "timeout", fallback=120.0))
        files = AuthFiles.from_settings(settings, secrets_file, credentials_file, service_account_key)
        self._client = _client(files, endpoint_url, timeout, interactive)
        self._folders: FolderCache = self._client.folders  # type: ignore[attr-defined]
        if self._root and self._folder_id(self._root, create=force_bucket_creation) is None:
            raise BucketNotFoundError(
                self.bucket or "/",
                "no such folder on Google Drive: create it or pass force_bucket_creation=True",
            )

    # -- settings --------------------------------------------------------------------------------
    def _size_setting(self, key: str, value: int | str | None, default: int) -> int:
        """A size given in code (bytes, or ``"8MB"``), else ``[gdrive] key`` (a plain number is bytes)."""
        if isinstance(value, int):
            return value
        if value is not None and str(value).strip():
            try:
                return parse_size(str(value))
            except ValueError:
                raise ConfigError(f"GDriveBackend {key}={value!r} is not a size such as 8MB") from None
        if self.settings is None:
            return default
        return int(self.settings.getsize("gdrive", key, fallback=default))

    def describe(self) -> str:
        return f"gdrive:{self.bucket}"

    def pickle_options(self) -> dict[str, Any]:
        return dict(self._pickled)

    # -- requests --------------------------------------------------------------------------------
    def _drive_path(self, name: str = "", root: FolderPath | None = None) -> str:
        return "/" + "/".join((self._root if root is None else root) + segments(name))

    def _call(self, make_request: Callable[[Any], Any], what: str, path: str) -> Any:
        """Build a request from ``files()`` and execute it with retries."""
        return retrying(self._retry, lambda: make_request(self._client.files()).execute(http=self._client.http()),
                        what, path)

    def _list(self, query: str, what: str, path: str) -> Iterator[dict[str, Any]]:
        """Every item a ``files.list`` query returns, page after page."""
        token = None
        while True:
            page = self._call(
                lambda files: files.list(q=query, maxResults=PAGE_SIZE, pageToken=token, fields=LIST_FIELDS),  # noqa: B023 -- run at once
                what, path,
            )
            yield from page.get("items", [])
            token = page.get("nextPageToken")
            if not token:
                return

    def _children(self, parent_ids: Iterable[str], path: str, extra: str = "") -> Iterator[dict[str, Any]]:
        parents = " or ".join(f"{quote(p)} in parents" for p in parent_ids)
        yield from self._list(f"({parents}) and trashed = false{extra}", "listing", path)

    def _titled(self, parent_id: str, title: str, *, folder: bool, path: str) -> list[dict[str, Any]]:
        kind = f" and mimeType {'=' if folder else '!='} {quote(FOLDER)}"
        found = self._children([parent_id], path, f" and title = {quote(title)}{kind}")
        return [r for r in found if r.get("title") == title and (folder or _is_object(r))]

    # -- folders ---------------------------------------------------------------------------------
    @overload
    def _folder_id(self, path: FolderPath, *, create: Literal[True], fresh: bool = False) -> str: ...
    @overload
    def _folder_id(self, path: FolderPath, *, create: bool = False, fresh: bool = False) -> str | None: ...

    def _folder_id(self, path: FolderPath, *, create: bool = False, fresh: bool = False) -> str | None:
        """The id of the folder at ``path`` (from the top of My Drive), creating it if asked."""
        if not path:  # My Drive: its real id, which listings report as the parent
            return self._folders.get(path) or self._my_drive_id()
        if not fresh:
            cached = self._folders.get(path)
            if cached is not None:
                return cached
        parent = self._folder_id(path[:-1], create=create, fresh=fresh)
        if parent is None:
            return None
        display = "/" + "/".join(path)
        chosen = oldest(self._titled(parent, path[-1], folder=True, path=display))
        if chosen is None:
            if not create:
                return None
            chosen = self._make_folder(parent, path)
        self._folders.set(path, chosen["id"])
        return chosen["id"]

    def _my_drive_id(self) -> str:
        record = self._call(lambda files: files.get(fileId="root", fields="id"), "lookup", "/")
        self._folders.set((), record["id"])
        return record["id"]

    def _make_folder(self, parent: str, path: FolderPath) -> Mapping[str, Any]:
        display = "/" + "/".join(path)
        body = {"title": path[-1], "mimeType": FOLDER, "parents": [{"id": parent}]}
        made = self._call(lambda files: files.insert(body=body, fields=FILE_FIELDS), "folder creation", display)
        # Two writers may have created the folder at once: all of them settle on the oldest.
        chosen = oldest(self._titled(parent, path[-1], folder=True, path=display)) or made
        if chosen["id"] != made["id"]:
            self._remove([made["id"]], display)
        return chosen

    def _cached_lookup(self, path: FolderPath, lookup: Callable[[str], Any]) -> Any:
        """Run ``lookup(folder_id)``; on a miss through a cached folder id, look the folder up again."""
        was_cached = self._folders.get(path) is not None
        folder = self._folder_id(path)
        found = lookup(folder) if folder is not None else None
        if not found and was_cached:
            self._folders.forget(path)
            folder = self._folder_id(path, fresh=True)
            found = lookup(folder) if folder is not None else None
        return found

    # -- objects ---------------------------------------------------------------------------------
    def _split(self, name: str, root: FolderPath | None = None) -> tuple[FolderPath, str]:
        full = (self._root if root is None else root) + segments(name)
        return full[:-1], full[-1]

    def _lookup(self, name: str, root: FolderPath | None = None) -> Mapping[str, Any] | None:
        folder, title = self._split(name, root)
        display = self._drive_path(name, root)
        return self._cached_lookup(folder, lambda fid: newest(self._titled(fid, title, folder=False, path=display)))

    def _record(self, name: str) -> Mapping[str, Any]:
        record = self._lookup(name)
        if record is None:
            raise ObjectNotFoundError(name, self.describe())
        return record

    def _info(self, name: str, record: Mapping[str, Any]) -> ObjectInfo:
        modified = record.get("modifiedDate")
        return ObjectInfo(
            name,
            int(record.get("fileSize") or 0),
            decode_properties(record.get("properties")),
            datetime.fromisoformat(modified.replace("Z", "+00:00")) if modified else None,
            record["id"],
        )

    def head(self, name: str) -> ObjectInfo:
        return self._info(name, self._record(name))

    def put(
        self,
        name: str,
        payload: Payload,
        metadata: Mapping[str, str],
        *,
        progress: Progress = NO_PROGRESS,
        **options: Any,
    ) -> ObjectInfo:
        properties = encode_properties(metadata, name)
        folder, title = self._split(name)
        payload = self._sized(payload)
        resumable = payload.size is None or payload.size > self.resumable_threshold
        for attempt in range(2):
            parent = self._folder_id(folder, create=True, fresh=attempt > 0)
            body = {"title": title, "mimeType": MIMETYPE, "parents": [{"id": parent}], "properties": properties}
            media = PayloadMedia(payload, self.chunk_size, resumable)
            try:
                created = self._upload(body, media, name, progress)
                break
            except ObjectNotFoundError:  # the cached folder was removed meanwhile: find or make it again
                if attempt or not media.restartable():
                    raise
                self._folders.forget(folder)
        recorded = encode_properties(metadata, name)
        if recorded != properties:  # a streamed payload's checksum, known once it was read
            self._call(lambda files: files.patch(fileId=created["id"], body={"properties": recorded}, fields="id"),
                       "update of the properties", self._drive_path(name))
        self._remove_older(parent, title, created)
        return self._info(name, created)

    def _sized(self, payload: Payload) -> Payload:
        """A small stream of unknown size read into memory (multipart uploads need the size)."""
        if not payload.is_stream or (payload.size is not None and payload.size > self.resumable_threshold):
            return payload
        assert payload.stream is not None
        head = payload.stream.read(self.resumable_threshold + 1)
        if len(head) <= self.resumable_threshold:
            return Payload([head])
        rest = payload.stream
        size = None if payload.size is None else payload.size
        return Payload(stream=cast(BinaryIO, _Chained(head, rest)), size=size)  # a raw binary reader

    def _upload(self, body: dict[str, Any], media: PayloadMedia, name: str, progress: Progress) -> Mapping[str, Any]:
        path = self._drive_path(name)
        size = media.size()
        if size is not None:
            progress.set_size(size)
        if not media.resumable():
            created = self._call(lambda files: files.insert(body=body, media_body=media, fields=FILE_FIELDS),
                                 "upload", path)
            progress.relative_update(size or 0)
            return created
        request = self._client.files().insert(body=body, media_body=media, fields=FILE_FIELDS)
        counted = 0

        def step() -> tuple[Any, Any]:
            try:
                return request.next_chunk(http=self._client.http())
            except HttpError as error:
                if status_of(error) in (404, 410) and request.resumable_uri is not None and media.restartable():
                    request.resumable_uri, request.resumable_progress = None, 0  # session expired
                    raise _SessionExpired(str(error)) from error
                raise

        response = None
        while response is None:
            status, response = retrying(self._retry, step, "upload", path)
            done = status.resumable_progress if status is not None else (size or request.resumable_progress)
            if response is not None and size is None:
                done = int(response.get("fileSize") or done)
            if done > counted:
                progress.relative_update(done - counted)
                counted = done
        return response

    def _remove_older(self, parent: str, title: str, keep: Mapping[str, Any]) -> None:
        """Delete the files this one replaces (same title, created before it)."""
        path = self._drive_path()
        rank = (_timestamp(keep), keep["id"])
        older = [r["id"] for r in self._titled(parent, title, folder=False, path=path)
                 if (_timestamp(r), r["id"]) < rank]
        self._remove(older, path)

    def _remove(self, file_ids: Iterable[str], path: str) -> None:
        for file_id in file_ids:
            try:
                if self.trash:
                    self._call(lambda files: files.trash(fileId=file_id, fields="id"), "trash", path)  # noqa: B023 -- run at once
                else:
                    self._call(lambda files: files.delete(fileId=file_id), "delete", path)  # noqa: B023 -- run at once
            except ObjectNotFoundError:
                pass  # removed by someone else meanwhile

    # -- reading ---------------------------------------------------------------------------------
    def _source(self, name: str, version: str | None) -> tuple[str, int | None]:
        if version is not None:
            return version, None
        record = self._record(name)
        return record["id"], int(record.get("fileSize") or 0)

    def _bounds(self, name: str, byte_range: ByteRequest | None, size: int | None) -> tuple[int, int | None]:
        """``(start, stop)`` of a range; a suffix of a file whose size is not known costs a lookup."""
        if size is None and isinstance(byte_range, SuffixByteRequest):
            size = self.head(name).size
        return byte_bounds(byte_range, size)

    def _download(self, name: str, file_id: str, start: int, length: int, versioned: bool) -> bytes:
        """Bytes ``[start, start + length)`` of a file; fewer at its end."""

        def fetch() -> bytes:
            request = self._client.files().get_media(fileId=file_id)
            asked = f"bytes={start}-{start + length - 1}"
            request.headers["range"] = asked
            answer: dict[str, Any] = {}
            decode = request.postproc

            def keep_headers(response: Any, content: bytes) -> Any:
                answer.update(response)
                return decode(response, content)

            request.postproc = keep_headers
            try:
                data = request.execute(http=self._client.http())
            except HttpError as error:
                if status_of(error) == 416:  # the range starts at or after the end
                    return b""
                raise
            return _served(data, answer, start, length, asked)

        try:
            data = retrying(self._retry, fetch, "download", self._drive_path(name))
        except ObjectNotFoundError:
            if versioned and self._lookup(name) is not None:
                raise ObjectChangedError(
                    f"Object {name!r} in {self.describe()} was replaced while being read; read it again"
                ) from None
            raise ObjectNotFoundError(name, self.describe()) from None
        return data

    def get_into(
        self,
        name: str,
        buffer: memoryview,
        *,
        byte_range: ByteRequest | None = None,
        version: str | None = None,
        progress: Progress = NO_PROGRESS,
        on_read: Any = None,
    ) -> int:
        file_id, size = self._source(name, version)
        view = buffer.cast("B") if buffer.format != "B" else buffer
        offset, stop = self._bounds(name, byte_range, size)
        if stop is not None:
            view = view[: max(stop - offset, 0)]
        end = offset + len(view) if size is None else min(offset + len(view), size)
        written = 0
        while offset + written < end:
            wanted = min(self.download_chunk_size, end - offset - written)
            data = self._download(name, file_id, offset + written, wanted, version is not None)
            view[written : written + len(data)] = data
            written += len(data)
            progress.relative_update(len(data))
            if len(data) < wanted:
                break
        return written

    def iter_chunks(
        self,
        name: str,
        *,
        byte_range: ByteRequest | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        version: str | None = None,
        progress: Progress = NO_PROGRESS,
    ) -> Iterator[memoryview]:
        file_id, size = self._source(name, version)
        start, stop = self._bounds(name, byte_range, size)
        position = start
        request_size = max(chunk_size, self.download_chunk_size)  # one request, handed out in chunk_size views
        while stop is None or position < stop:
            wanted = request_size if stop is None else min(request_size, stop - position)
            data = memoryview(self._download(name, file_id, position, wanted, version is not None))
            for offset in range(0, len(data), chunk_size):
                progress.relative_update(len(data[offset : offset + chunk_size]))
                yield data[offset : offset + chunk_size]
            position += len(data)
            if len(data) < wanted:
                return

    # -- listing ---------------------------------------------------------------------------------
    def list(self, prefix: str = "", delimiter: str | None = None) -> Iterator[ObjectInfo | Prefix]:
        folder_part, _, start = prefix.rpartition("/")
        base = self._root + segments(folder_part)
        entries = self._cached_lookup(base, lambda fid: self._walk(fid, folder_part, start, delimiter == "/"))
        entries = sorted(entries or [], key=lambda e: e.name)
        if delimiter and delimiter != "/":
            entries = _roll_up(entries, prefix, delimiter)
        return iter(entries)

    def _walk(self, folder_id: str, folder_part: str, start: str, roll_up: bool) -> builtins.list[ObjectInfo | Prefix]:
        """Objects under a folder whose first path segment starts with ``start``."""
        base = folder_part + "/" if folder_part else ""
        files: dict[str, Mapping[str, Any]] = {}
        prefixes: set[str] = set()
        pending: list[tuple[str, str]] = [(folder_id, base)]
        first_level = True
        while pending:
            batch, pending = pending[:PARENTS_PER_QUERY], pending[PARENTS_PER_QUERY:]
            names = dict(batch)
            folders: dict[str, list[Mapping[str, Any]]] = {}
            for record in self._children(names, self._drive_path(base)):
                title = record.get("title", "")
                if "/" in title or (first_level and not title.startswith(start)):
                    continue
                for parent in record.get("parents") or []:
                    if parent.get("id") not in names:
                        continue
                    full = names[parent["id"]] + title
                    if record.get("mimeType") == FOLDER:
                        folders.setdefault(full, []).append(record)
                    elif _is_object(record):
                        files[full] = newest([record, files[full]]) if full in files else record  # type: ignore[assignment]
            for full, candidates in sorted(folders.items()):
                if roll_up and first_level:
                    prefixes.add(full + "/")
                else:
                    pending.append((oldest(candidates)["id"], full + "/"))  # type: ignore[index]
            if roll_up:
                break
            first_level = False
        return [self._info(n, r) for n, r in files.items()] + [Prefix(p) for p in prefixes]

    # -- copying and deleting --------------------------------------------------------------------
    def copy(self, source: str, destination: str, *, source_bucket: str | None = None) -> None:
        source_root = None if source_bucket is None else segments(source_bucket)
        record = self._lookup(source, source_root)
        if record is None:
            where = self.describe() if source_bucket is None else f"gdrive:/{'/'.join(source_root or ())}"
            raise ObjectNotFoundError(source, where)
        folder, title = self._split(destination)
        parent = self._folder_id(folder, create=True)
        properties = encode_properties(decode_properties(record.get("properties")), destination)
        body = {"title": title, "parents": [{"id": parent}], "properties": properties}
        created = self._call(lambda files: files.copy(fileId=record["id"], body=body, fields=FILE_FIELDS),
                             "copy", self._drive_path(destination))
        self._remove_older(parent, title, created)

    def delete_many(self, names: Iterable[str]) -> None:
        by_folder: dict[FolderPath, set[str]] = {}
        for name in names:
            folder, title = self._split(name)
            by_folder.setdefault(folder, set()).add(title)
        for folder, titles in by_folder.items():
            folder_id = self._folder_id(folder)
            if folder_id is None:
                continue
            path = "/" + "/".join(folder)
            if len(titles) <= 3:
                doomed = [r["id"] for t in titles for r in self._titled(folder_id, t, folder=False, path=path)]
            else:
                doomed = [r["id"] for r in self._children([folder_id], path, f" and mimeType != {quote(FOLDER)}")
                          if r.get("title") in titles and _is_object(r)]
            self._remove(doomed, path)
        for folder in sorted(by_folder, key=len, reverse=True):
            self._prune(folder)

    def _prune(self, folder: FolderPath) -> None:
        """Remove ``folder`` and its parents while they are empty, up to the bucket folder."""
        while len(folder) > len(self._root):
            folder_id = self._folders.get(folder)
            if folder_id is None or self._has_children(folder_id, folder):
                return
            self._remove([folder_id], "/" + "/".join(folder))
            self._folders.forget(folder)
            folder = folder[:-1]

    def _has_children(self, folder_id: str, folder: FolderPath) -> bool:
        page = self._call(
            lambda files: files.list(q=f"{quote(folder_id)} in parents and trashed = false", maxResults=1,
                                     fields="items(id)"),
            "listing", "/" + "/".join(folder),
        )
        return bool(page.get("items"))

    # -- buckets: folders --------------------------------------------------------------------------
    def list_buckets(self) -> builtins.list[str]:  # ``list`` here is the method
        """The folders at the top of My Drive, as bucket paths (``/name``)."""
        top = self._children(["root"], "/", f" and mimeType = {quote(FOLDER)}")
        return sorted({"/" + r["title"] for r in top if "/" not in r.get("title", "/")})

    def bucket_exists(self, bucket: str) -> bool:
        return self._folder_id(segments(bucket)) is not None

    def create_bucket(self, bucket: str, **options: Any) -> None:
        self._folder_id(segments(bucket), create=True)

    def delete_bucket(self, bucket: str) -> None:
        path = segments(bucket)
        if not path:
            raise OSError("My Drive itself cannot be removed; name a folder")
        folder_id = self._folder_id(path, fresh=True)
        if folder_id is None:
            raise BucketNotFoundError(bucket)
        if self._has_children(folder_id, path):
            raise OSError(f"Folder {bucket!r} on Google Drive is not empty; remove its objects first")
        self._remove([folder_id], "/" + "/".join(path))
        self._folders.forget(path)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("1", "yes", "true", "on"):
        return True
    if lowered in ("0", "no", "false", "off", "none", ""):
        return False
    raise ValueError(value)


def _roll_up(entries: list[ObjectInfo | Prefix], prefix: str, delimiter: str) -> list[ObjectInfo | Prefix]:
    """Group names that continue past ``delimiter`` (any delimiter but ``/``) into prefixes."""
    rolled: list[ObjectInfo | Prefix] = []
    seen: set[str] = set()
    for entry in entries:
        cut = entry.name.find(delimiter, len(prefix))
        if cut < 0:
            rolled.append(entry)
        elif entry.name[: cut + len(delimiter)] not in seen:
            seen.add(entry.name[: cut + len(delimiter)])
            rolled.append(Prefix(entry.name[: cut + len(delimiter)]))
    return rolled


class RangeMismatchError(ConnectionError):
    """A ranged download was answered with bytes that do not cover the range asked for (retried)."""


def _served(data: bytes, answer: Mapping[str, Any], start: int, length: int, asked: str) -> bytes:
    """Bytes ``[start, start + length)`` of a media answer to the range ``asked`` (fewer at the end).

    HTTP lets a server or proxy ignore ``Range`` (200 with the whole file) and a broken one may
    answer another range: an answer that starts at or before ``start`` is cut to the range asked
    for, one that starts after it or ends too early is a :class:`RangeMismatchError`.
    """
    header = str(answer.get("content-range", ""))
    status = int(answer.get("status", 0) or 0)
    match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", header.strip())
    if match:
        first, total = int(match.group(1)), match.group(3)
        end = first + len(data)
        size = int(total) if total.isdigit() else None
    elif status == 200 and not header:
        first, end, size = 0, len(data), len(data)
    else:
        first, end, size = -1, -1, None
    stop = start + length if size is None else min(start + length, size)
    if first < 0 or first > start or end < stop:
        raise RangeMismatchError(f"asked for {asked}, the server answered Content-Range {header or '(none)'} "
                                 f"with status {status}")
    return data[start - first : stop - first]


class _SessionExpired(ConnectionError):
    """The resumable upload session is gone: start the upload again (retried as transient)."""


class _Chained(io.RawIOBase):
    """Bytes already read from a stream, then the rest of the stream."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if len(self._head):
            count = len(self._head) if size < 0 else min(size, len(self._head))
            block, self._head = bytes(self._head[:count]), self._head[count:]
            return block
        return self._rest.read(size)
