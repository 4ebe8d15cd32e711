"""A byte-counting TCP proxy on 127.0.0.1, put between S3 clients and the moto server.

Every contestant of ``slices.py`` reaches moto through it, so the bytes a read moves are counted
the same way for every library, whatever its HTTP client: the proxy relays each client connection
to a connection of its own to the server, byte for byte, and adds up

- ``down``: bytes the server sent to the client (response heads and bodies);
- ``up``: bytes the client sent;
- ``requests``: HTTP/1.1 request lines the client sent (exact for requests without a body, such as
  every read; an upload's body is not parsed).

A client process asks for the running totals on a second port (:func:`read_counts`) before and
after the call it measures; a counter is increased before the bytes are passed on, so the totals
are complete when the call has returned. Only the standard library is used: the peers' venvs
import this module too.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from urllib.parse import urlsplit

_BLOCK = 1 << 20
_REQUEST_LINE_END = b" HTTP/1.1\r\n"
_TIMEOUT = 300.0


class ByteCountingProxy:
    """``ByteCountingProxy(upstream_url).start()``; clients connect to ``url``; ``control`` is the
    ``(host, port)`` that :func:`read_counts` asks; ``stop()`` closes the listeners."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._control = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.control = self._control.getsockname()[:2]
        self.down = self.up = self.requests = 0
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._accept, name="byteproxy", daemon=True),
                         threading.Thread(target=self._answer, name="byteproxy-control", daemon=True)]

    def start(self) -> ByteCountingProxy:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        for listener in (self._listener, self._control):
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept(); close() alone does not
            listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"down": self.down, "up": self.up, "requests": self.requests}

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
                server = socket.create_connection(self.upstream, timeout=_TIMEOUT)
            except OSError:
                return
            for connection in (client, server):
                connection.settimeout(_TIMEOUT)
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        buffer = bytearray(_BLOCK)
        view = memoryview(buffer)
        tail = b""  # the end of the previous block: a request line may be cut between two blocks
        try:
            while count := source.recv_into(buffer):
                if from_client:
                    seen = tail + bytes(view[:count])
                    with self._lock:
                        self.up += count
                        self.requests += seen.count(_REQUEST_LINE_END)
                    tail = seen[-(len(_REQUEST_LINE_END) - 1):]
                else:
                    with self._lock:
                        self.down += count
                sink.sendall(view[:count])
        except OSError:
            pass
        finally:
            for connection in (source, sink):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()

    def _answer(self) -> None:
        while True:
            try:
                asker, _ = self._control.accept()
            except OSError:
                return
            with asker:
                asker.sendall(json.dumps(self.counts()).encode() + b"\n")


def read_counts(control: tuple[str, int] | list[str | int]) -> dict[str, int]:
    """The proxy's running totals (``down``, ``up``, ``requests``), asked on its control port."""
    with socket.create_connection((str(control[0]), int(control[1])), timeout=10) as connection:
        reply = b""
        while chunk := connection.recv(4096):
            reply += chunk
    return json.loads(reply)
