"""A cottoncandy payload as googleapiclient media, read in place.

Buffer payloads (arrays, encoded chunks) are sliced without copying the whole object; a chunk is
joined only when it spans two buffers. Streams are read forward once, keeping only the bytes the
server has not acknowledged yet, so a resumable upload can resend them after a failure.
"""

from __future__ import annotations

from googleapiclient.http import MediaUpload

from cc_core.payload import Payload

MIMETYPE = "application/octet-stream"


class PayloadMedia(MediaUpload):
    """googleapiclient media over a :class:`cc_core.payload.Payload`.

    Parameters
    ----------
    payload : Payload
        The bytes; a stream of unknown size is uploaded as such (resumable only).
    chunk_size : int
        Bytes per resumable request (a multiple of 256 KiB, as Drive requires).
    resumable : bool
        Resumable upload (several requests) or one multipart request.
    """

    def __init__(self, payload: Payload, chunk_size: int, resumable: bool) -> None:
        super().__init__()
        self._payload = payload
        self._chunk_size = chunk_size
        self._resumable = resumable
        self._window = bytearray()  # stream bytes from _window_start on, not yet acknowledged
        self._window_start = 0
        self._exhausted = False

    def chunksize(self) -> int:
        return self._chunk_size

    def mimetype(self) -> str:
        return MIMETYPE

    def size(self) -> int | None:
        return self._payload.size

    def resumable(self) -> bool:
        return self._resumable

    def has_stream(self) -> bool:
        return False

    def getbytes(self, begin: int, length: int) -> bytes | memoryview:
        """Bytes ``[begin, begin + length)``; fewer at the end of the payload."""
        if self._payload.buffers is not None:
            parts = self._payload.slice(begin, begin + length).buffers or []
            if len(parts) == 1 and self._resumable:
                return parts[0]  # a view: httplib2 sends it as it is
            return b"".join(parts)
        if begin < self._window_start:
            raise ValueError(
                f"the upload asked for bytes from {begin} again, but the stream has moved on to "
                f"{self._window_start}; streamed uploads cannot restart from the beginning"
            )
        del self._window[: begin - self._window_start]
        self._window_start = begin
        assert self._payload.stream is not None
        while len(self._window) < length and not self._exhausted:
            block = self._payload.stream.read(max(length - len(self._window), 1 << 16))
            if not block:
                self._exhausted = True
                break
            self._window += block
        return bytes(self._window[:length])

    def restartable(self) -> bool:
        """Whether the upload can start over from byte 0 (an expired upload session)."""
        return self._payload.buffers is not None or self._window_start == 0

    def to_json(self) -> str:  # pragma: no cover - googleapiclient only calls this to serialise requests
        raise NotImplementedError("PayloadMedia requests are not serialised")
