"""A fault-injecting HTTP proxy on 127.0.0.1, to put between a client (boto3) and a server (moto).

The proxy accepts the client's connections, reads one request at a time (answering
``Expect: 100-continue`` itself), and forwards it to the server on a fresh connection with
``Connection: close``; the server's response is relayed back and the client connection is closed
after it, so every request travels on its own connection and can be hit by its own fault.

Faults are rules (:class:`Fault`) matched against each request in the order they were added; a
rule fires ``times`` times (``None``: on every matching request). Actions:

- ``status``: answer with an S3 error (``503 SlowDown`` by default) without forwarding;
- ``cut_request``: read ``after`` bytes of the request body, then drop the connection (an upload
  cut mid-way; the server never sees the request);
- ``cut_response``: forward, relay the response head and ``after`` bytes of its body, then close
  cleanly (a short read); a negative ``after`` waits for the server's response head and sends
  nothing (the server answered, the response is lost);
- ``reset_response``: the same, but end with a TCP reset (RST) instead of a close;
- ``delay``: forward, wait ``seconds`` before relaying the response (a stalled server);
- ``flip_response``: forward, and flip one bit of the response body's byte number ``after``
  (damage on the wire that TCP did not catch);
- ``ignore_range``: forward without the request's ``Range`` header, so the server answers 200 with
  the whole body (a server or proxy that ignores ranges, as HTTP allows);
- ``shift_range``: forward with the ``Range`` start moved by ``after`` bytes (negative: earlier),
  so the answer's ``Content-Range`` is not the one asked for.

Every request is logged as a :class:`Seen` (method, target, headers, the fault applied), so tests
can assert which requests were made and which were hit. Traffic never leaves the loopback
interface, and each connection is bounded by socket timeouts.
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_TIMEOUT = 30.0
_BLOCK = 256 * 1024


@dataclass
class Fault:
    """One fault rule. ``method`` / ``target`` (a regex searched in the path and query) /
    ``header`` (a header the request must carry, e.g. ``"range"``) select the requests."""

    action: str
    method: str | None = None
    target: str | None = None
    header: str | None = None
    times: int | None = 1
    after: int = 0
    seconds: float = 0.0
    status: int = 503
    code: str = "SlowDown"
    fired: int = 0

    def matches(self, method: str, target: str, headers: dict[str, str]) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.method and self.method.upper() != method:
            return False
        if self.target and not re.search(self.target, target):
            return False
        return not (self.header and self.header.lower() not in headers)


@dataclass
class Seen:
    """A request that reached the proxy, and the fault it met (None: passed through)."""

    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    fault: str | None = None


class FaultProxy:
    """The proxy: ``FaultProxy(upstream_url).start()``; ``url`` is where clients connect."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._faults: list[Fault] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)

    # -- control -----------------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def add(self, action: str, **options) -> Fault:
        """Add a rule (see :class:`Fault`) and return it; ``fault.fired`` counts its hits."""
        fault = Fault(action, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def reset(self) -> None:
        """Remove every rule and forget the log."""
        with self._lock:
            self._faults.clear()
            self.seen.clear()

    def requests(self, method: str | None = None, target: str | None = None) -> list[Seen]:
        """Logged requests, optionally of one method and with ``target`` found in the path."""
        with self._lock:
            return [s for s in self.seen if (method is None or s.method == method)
                    and (target is None or re.search(target, s.target))]

    def _choose(self, method: str, target: str, headers: dict[str, str]) -> Fault | None:
        with self._lock:
            chosen = next((f for f in self._faults if f.matches(method, target, headers)), None)
            if chosen is not None:
                chosen.fired += 1
            self.seen.append(Seen(method, target, headers, chosen.action if chosen else None))
            return chosen

    # -- serving -----------------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), name="fault-proxy-conn", daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(_TIMEOUT)
        reset = False
        try:
            with client.makefile("rb") as reader:
                reset = self._handle(client, reader)
        except OSError:
            pass  # the client went away (often on purpose: a cut or a timeout)
        finally:
            if reset:  # SO_LINGER 0: the close sends a TCP reset instead of an orderly FIN
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()

    def _handle(self, client: socket.socket, reader) -> bool:
        """Serve one request; True asks for the connection to end with a reset."""
        request_line = reader.readline(65536)
        if not request_line:
            return False
        method, target, _ = request_line.decode("latin-1").split(" ", 2)
        header_lines: list[bytes] = []
        headers: dict[str, str] = {}
        while True:
            line = reader.readline(65536)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
            if name.strip().lower() not in ("connection", "expect", "keep-alive"):
                header_lines.append(line)
        fault = self._choose(method, target, headers)
        if fault is not None and fault.action in ("ignore_range", "shift_range"):
            header_lines = _rewrite_range(header_lines, fault)
        if headers.get("expect", "").lower() == "100-continue":
            client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if fault is not None and fault.action == "cut_request":
            reader.read(fault.after)
            return True
        body = _read_body(reader, headers)
        if fault is not None and fault.action == "status":
            client.sendall(_error_response(fault.status, fault.code))
            return False
        head = request_line + b"".join(header_lines) + b"Connection: close\r\n\r\n"
        with socket.create_connection(self.upstream, timeout=_TIMEOUT) as server:
            server.sendall(head + body)
            if fault is not None and fault.action == "delay":
                time.sleep(fault.seconds)
            _relay(server, client, fault)
        return fault is not None and fault.action == "reset_response"


def _relay(server: socket.socket, client: socket.socket, fault: Fault | None) -> None:
    """Send the server's response to the client, applying a response fault; offsets count from
    the first body byte, and a negative one drops the response once its head has arrived."""
    action = fault.action if fault is not None else None
    stop = fault.after if fault is not None and action in ("cut_response", "reset_response") else None
    flip_at = fault.after if fault is not None and action == "flip_response" else None
    head = b""
    while b"\r\n\r\n" not in head:
        block = server.recv(_BLOCK)
        if not block:
            client.sendall(head)
            return
        head += block
    if stop is not None and stop < 0:
        return  # the server has answered; the client never hears it
    cut = head.index(b"\r\n\r\n") + 4
    client.sendall(head[:cut])
    block, offset = head[cut:], 0
    while True:
        if not block:
            block = server.recv(_BLOCK)
            if not block:
                return
        if stop is not None:
            block = block[: stop - offset]
        if flip_at is not None and offset <= flip_at < offset + len(block):
            position = flip_at - offset
            block = block[:position] + bytes([block[position] ^ 0x01]) + block[position + 1:]
        client.sendall(block)
        offset += len(block)
        block = b""
        if stop is not None and offset >= stop:
            return


def _rewrite_range(header_lines: list[bytes], fault: Fault) -> list[bytes]:
    """The request's header lines with ``Range`` dropped (``ignore_range``) or its start moved."""
    rewritten = []
    for line in header_lines:
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() != "range":
            rewritten.append(line)
        elif fault.action == "shift_range":
            match = re.fullmatch(r"bytes=(\d+)-(\d*)", value.strip())
            assert match, f"cannot shift Range {value.strip()!r}"
            start = max(0, int(match.group(1)) + fault.after)
            rewritten.append(f"{name}: bytes={start}-{match.group(2)}\r\n".encode("latin-1"))
    return rewritten


def _read_body(reader, headers: dict[str, str]) -> bytes:
    """The request body, de-chunked bodies re-sent as they came (chunk framing included)."""
    if "content-length" in headers:
        return reader.read(int(headers["content-length"]))
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts = []
        while True:
            size_line = reader.readline(65536)
            parts.append(size_line)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the blank line
                    trailer = reader.readline(65536)
                    parts.append(trailer)
                    if trailer in (b"\r\n", b"\n", b""):
                        return b"".join(parts)
            parts.append(reader.read(size + 2))
    return b""


def _error_response(status: int, code: str) -> bytes:
    body = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
            f"<Message>injected by the fault proxy</Message></Error>").encode()
    reason = {500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Error")
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
