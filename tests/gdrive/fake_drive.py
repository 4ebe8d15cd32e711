"""A loopback fake of the Google Drive REST API v2 (the version pydrive2 speaks), in memory.

It serves what the real client stack (googleapiclient + pydrive2's credentials) sends:

- ``GET /discovery/v1/apis/drive/v2/rest``: googleapiclient's bundled Drive v2 discovery document
  with its root URL pointed at this server, so the whole client talks to loopback;
- ``files.list`` with ``q`` queries (``and``/``or``/``not``, parentheses, ``'id' in parents``,
  ``title =``/``contains``, ``mimeType =``/``!=``, ``trashed =``) and paging (``maxResults`` capped at
  ``page_cap``, ``pageToken``), in an order that is not sorted by title;
- ``files.get`` (metadata, or ``alt=media`` with ``Range``), ``files.insert`` (metadata only,
  multipart, and resumable uploads with status queries and overlap after a lost response),
  ``files.update``/``patch`` (metadata and media), ``files.copy``, ``files.delete``, ``files.trash``,
  ``properties.list``/``insert``;
- Drive's limits and error JSON: properties of at most 124 bytes, 30 public properties per file,
  non-final resumable chunks in multiples of 256 KiB, ``{"error": {"errors": [{"reason": ...}]}}``;
- a bearer token check (``401 authError`` otherwise) and a ``/token`` endpoint for service accounts,
  a person's sign-in code and their refresh token.

Faults are injected with :meth:`FakeDrive.inject`: an HTTP status with Drive's error body, a
dropped connection before the request is processed, a lost response after it was processed, or a
slow response.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

FOLDER = "application/vnd.google-apps.folder"
PROPERTY_BYTES = 124
MAX_PUBLIC_PROPERTIES = 30
CHUNK_GRANULARITY = 256 * 1024


class DriveError(Exception):
    """An error answered with Drive's error JSON."""

    def __init__(self, code: int, reason: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        domain = "usageLimits" if "RateLimit" in self.reason or "rateLimit" in self.reason else "global"
        return {"error": {"errors": [{"domain": domain, "reason": self.reason, "message": self.message}],
                          "code": self.code, "message": self.message}}


ERRORS = {
    400: ("badRequest", "Bad Request"),
    401: ("authError", "Invalid Credentials"),
    403: ("rateLimitExceeded", "Rate Limit Exceeded"),
    404: ("notFound", "File not found"),
    429: ("rateLimitExceeded", "Rate Limit Exceeded"),
    500: ("backendError", "Backend Error"),
    502: ("backendError", "Bad Gateway"),
    503: ("backendError", "Service Unavailable"),
}


@dataclass
class Fault:
    """One injected failure: ``kind`` is ``status``, ``drop``, ``lose_response`` or ``slow``."""

    kind: str
    method: str | None = None
    path: str | None = None
    times: int = 1
    status: int = 500
    reason: str | None = None
    delay: float = 0.0
    hits: int = 0

    def matches(self, method: str, target: str) -> bool:
        return (self.times > 0 and (self.method is None or self.method == method)
                and (self.path is None or self.path in target))


@dataclass
class DriveFile:
    id: str
    title: str
    mime_type: str
    parents: list[str]
    created: datetime
    modified: datetime
    content: bytes = b""
    trashed: bool = False
    properties: dict[tuple[str, str], str] = field(default_factory=dict)  # (key, visibility) -> value

    @property
    def is_folder(self) -> bool:
        return self.mime_type == FOLDER


@dataclass
class UploadSession:
    metadata: dict[str, Any]
    target: str | None  # file id for an update, None for a new file
    total: int | None
    received: bytearray = field(default_factory=bytearray)
    result: dict[str, Any] | None = None


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class FakeDrive:
    """An in-memory Drive behind a threaded HTTP server on 127.0.0.1.

    Parameters
    ----------
    token : str
        The bearer token requests must carry.
    page_cap : int
        Largest page ``files.list`` returns, whatever ``maxResults`` asks (exercises paging).
    """

    def __init__(self, token: str = "test-token", page_cap: int = 100) -> None:
        self.token = token
        #: The code a console sign-in exchanges, and the refresh token it gets (tests revoke it).
        self.sign_in_code = "4/test-sign-in-code"
        self.refresh_token = "test-refresh-token"
        self.page_cap = page_cap
        self.lock = threading.RLock()
        self.files: dict[str, DriveFile] = {}
        self.uploads: dict[str, UploadSession] = {}
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str]] = []
        self._clock = datetime(2026, 1, 1, tzinfo=UTC)
        now = self._tick()
        self.root_id = "root" + uuid.uuid4().hex[:12]
        self.files[self.root_id] = DriveFile(self.root_id, "My Drive", FOLDER, [], now, now)
        #: Range handling of media downloads: ``ignore_range`` answers 200 with the whole file (as
        #: HTTP allows); ``range_shift`` moves the start of the range served by that many bytes.
        self.ignore_range = False
        self.range_shift = 0
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> str:
        drive = self

        class Handler(_Handler):
            fake = drive

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, name="fake-drive", daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        """Forget every file but My Drive, every fault and the request log."""
        with self.lock:
            self.files = {self.root_id: self.files[self.root_id]}
            self.uploads.clear()
            self.faults.clear()
            self.log.clear()
            self.ignore_range, self.range_shift = False, 0

    # -- test helpers ----------------------------------------------------------------------------
    def inject(self, kind: str, *, method: str | None = None, path: str | None = None, times: int = 1,
               status: int = 500, reason: str | None = None, delay: float = 0.0) -> Fault:
        """Make the next ``times`` matching requests fail (``path`` is a substring of the URL)."""
        fault = Fault(kind, method, path, times, status, reason, delay)
        with self.lock:
            self.faults.append(fault)
        return fault

    def _tick(self) -> datetime:
        """A strictly increasing server time (ms resolution, like Drive's timestamps)."""
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self._clock = max(now, self._clock + timedelta(milliseconds=1))
        return self._clock

    def add(self, path: str, content: bytes | None = b"", *, mime_type: str = "application/octet-stream",
            properties: dict[tuple[str, str], str] | None = None, trashed: bool = False,
            created: datetime | None = None) -> DriveFile:
        """Put a file (or, with ``content=None``, a folder) at a path, creating no duplicates of
        missing parent folders but always adding the last segment (duplicates are allowed)."""
        with self.lock:
            parts = [p for p in path.split("/") if p]
            parent = self.root_id
            for index, part in enumerate(parts[:-1]):
                found = [f for f in self.files.values() if f.title == part and f.is_folder
                         and parent in f.parents and not f.trashed]
                if found:
                    parent = min(found, key=lambda f: (f.created, f.id)).id
                else:
                    parent = self.add("/".join(parts[: index + 1]), None).id
            now = self._tick()
            record = DriveFile(uuid.uuid4().hex, parts[-1], FOLDER if content is None else mime_type, [parent],
                               created or now, now, content or b"", trashed, dict(properties or {}))
            self.files[record.id] = record
            return record

    def find(self, path: str) -> list[DriveFile]:
        """Non-trashed files and folders at a path (following the oldest folder of each name)."""
        with self.lock:
            parts = [p for p in path.split("/") if p]
            parent = self.root_id
            for index, part in enumerate(parts):
                found = [f for f in self.files.values() if f.title == part and parent in f.parents
                         and not self.is_trashed(f)]
                if index == len(parts) - 1:
                    return found
                folders = [f for f in found if f.is_folder]
                if not folders:
                    return []
                parent = min(folders, key=lambda f: (f.created, f.id)).id
            return []

    def is_trashed(self, record: DriveFile) -> bool:
        seen = set()
        while record is not None and record.id not in seen:
            if record.trashed:
                return True
            seen.add(record.id)
            record = self.files.get(record.parents[0]) if record.parents else None  # type: ignore[assignment]
        return False

    # -- resources -------------------------------------------------------------------------------
    def resource(self, record: DriveFile) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "drive#file",
            "id": record.id,
            "title": record.title,
            "mimeType": record.mime_type,
            "parents": [{"kind": "drive#parentReference", "id": p, "isRoot": p == self.root_id}
                        for p in record.parents],
            "createdDate": _rfc3339(record.created),
            "modifiedDate": _rfc3339(record.modified),
            "labels": {"trashed": self.is_trashed(record), "starred": False, "hidden": False,
                       "restricted": False, "viewed": True},
            "properties": [{"kind": "drive#property", "key": k, "value": v, "visibility": vis}
                           for (k, vis), v in sorted(record.properties.items())],
        }
        if not record.mime_type.startswith("application/vnd.google-apps."):
            body["fileSize"] = str(len(record.content))
            body["md5Checksum"] = hashlib.md5(record.content).hexdigest()
        return body

    def _file(self, file_id: str) -> DriveFile:
        record = self.files.get(self.root_id if file_id == "root" else file_id)
        if record is None:
            raise DriveError(404, "notFound", f"File not found: {file_id}")
        return record

    def _apply_metadata(self, record: DriveFile, body: dict[str, Any]) -> None:
        if "title" in body:
            record.title = str(body["title"])
        if "mimeType" in body:
            record.mime_type = str(body["mimeType"])
        if "parents" in body:
            parents = [p["id"] for p in body["parents"]]
            for parent in parents:
                if not self._file(parent).is_folder:
                    raise DriveError(400, "badRequest", f"Parent {parent} is not a folder")
            record.parents = [self.root_id if p == "root" else p for p in parents]
        for prop in body.get("properties") or []:
            key, visibility = prop.get("key"), prop.get("visibility", "PRIVATE")
            value = prop.get("value")
            if value is None:
                record.properties.pop((key, visibility), None)
            else:
                record.properties[(key, visibility)] = str(value)
        self._check_properties(record.properties)

    @staticmethod
    def _check_properties(properties: dict[tuple[str, str], str]) -> None:
        for (key, _), value in properties.items():
            if len(key.encode()) + len(value.encode()) > PROPERTY_BYTES:
                raise DriveError(400, "invalidProperty",
                                 f"Property {key!r} exceeds {PROPERTY_BYTES} bytes (key plus value)")
        if sum(1 for (_, vis) in properties if vis == "PUBLIC") > MAX_PUBLIC_PROPERTIES:
            raise DriveError(403, "maxProperties", f"More than {MAX_PUBLIC_PROPERTIES} public properties")

    def create(self, body: dict[str, Any], content: bytes | None) -> DriveFile:
        with self.lock:
            now = self._tick()
            record = DriveFile(uuid.uuid4().hex, "Untitled", "application/octet-stream", [self.root_id], now, now)
            self._apply_metadata(record, body)
            if content is not None:
                record.content = content
            self.files[record.id] = record
            return record

    def delete(self, file_id: str) -> None:
        with self.lock:
            record = self._file(file_id)
            for child in [f for f in self.files.values() if record.id in f.parents]:
                self.delete(child.id)
            self.files.pop(record.id, None)

    # -- queries ---------------------------------------------------------------------------------
    def list(self, query: str, max_results: int, token: str | None) -> dict[str, Any]:
        predicate = parse_query(query, self) if query else (lambda f: True)
        with self.lock:
            matched = [f for f in self.files.values() if f.id != self.root_id and predicate(f)]
        matched.sort(key=lambda f: f.id)  # ids are random: an order unrelated to titles
        start = int(token or 0)
        size = max(1, min(max_results or 100, self.page_cap))
        page = matched[start : start + size]
        body: dict[str, Any] = {"kind": "drive#fileList", "items": [self.resource(f) for f in page]}
        if start + size < len(matched):
            body["nextPageToken"] = str(start + size)
        return body

    # -- uploads ---------------------------------------------------------------------------------
    def finish_upload(self, session: UploadSession) -> dict[str, Any]:
        with self.lock:
            if session.result is None:
                if session.target is None:
                    record = self.create(session.metadata, bytes(session.received))
                else:
                    record = self._file(session.target)
                    self._apply_metadata(record, session.metadata)
                    record.content = bytes(session.received)
                    record.modified = self._tick()
                session.result = self.resource(record)
            return session.result


# -- the query language -----------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')|(?P<op>!=|<=|>=|=|<|>)|(?P<paren>[()])|(?P<word>[A-Za-z_]+))")


def _tokens(query: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    query = query.strip()
    while position < len(query):
        match = _TOKEN.match(query, position)
        if not match or match.end() == position:
            raise DriveError(400, "invalid", f"Invalid Value: cannot parse query at {query[position:]!r}")
        kind = match.lastgroup
        text = match.group(kind)  # type: ignore[arg-type]
        if kind == "string":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        tokens.append((kind, text))  # type: ignore[arg-type]
        position = match.end()
    return tokens


def parse_query(query: str, drive: FakeDrive) -> Callable[[DriveFile], bool]:
    """The predicate of a Drive v2 ``q`` query (the subset the backend and 0.4 use)."""
    tokens = _tokens(query)
    position = 0

    def peek() -> tuple[str, str] | None:
        return tokens[position] if position < len(tokens) else None

    def take(kind: str | None = None, text: str | None = None) -> tuple[str, str]:
        nonlocal position
        token = peek()
        if token is None or (kind and token[0] != kind) or (text and token[1].lower() != text):
            raise DriveError(400, "invalid", f"Invalid Value: query {query!r}")
        position += 1
        return token

    def expression() -> Callable[[DriveFile], bool]:
        terms = [conjunction()]
        while peek() and peek()[1].lower() == "or":  # type: ignore[index]
            take()
            terms.append(conjunction())
        return lambda f: any(t(f) for t in terms)

    def conjunction() -> Callable[[DriveFile], bool]:
        terms = [unary()]
        while peek() and peek()[1].lower() == "and":  # type: ignore[index]
            take()
            terms.append(unary())
        return lambda f: all(t(f) for t in terms)

    def unary() -> Callable[[DriveFile], bool]:
        token = peek()
        if token and token[0] == "word" and token[1].lower() == "not":
            take()
            inner = unary()
            return lambda f: not inner(f)
        if token and token[0] == "paren" and token[1] == "(":
            take()
            inner = expression()
            take("paren", ")")
            return inner
        return comparison()

    def value() -> Any:
        kind, text = take()
        if kind == "string":
            return text
        if kind == "word" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise DriveError(400, "invalid", f"Invalid Value: {text!r} in query {query!r}")

    def comparison() -> Callable[[DriveFile], bool]:
        token = peek()
        if token and token[0] == "string":
            parent = take()[1]
            take("word", "in")
            take("word", "parents")
            parent = drive.root_id if parent == "root" else parent
            return lambda f: parent in f.parents
        field_name = take("word")[1]
        getters: dict[str, Callable[[DriveFile], Any]] = {
            "title": lambda f: f.title,
            "mimetype": lambda f: f.mime_type,
            "trashed": lambda f: drive.is_trashed(f),
        }
        getter = getters.get(field_name.lower())
        if getter is None:
            raise DriveError(400, "invalid", f"Invalid Value: unknown field {field_name!r} in query")
        operator = peek()
        if operator and operator[0] == "word" and operator[1].lower() == "contains":
            take()
            needle = value()
            return lambda f: str(needle).lower() in str(getter(f)).lower()
        op = take("op")[1]
        expected = value()
        if op == "=":
            return lambda f: getter(f) == expected
        if op == "!=":
            return lambda f: getter(f) != expected
        raise DriveError(400, "invalid", f"Invalid Value: operator {op} for {field_name}")

    predicate = expression()
    if position != len(tokens):
        raise DriveError(400, "invalid", f"Invalid Value: trailing text in query {query!r}")
    return predicate


# -- HTTP ------------------------------------------------------------------------------------------
class _DropConnection(Exception):
    """Close the connection without an answer."""


class _Handler(BaseHTTPRequestHandler):
    fake: FakeDrive
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # answers go out in two writes (headers, body): without this, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- plumbing --------------------------------------------------------------------------------
    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        drive = self.fake
        with drive.lock:
            drive.log.append((method, self.path))
            fault = next((f for f in drive.faults if f.matches(method, self.path)), None)
            if fault is not None:
                fault.times -= 1
                fault.hits += 1
        try:
            if fault is not None and fault.kind == "drop":
                raise _DropConnection()
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.delay)
            if fault is not None and fault.kind == "status":
                reason, message = ERRORS.get(fault.status, ("error", "Error"))
                raise DriveError(fault.status, fault.reason or reason, message)
            status, headers, payload = self._route(method, body)
            if fault is not None and fault.kind == "lose_response":
                raise _DropConnection()
        except _DropConnection:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        except DriveError as error:
            status, headers, payload = error.code, error.headers, json.dumps(error.body()).encode()
            headers = {"Content-Type": "application/json; charset=UTF-8", **headers}
        self._send(status, headers, payload)

    def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    @staticmethod
    def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        return status, {"Content-Type": "application/json; charset=UTF-8", **(headers or {})}, json.dumps(body).encode()

    def _authorised(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {self.fake.token}":
            raise DriveError(401, "authError", "Invalid Credentials")

    # -- routes ----------------------------------------------------------------------------------
    def _route(self, method: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        drive = self.fake
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        path = url.path
        if path == "/discovery/v1/apis/drive/v2/rest" and method == "GET":
            return self._json(200, discovery_document(drive.url))
        if path == "/token" and method == "POST":
            form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
            grant = form.get("grant_type", "")
            token = {"access_token": drive.token, "token_type": "Bearer", "expires_in": 3600}
            if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":  # a service account
                return self._json(200, token)
            if grant == "authorization_code" and form.get("code") == drive.sign_in_code:  # a person signing in
                return self._json(200, {**token, "refresh_token": drive.refresh_token})
            if grant == "refresh_token" and form.get("refresh_token") == drive.refresh_token:
                return self._json(200, token)
            return self._json(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        self._authorised()
        if path == "/drive/v2/files":
            if method == "GET":
                return self._json(200, drive.list(query.get("q", ""), int(query.get("maxResults") or 100),
                                                  query.get("pageToken")))
            if method == "POST":
                return self._json(200, drive.resource(drive.create(json.loads(body or b"{}"), None)))
        match = re.fullmatch(r"/drive/v2/files/([^/]+)(/[a-z]+)?", path)
        if match:
            return self._file_route(method, match.group(1), match.group(2) or "", query, body)
        match = re.fullmatch(r"/upload/drive/v2/files(?:/([^/]+))?", path)
        if match:
            return self._upload(method, match.group(1), query, body)
        raise DriveError(404, "notFound", f"No route for {method} {path}")

    def _file_route(self, method: str, file_id: str, action: str, query: dict[str, str],
                    body: bytes) -> tuple[int, dict[str, str], bytes]:
        drive = self.fake
        with drive.lock:
            record = drive._file(file_id)
            if action == "" and method == "GET":
                if query.get("alt") == "media":
                    return self._media(record)
                return self._json(200, drive.resource(record))
            if action == "" and method in ("PUT", "PATCH"):
                drive._apply_metadata(record, json.loads(body or b"{}"))
                record.modified = drive._tick()
                return self._json(200, drive.resource(record))
            if action == "" and method == "DELETE":
                drive.delete(record.id)
                return 204, {}, b""
            if action == "/trash" and method == "POST":
                record.trashed = True
                return self._json(200, drive.resource(record))
            if action == "/copy" and method == "POST":
                if record.is_folder:
                    raise DriveError(403, "fileNotCopyable", "Folders cannot be copied")
                request = json.loads(body or b"{}")
                metadata = {"title": record.title, "mimeType": record.mime_type,
                            "parents": [{"id": p} for p in record.parents]}
                copy = drive.create({**metadata, **{k: v for k, v in request.items() if k != "properties"}},
                                    record.content)
                copy.properties = dict(record.properties)
                drive._apply_metadata(copy, {"properties": request.get("properties") or []})
                return self._json(200, drive.resource(copy))
            if action == "/properties" and method == "GET":
                items = drive.resource(record)["properties"]
                return self._json(200, {"kind": "drive#propertyList", "items": items})
            if action == "/properties" and method == "POST":
                prop = json.loads(body)
                prop.setdefault("visibility", "PRIVATE")
                drive._apply_metadata(record, {"properties": [prop]})
                return self._json(200, {"kind": "drive#property", **prop})
        raise DriveError(404, "notFound", f"No route for {method} {self.path}")

    def _media(self, record: DriveFile) -> tuple[int, dict[str, str], bytes]:
        if record.mime_type.startswith("application/vnd.google-apps."):
            raise DriveError(403, "fileNotDownloadable", "Only files with binary content can be downloaded")
        content = record.content
        requested = self.headers.get("Range")
        if not requested or self.fake.ignore_range:
            return 200, {"Content-Type": "application/octet-stream"}, content
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", requested.strip())
        if not match:
            raise DriveError(400, "badRequest", f"Invalid Range {requested!r}")
        start = max(0, int(match.group(1)) + self.fake.range_shift)
        stop = min(int(match.group(2)) + 1 if match.group(2) else len(content), len(content))
        if start >= len(content):
            raise DriveError(416, "requestedRangeNotSatisfiable", "Request range not satisfiable",
                             {"Content-Range": f"bytes */{len(content)}"})
        return 206, {"Content-Type": "application/octet-stream",
                     "Content-Range": f"bytes {start}-{stop - 1}/{len(content)}"}, content[start:stop]

    def _upload(self, method: str, file_id: str | None, query: dict[str, str],
                body: bytes) -> tuple[int, dict[str, str], bytes]:
        drive = self.fake
        kind = query.get("uploadType")
        if kind == "resumable" and "upload_id" in query:
            return self._resumable_chunk(query["upload_id"], body)
        if file_id is not None:
            drive._file(file_id)
        if kind == "resumable":
            total = self.headers.get("X-Upload-Content-Length")
            session = UploadSession(json.loads(body or b"{}"), file_id, int(total) if total else None)
            if session.metadata.get("parents"):
                for parent in session.metadata["parents"]:
                    drive._file(parent["id"])
            upload_id = uuid.uuid4().hex
            with drive.lock:
                drive.uploads[upload_id] = session
            location = f"{drive.url}/upload/drive/v2/files?uploadType=resumable&upload_id={upload_id}"
            return 200, {"Location": location}, b""
        if kind == "multipart":
            metadata, content = _multipart(self.headers.get("Content-Type", ""), body)
        elif kind == "media":
            metadata, content = {}, body
        else:
            raise DriveError(400, "badRequest", f"Unknown uploadType {kind!r}")
        session = UploadSession(metadata, file_id, len(content), bytearray(content))
        return self._json(200, drive.finish_upload(session))

    def _resumable_chunk(self, upload_id: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        drive = self.fake
        with drive.lock:
            session = drive.uploads.get(upload_id)
            if session is None:
                raise DriveError(404, "notFound", "Upload session not found or expired")
            header = self.headers.get("Content-Range", "")
            status_query = re.fullmatch(r"bytes \*/(\d+|\*)", header)
            chunk = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", header)
            if status_query:
                if status_query.group(1) != "*":
                    session.total = int(status_query.group(1))
                if session.result is not None or (session.total is not None and len(session.received) == session.total):
                    return self._json(200, drive.finish_upload(session))
                return self._incomplete(session)
            if chunk:
                start, end, total = int(chunk.group(1)), int(chunk.group(2)), chunk.group(3)
                if total != "*":
                    session.total = int(total)
                if len(body) != end - start + 1:
                    raise DriveError(400, "badRequest", "Content-Range does not match the body length")
                if start > len(session.received):
                    raise DriveError(400, "badRequest", f"Chunk starts at {start}, expected {len(session.received)}")
                final = session.total is not None and end + 1 == session.total
                if not final and (end - start + 1) % CHUNK_GRANULARITY:
                    raise DriveError(400, "badRequest", "Non-final chunks must be a multiple of 256 KiB")
                session.received += body[len(session.received) - start :]
            elif not body:  # the whole upload is empty
                session.total = session.total or 0
            else:
                raise DriveError(400, "badRequest", f"Invalid Content-Range {header!r}")
            if session.total is not None and len(session.received) >= session.total:
                return self._json(200, drive.finish_upload(session))
            return self._incomplete(session)

    @staticmethod
    def _incomplete(session: UploadSession) -> tuple[int, dict[str, str], bytes]:
        headers = {"Range": f"bytes=0-{len(session.received) - 1}"} if session.received else {}
        return 308, headers, b""


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], bytes]:
    """The JSON metadata part and the media part of a ``multipart/related`` body."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise DriveError(400, "badRequest", "multipart upload without a boundary")
    delimiter = b"--" + match.group(1).encode()
    first = body.index(delimiter) + len(delimiter)
    newline = b"\r\n" if body[first : first + 2] == b"\r\n" else b"\n"
    parts = []
    for segment in body.split(delimiter)[1:]:
        if segment.startswith(b"--"):
            break
        segment = segment[len(newline):]
        _headers, _, content = segment.partition(newline + newline)
        if content.endswith(newline):
            content = content[: -len(newline)]
        parts.append(content)
    if len(parts) != 2:
        raise DriveError(400, "badRequest", f"multipart upload with {len(parts)} parts, expected 2")
    return json.loads(parts[0] or b"{}"), parts[1]


def discovery_document(root: str) -> dict[str, Any]:
    """googleapiclient's bundled Drive v2 description, with every URL pointed at ``root``."""
    text = resources.files("googleapiclient").joinpath("discovery_cache/documents/drive.v2.json").read_text()
    document = json.loads(text)
    document["rootUrl"] = document["mtlsRootUrl"] = root + "/"
    document["baseUrl"] = root + "/drive/v2/"
    return document
