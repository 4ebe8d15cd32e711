"""The data path: value -> codec -> transforms -> backend, and back.

Uploading encodes the value into a zero-copy payload, runs it through the transform chain (each
transform streams) and hands the result to the backend with metadata that names the codec and the
chain. Downloading reads the metadata, and when the chain is empty lets the codec read straight into
its own buffer through :meth:`Backend.get_into` (a raw array lands in ``np.empty(...)`` with no
intermediate copy); otherwise the backend's chunks stream back through the chain in reverse.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .backend import Backend, ObjectInfo, OpenedObject
from .byteranges import RangeByteRequest
from .codec import Encoded
from .errors import (
    ConfigError,
    CottonCandyError,
    IntegrityError,
    MetadataError,
    ObjectChangedError,
    ObjectNotFoundError,
)
from .integrity import (
    CHECKSUM_METADATA_SIZE,
    ChecksummedPayload,
    ChecksumReader,
    Verifier,
    check_metadata,
    checksum_of,
    seal,
)
from .metadata import (
    CODEC_KEY,
    DIGEST_KEY,
    LEGACY_COMPRESSION_KEY,
    TRANSFORMS_KEY,
    chain_names,
    legacy_compression,
    metadata_size,
)
from .parallel import prefetch_pays, prefetched
from .payload import Payload
from .progress import NO_PROGRESS, Progress, announce
from .transform import COMPRESSION, ENCRYPTION, DecodeReader, ObjectPlace, RangeDecoder, Transform

if TYPE_CHECKING:
    from .config import Config

TransformSpec = None | bool | str | Sequence[str]
Consumer = Callable[[ObjectInfo, "DirectSource | StreamSource"], Any]

#: Reads of an object that writers keep replacing: after this many, the last error is raised.
READ_ATTEMPTS = 5

#: An object opened for ranged reads comes with this many of its first stored bytes, from the same
#: request where the backend allows (:func:`open_prefix`): the first read of an aes-gcm header and
#: of an npy header (4 KiB each) is answered from them instead of a request of its own. More would
#: rarely save a request (a selection inside the first bytes) and would add to every slice's bytes.
PREFIX_SIZE = 4 << 10

#: Stored bytes are read for the transform chain this much at a time: a chunk is still in the CPU's
#: cache when it is decoded (a 128 MiB encrypted download: 27 ms with 8 MiB chunks, 20 ms with 2).
DECODE_CHUNK_SIZE = 2 << 20


class DirectSource:
    """Decoded bytes that are the stored bytes: read from an :class:`OpenedObject` into the
    consumer's buffer.

    Each filled part of the buffer is digested as soon as it is filled (while it is in cache);
    reaching the end checks the object's checksum, and an object shorter than its info said is an
    error.
    """

    def __init__(self, opened: OpenedObject) -> None:
        info = opened.info
        self.name = info.name
        self.size: int | None = info.size
        self._opened = opened
        self._offset = 0
        self._verifier = Verifier(info.name, info.metadata, info.size)

    def expect(self, size: int, what: str = "") -> None:
        """The codec will read ``size`` bytes: refuse unless the object holds exactly that many."""
        if size != self.size:
            raise MetadataError(
                f"Object {self.name!r} holds {self.size} bytes but its metadata describes {size} bytes"
                f"{f' ({what})' if what else ''}; the object or its metadata is damaged"
            )

    def readinto(self, buffer: memoryview) -> int:
        assert self.size is not None
        wanted = min(len(buffer), self.size - self._offset)
        if wanted <= 0:
            self._verifier.finish()
            return 0
        count = self._opened.readinto(buffer[:wanted], self._verifier.update)
        self._offset += count
        if count < wanted or self._offset == self.size:
            self._verifier.finish()
        return count

    def write_to(self, descriptor: int) -> None:
        """Write all the bytes to the empty file open (readable) as ``descriptor``, then check them.

        The backend writes ranges as they arrive, in any order (:meth:`OpenedObject.write_to_file`),
        so the checksum is computed afterwards from the file's
        pages, which are in the page cache.
        """
        assert self.size is not None and self._offset == 0
        count = self._opened.write_to_file(descriptor)
        announce(self._opened.progress, "checking the checksum")
        scratch = memoryview(bytearray(min(count, 4 << 20) or 1))
        for start in range(0, count, len(scratch)):
            self._verifier.update(scratch[: os.preadv(descriptor, [scratch[: count - start]], start)])
        self._offset = count
        self._verifier.finish()

    def read(self) -> bytes:
        assert self.size is not None
        remaining = bytearray(self.size - self._offset)
        count = self.readinto(memoryview(remaining))
        return bytes(remaining[:count])

    def verify(self) -> None:
        """Read what the consumer left unread, so that the checksum is checked all the same."""
        scratch = memoryview(bytearray(min(self.size or 0, 1 << 20) or 1))
        while self.readinto(scratch):
            pass


class StreamSource:
    """Decoded bytes produced by an iterator of chunks (the transform chain run backwards).

    When the last transform of the chain decodes into a caller's buffer (a
    :class:`~cc_core.transform.DecodeReader`), :meth:`readinto` hands it the caller's buffer, so
    the bytes are written once. ``stored`` is the iterator of stored chunks at the start of the
    chain: a transform may stop pulling once its format says it is done, so at the end it is
    drained (and so verified) too. Errors raised while decoding get the object's ``name``.

    With ``chain`` (transforms in write order), ``chunks`` are the chunks the chain decodes, and the
    chain is built on the first read, or by :meth:`expect`, which first checks the codec's claim
    against ``bound`` (the most bytes the stored object can decode to, None if unknown) and then
    has the last transform stop at the size promised.
    """

    def __init__(self, name: str, chunks: Iterator[Any], stored: Iterator[Any] | None = None, *,
                 chain: Sequence[Transform] = (), bound: int | None = None) -> None:
        self.name = name
        self.size: int | None = None
        self.bound = bound
        self._input = chunks
        self._chain = list(chain)
        self._chunks: Iterator[Any] | None = None if self._chain else chunks
        self._reader = chunks if isinstance(chunks, DecodeReader) else None
        self._stored = stored
        self._pending = memoryview(b"")

    def expect(self, size: int, what: str = "") -> None:
        """The codec will read ``size`` bytes (what the metadata describes, ``what``): refuse a claim
        the stored object cannot hold, before the codec allocates memory for it, and decode no more."""
        if self.bound is not None and size > self.bound:
            chain = ",".join(t.name for t in self._chain)
            raise MetadataError(
                f"Object {self.name!r} cannot hold what its metadata describes: {size} bytes"
                f"{f' ({what})' if what else ''}, where its stored bytes decode through {chain} to at most "
                f"{self.bound}; the object or its metadata is damaged"
            )
        if self._chunks is None:
            self._decoded(limit=size)

    def _decoded(self, limit: int | None = None) -> Iterator[Any]:
        """The decoded chunks, the chain started on first use (``limit``: what the codec expects)."""
        if self._chunks is None:
            with _naming_errors(self.name):
                chunks: Iterator[Any] = self._input
                for transform in reversed(self._chain[1:]):
                    chunks = iter(transform.decode(chunks))
                first = self._chain[0]
                chunks = iter(first.decode(chunks) if limit is None else first.decode_limited(chunks, limit))
            self._chunks = chunks
            self._reader = chunks if isinstance(chunks, DecodeReader) else None
        return self._chunks

    def readinto(self, buffer: memoryview) -> int:
        self._decoded()
        with _naming_errors(self.name):
            filled = 0
            while filled < len(buffer):
                if self._reader is not None and not len(self._pending):
                    filled += self._reader.readinto(buffer[filled:])
                    if filled < len(buffer):
                        self._drain_stored()
                    break
                chunk = self._next()
                if chunk is None:
                    self._drain_stored()
                    break
                count = min(len(chunk), len(buffer) - filled)
                buffer[filled : filled + count] = chunk[:count]
                self._pending = chunk[count:]
                filled += count
            return filled

    def read(self) -> bytes:
        with _naming_errors(self.name):
            rest = [bytes(self._pending)] + [bytes(chunk) for chunk in self._decoded()]
            self._pending = memoryview(b"")
            self._drain_stored()
            return b"".join(rest)

    def verify(self) -> None:
        """Decode what the consumer left unread and check the stored bytes' checksum."""
        with _naming_errors(self.name):
            for _ in self._decoded():
                pass
            self._drain_stored()

    def next_chunk(self) -> memoryview | None:
        """The next decoded buffer as it was produced (None at the end), for callers that pass
        buffers on rather than fill their own."""
        with _naming_errors(self.name):
            return self._next()

    def _next(self) -> memoryview | None:
        if not len(self._pending):
            chunk = next(self._decoded(), None)
            if chunk is None:
                return None
            self._pending = memoryview(chunk).cast("B")
        return self._pending

    def start(self) -> None:
        """Read the first decoded chunk now: a stream's first request, where a replaced object or
        a refused one shows, is made while the reader can still start again."""
        with _naming_errors(self.name):
            self._next()

    def consume(self, count: int) -> None:
        """Drop ``count`` bytes of the buffer :meth:`next_chunk` returned."""
        self._pending = self._pending[count:]

    def _drain_stored(self) -> None:
        if self._stored is not None:
            for _ in self._stored:
                pass


class SourceReader(io.RawIOBase):
    """A readable, unseekable raw file object over a pipeline source.

    What ``download_stream`` hands out (wrapped in a :class:`io.BufferedReader`), what the copy
    between two backends streams from, and how a transform's output becomes an upload's stream.

    Parameters
    ----------
    source : DirectSource or StreamSource
        The decoded bytes to read; read whole (``read()``), they are read in one go.
    """

    def __init__(self, source: DirectSource | StreamSource) -> None:
        self._source = source
        self._position = 0

    @classmethod
    def of_chunks(cls, chunks: Iterator[Any], name: str = "") -> SourceReader:
        """A reader over an iterator of buffers (a transform's output, a backend's chunks)."""
        return cls(StreamSource(name, chunks))

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._source.readinto(memoryview(buffer).cast("B"))
        self._position += count
        return count

    def readall(self) -> bytes:
        """The rest of the bytes; when the size is known, read into the one ``bytes`` returned."""
        size = getattr(self._source, "size", None)
        if size is None:
            return self._source.read()
        remaining = size - self._position
        if remaining <= 0:
            self._source.verify()
            return b""
        result = io.BytesIO()
        result.seek(remaining - 1)
        result.write(b"\0")  # the buffer is allocated at its final size once
        with result.getbuffer() as view:
            filled = 0
            while filled < remaining and (count := self.readinto(view[filled:])):
                filled += count
        if filled < remaining:
            result.truncate(filled)
        return result.getvalue()  # CPython hands over the buffer itself when it is exactly filled

    def read(self, size: int | None = -1) -> bytes | bytearray:
        if size is None or size < 0:
            return self.readall()
        block = bytearray(size)  # one buffer per read: RawIOBase.read would copy it again
        del block[self.readinto(memoryview(block)) :]
        return block

    def payload_buffers(self, chunk_size: int) -> Iterator[memoryview]:
        """The source's own buffers, at most ``chunk_size`` at a time, never copied
        (:meth:`Payload.chunks` reads this way: 128 MiB encrypted to local disk, 15 ms less)."""
        source = self._source
        if not isinstance(source, StreamSource):
            while block := self.read(chunk_size):
                yield memoryview(block)
            return
        while (chunk := source.next_chunk()) is not None:
            view = chunk[:chunk_size]
            source.consume(len(view))
            yield view


class Pipeline:
    """Builds transform chains for one interface and moves values through them.

    Parameters
    ----------
    registry : cc_core.registry.Registry
        Where codec and transform names resolve.
    config : cc_core.config.Config
        Default chain (``[pipeline] transforms``) and transform settings.
    always : list of str
        Transforms appended to every chain (the encrypted interface passes its cipher here); an
        object whose stored chain lacks one of them is refused on reading.
    transform_options : dict, optional
        Options by transform name, passed to that transform's ``from_config`` (e.g. a key).
    """

    def __init__(self, registry: Any, config: Config, always: Sequence[str] = (),
                 transform_options: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.registry = registry
        self.config = config
        self.always = list(always)
        self.transform_options = {k.lower(): dict(v) for k, v in (transform_options or {}).items()}
        self._transforms: dict[str, Transform] = {}

    def transform(self, name: str) -> Transform:
        key = name.strip().lower()
        if key not in self._transforms:
            canonical = self.registry.find("transform", key).name
            options = self.transform_options.get(canonical, self.transform_options.get(key, {}))
            self._transforms[key] = self.registry.create(
                "transform", key, lambda cls: cls.from_config(self.config, **options))
        return self._transforms[key]

    def stored_chain(self, object_name: str, names: Sequence[str]) -> list[Transform]:
        """The transforms of chain ``names``, as an object's metadata lists them, in write order.

        Raises
        ------
        MetadataError
            A transform of the chain is not installed (naming the object and the chain).
        """
        try:
            return [self.transform(name) for name in names]
        except KeyError as exc:
            raise MetadataError(
                f"Object {object_name!r} was written with transform chain {list(names)}, and {exc}"
            ) from None

    def configure_transform(self, name: str, **options: Any) -> None:
        """Give transform ``name`` these ``from_config`` options from now on (e.g. ``key=``)."""
        self.transform_options[name.strip().lower()] = options
        self._transforms.clear()

    def chain(self, spec: TransformSpec) -> list[Transform]:
        """Transforms for a per-call spec: None = config default, False = none, "a,b" = those."""
        if spec is None:
            spec = self.config.get("pipeline", "transforms", fallback="") or ""
        if spec is False or spec is True:
            raise ConfigError("Pass transform names, None or False; True is resolved by the caller")
        names = spec.split(",") if isinstance(spec, str) else list(spec)
        names = [n.strip() for n in names if n.strip() and n.strip().lower() not in ("false", "none")]
        names += [n for n in self.always if n.lower() not in (m.lower() for m in names)]
        transforms = [self.transform(name) for name in names]
        _check_order(transforms)
        return transforms

    def compression_for(self, compression: TransformSpec, nbytes: int) -> TransformSpec:
        """cottoncandy 0.4's ``compression=`` argument as a transform spec."""
        if compression is None:
            if self.config.get("pipeline", "transforms", fallback=""):
                return None
            compression = self.config.getboolean("compression", "do_compression")
        if compression is True:
            threshold = self.config.getint("compression", "threshold", fallback=2 << 30)
            key = "large_array" if nbytes >= threshold else "small_array"
            return self.config.get("compression", key, fallback="zstd")
        if compression is False:
            return []
        return compression

    # -- writing -------------------------------------------------------------------------------
    def write(
        self,
        backend: Backend,
        name: str,
        encoded: Encoded,
        chain: list[Transform],
        codec: str | None,
        user_metadata: Mapping[str, str],
        *,
        progress: Progress = NO_PROGRESS,
        **put_options: Any,
    ) -> ObjectInfo:
        """Encode, transform and store an object; returns what the backend stored."""
        metadata = dict(encoded.metadata)
        if codec:
            metadata[CODEC_KEY] = codec
        if chain or codec == "raw":
            metadata[TRANSFORMS_KEY] = ",".join(t.name for t in chain)
        if codec == "raw":
            metadata[LEGACY_COMPRESSION_KEY] = legacy_compression(chain, metadata.get("order", "C"))
        if backend.capabilities.lowercase_metadata_keys:  # the store would merge "Key" and "key" silently
            lowered = {key.lower(): value for key, value in user_metadata.items()}
            if len(lowered) < len(user_metadata):
                raise MetadataError(
                    f"The metadata of {name!r} has keys that differ only in case ({sorted(user_metadata)}); "
                    f"the {backend.name} backend stores keys lower-cased: rename one"
                )
            user_metadata = lowered
        metadata.update(user_metadata)
        chain = [transform.for_writing(metadata, ObjectPlace.of(backend, name)) for transform in chain]
        limit = backend.capabilities.metadata_limit
        if limit is not None and metadata_size(metadata) + CHECKSUM_METADATA_SIZE > limit:
            raise MetadataError(
                f"The metadata of {name!r} takes {metadata_size(metadata) + CHECKSUM_METADATA_SIZE} bytes "
                f"with its checksum; the {backend.name} backend allows {limit}. Store large annotations "
                "as a json object"
            )
        payload = encoded.payload
        for transform in chain:
            size = None if payload.size is None else transform.encoded_size(payload.size)
            chunks = transform.encode_sized(payload.chunks(), payload.size)
            if size is None:
                payload = Payload(list(chunks))
            else:  # memory stays bounded by a few chunks, whatever the object's size
                payload = Payload(stream=SourceReader.of_chunks(iter(chunks)), size=size)  # type: ignore[arg-type]
        # every object gets cc-digest over its deciding metadata, recorded with (after) its checksum
        if any(t.kind == ENCRYPTION for t in chain):
            seal(metadata)  # no checksum: authenticated encryption checks every segment, ranged reads too
        elif backend.capabilities.metadata_after_data and payload.buffers is not None:  # digested as written
            payload = ChecksummedPayload(payload, metadata)
        elif payload.buffers is not None:
            seal(metadata, checksum_of(payload.buffers))
        else:  # digested as the stream passes; a backend that sent the metadata first records it after
            payload = Payload(stream=ChecksumReader(payload.stream, metadata, payload.size), size=payload.size)  # type: ignore[arg-type]
        stored = backend.put(name, payload, metadata, progress=progress, **put_options)
        return stored if stored is not None else backend.head(name)

    # -- reading -------------------------------------------------------------------------------
    def read(self, backend: Backend, name: str, consume: Consumer, *, progress: Progress = NO_PROGRESS,
             streamed: bool = False) -> Any:
        """Read object ``name``: ``consume(info, source)`` gets its metadata and decoded bytes.

        Every download runs through here. The object's read is begun with
        :meth:`Backend.open_read` (one request on S3: the metadata comes with the bytes), its
        metadata checked (see :meth:`source`) before any byte is decoded, and ``consume`` reads
        what it needs; the rest is then read too, so that the
        checksum is checked all the same. When a writer replaced the object meanwhile (the backend
        raises :class:`ObjectChangedError`, or the checksum fails and the object has changed since
        it was opened) the whole read starts again, up to :data:`READ_ATTEMPTS` times, so the
        result is always one whole version. Transient faults of single requests are the backend's
        to retry (see :mod:`cc_core.retry`).

        Parameters
        ----------
        backend : Backend
            The store holding the object.
        name : str
            The object's key in ``backend``.
        consume : callable
            ``consume(info, source)`` returns the result; it may be called more than once.
        progress : Progress
            Told the stored size and the bytes as they arrive.
        streamed : bool
            ``consume`` hands the source on to be read later (a file object): the source reads in
            one streamed request, and its first chunk is read before ``consume`` is called, so a
            replaced object is read again here; what the consumer reads later is not retried,
            and the checksum is checked when it reaches the end.

        Returns
        -------
        object
            What ``consume`` returned.

        Raises
        ------
        ObjectNotFoundError
            There is no object ``name``.
        IntegrityError
            The stored bytes fail their checksum, or the object lacks a transform this pipeline
            always applies.
        ObjectChangedError
            Writers replaced the object during every attempt.
        """
        for attempt in range(READ_ATTEMPTS):
            opened: OpenedObject | None = None
            handed_on = False
            try:
                opened = backend.open_read(name, progress=progress)
                info = opened.info
                source = self.source(backend, info, progress=progress, streamed=streamed, opened=opened)
                if streamed:
                    assert isinstance(source, StreamSource)
                    source.start()
                    result = consume(info, source)
                    handed_on = True  # the stream's reader finishes (or drops) the read
                    return result
                result = consume(info, source)
                source.verify()  # a consumer that stopped short of the end is checked too
                return result
            except ObjectChangedError:
                if attempt == READ_ATTEMPTS - 1:
                    raise
            except IntegrityError:
                # bytes of a newer version under this version's metadata (a local file's inode
                # reused by a fast writer) fail the checksum: read again if the object changed
                if attempt == READ_ATTEMPTS - 1 or opened is None or not _replaced(backend, opened.info):
                    raise
            finally:
                if opened is not None and not handed_on:
                    opened.close()
        raise AssertionError("unreachable")  # pragma: no cover

    def read_range(self, backend: Backend, name: str, start: int, stop: int | None = None, *,
                   into: memoryview | None = None, chain: Sequence[str] | None = None,
                   info: ObjectInfo | None = None) -> memoryview:
        """Decoded bytes ``[start, stop)`` of object ``name``, reading only the stored bytes needed.

        One range of the decoder :meth:`open_ranges` opens (see there for the checks and which
        chains qualify); to read many ranges of one object, open it once instead.

        Parameters
        ----------
        backend : Backend
            The store holding the object.
        name : str
            The object's key in ``backend``.
        start, stop : int
            Offsets in the decoded bytes, clipped like a slice's (negative: from the end; ``stop``
            None: to the end). With ``into``, ``stop`` is ignored.
        into : memoryview, optional
            A writable byte buffer to fill from ``start`` (a preallocated array's memory); the
            range is ``len(into)`` bytes long.
        chain : list of str, optional
            The transform chain the object must have been stored with (``['aes-gcm']``); default:
            any chain that can be read in ranges.
        info : ObjectInfo, optional
            The object's ``head``, when the caller has it: the read is of that version
            (:class:`ObjectChangedError` if the object was replaced since). Without it the object
            is opened with its first bytes (:func:`open_prefix`: one request on S3).

        Returns
        -------
        memoryview
            The bytes read: a part of ``into`` (shorter than it only where the object ends first),
            or a new buffer.

        Raises
        ------
        MetadataError
            The object's transform chain cannot be read in ranges (or is not ``chain``).
        IntegrityError
            The object lacks a transform this pipeline always applies, or the bytes read for the
            range fail their checks.
        """
        decoder = self.open_ranges(backend, name, chain=chain, info=info)
        if into is not None:
            stop = start + len(into) if start >= 0 or start + len(into) < 0 else None
        first, end, _ = slice(start, stop).indices(decoder.size)
        if into is None:
            return memoryview(decoder.read(first, max(first, end))).cast("B")
        return into[: decoder.readinto(first, into[: max(0, end - first)])]

    def open_ranges(self, backend: Backend, name: str, *, chain: Sequence[str] | None = None,
                    info: ObjectInfo | None = None, prefix: bytes = b"") -> RangeDecoder:
        """The decoded bytes of object ``name``, read a range at a time with only the stored bytes needed.

        The checks of a full read come first: the metadata's ``cc-digest``, and the transforms this
        pipeline always applies (an encrypted interface refuses an unencrypted object here too).
        An object stored without transforms is read with ranged ``get_into`` calls; one whose
        every transform decodes ranges (:attr:`Transform.decodes_ranges`: aes-gcm's segments,
        zstd-seekable's frames) composes their decoders, the first written decoding the ranges
        the next one reads: for ``zstd-seekable,aes-gcm`` the frames a range needs are decrypted
        from the segments under them. The object's checksum covers all of it and so is not
        checked; those transforms check what they decode (authenticated segments, frame checksums).

        Parameters
        ----------
        backend, name, chain, info
            As for :meth:`read_range`.
        prefix : bytes
            With ``info``: the first stored bytes of that version, read with it
            (:func:`open_prefix`). Reads of stored bytes inside them are answered from memory.

        Returns
        -------
        RangeDecoder
            Thread-safe; its errors name the object. Opening it may read an index (an encryption
            header, a seek table).

        Raises
        ------
        MetadataError
            The object's transform chain cannot be read in ranges (or is not ``chain``).
        IntegrityError
            The object lacks a transform this pipeline always applies, or its index is damaged.
        """
        if info is None:
            info, prefix = open_prefix(backend, name)
        check_metadata(info.name, info.metadata)
        names = chain_names(info.metadata)
        self._check_always(info.name, names)
        if chain is not None and [n.lower() for n in names] != [n.lower() for n in chain]:
            raise MetadataError(
                f"Object {name!r} is stored with transform chain {names or 'none'}; this ranged read needs "
                f"{','.join(chain) or 'no transform'} and nothing else. Download it whole instead"
            )
        transforms = self.stored_chain(name, names)
        if not all(transform.decodes_ranges for transform in transforms):
            raise MetadataError(
                f"Object {name!r} is stored with transform chain {names}, whose bytes have no offsets into "
                f"the decoded bytes ({', '.join(t.name for t in transforms if not t.decodes_ranges)} cannot "
                "decode a range: whole-object compression); ranged reads need transforms that decode ranges "
                "(zstd-seekable, aes-gcm) or none. Download it whole instead"
            )
        place = ObjectPlace.of(backend, info.name)
        decoder: RangeDecoder = _StoredRanges(backend, name, info, prefix)
        with _naming_errors(name):
            for transform in reversed(transforms):  # the last written is decoded first
                decoder = transform.for_reading(info.metadata, place).open_ranges(decoder.read, decoder.size)
        return _NamedRanges(decoder, name) if transforms else decoder

    def source(self, backend: Backend, info: ObjectInfo, *, progress: Progress = NO_PROGRESS,
               streamed: bool = False, opened: OpenedObject | None = None) -> DirectSource | StreamSource:
        """The decoded bytes of an object whose ``info`` (from ``head``) is known, or of the
        read ``opened`` (from :meth:`Backend.open_read`, whose info is ``info``).

        Its deciding metadata is checked against its ``cc-digest`` first, before any byte is read.
        Bytes that need no decoding are read with ``get_into`` into the consumer's buffer (one
        call: parallel ranges for a large object), unless ``streamed``: a consumer that reads
        piece by piece (a file object) gets them from one streamed GET instead of a request per
        piece.
        """
        check_metadata(info.name, info.metadata)
        names = chain_names(info.metadata)
        self._check_always(info.name, names)
        if opened is None:
            opened = OpenedObject(backend, info, progress)
        if not names and not streamed:
            progress.set_size(info.size)
            return DirectSource(opened)
        chain = [transform.for_reading(info.metadata, ObjectPlace.of(backend, info.name))
                 for transform in self.stored_chain(info.name, names)]
        progress.set_size(info.size)
        stored = Verifier(info.name, info.metadata, info.size).chunks(opened.chunks(DECODE_CHUNK_SIZE))
        if prefetch_pays(info.size, copies_only=backend.capabilities.copies_only):
            stored = prefetched(stored)  # the next chunk is read while this one is decoded
        bound: int | None = info.size
        for transform in reversed(chain):
            bound = None if bound is None else transform.decoded_size_bound(bound)
        source = StreamSource(info.name, stored, stored, chain=chain, bound=bound)
        if not chain:
            source.size = info.size
        return source

    # -- copying -------------------------------------------------------------------------------
    @property
    def binds_places(self) -> bool:
        """Whether a transform this interface always applies gives copies new metadata (:meth:`rebind`)."""
        return any(self.transform(name).binds_places for name in self.always)

    def rebind(self, metadata: Mapping[str, str], source: ObjectPlace, destination: ObjectPlace,
               read: Callable[[int, int], bytes]) -> dict[str, str] | None:
        """The metadata of a copy from ``source`` to ``destination``, or None to keep ``metadata``.

        Asks each always-applied transform of the object's stored chain
        (:meth:`cc_core.transform.Transform.rebind`; ``read(start, stop)``: the source's stored
        bytes); a changed metadata gets a new ``cc-digest``.
        """
        written = {name.strip().lower() for name in chain_names(metadata)}
        rebound: dict[str, str] | None = None
        for name in self.always:
            transform = self.transform(name)
            if transform.binds_places and transform.name in written:
                rebound = transform.rebind(rebound or metadata, source, destination, read) or rebound
        if rebound is None:
            return None
        rebound = {key: value for key, value in rebound.items() if key.lower() != DIGEST_KEY}
        seal(rebound)
        return rebound

    def _check_always(self, name: str, names: Sequence[str]) -> None:
        """Refuse an object that was stored without a transform this interface always applies."""
        written = {n.strip().lower() for n in names}
        missing = [t for t in self.always if t.strip().lower() not in written]
        if not missing:
            return
        encrypted = any(self.transform(t).kind == ENCRYPTION for t in missing)
        raise IntegrityError(
            f"Object {name!r} was stored without {', '.join(missing)} (its transform chain: "
            f"{','.join(names) or 'none'}){': it is not encrypted' if encrypted else ''}. This interface "
            f"applies {', '.join(missing)} to every object and reads only such objects; if you trust this "
            "one, read it with cc.get_interface()"
        )


def open_prefix(backend: Backend, name: str, size: int = PREFIX_SIZE) -> tuple[ObjectInfo, bytes]:
    """The info of object ``name`` and its first ``size`` stored bytes (fewer when it is shorter),
    of one version, from one :meth:`Backend.open_read` with a byte range (one GET on S3, where a
    HEAD and a ranged read of the header took two).

    Nothing is checked: pass both to :meth:`Pipeline.open_ranges`, which checks the metadata
    before it uses a byte. Raises :class:`ObjectNotFoundError` for a missing object.
    """
    opened = backend.open_read(name, byte_range=RangeByteRequest(0, size))
    try:
        buffer = bytearray(opened.end - opened.position)
        count = opened.readinto(memoryview(buffer))
    finally:
        opened.close()
    del buffer[count:]
    return opened.info, bytes(buffer)


def _replaced(backend: Backend, info: ObjectInfo) -> bool:
    """Whether the object ``info`` described has been replaced since."""
    try:
        current = backend.head(info.name)
    except ObjectNotFoundError:
        return False
    return (current.version, current.size, dict(current.metadata)) != (info.version, info.size, dict(info.metadata))


@contextmanager
def _naming_errors(name: str) -> Iterator[None]:
    """A transform's error gets the object's name (transforms do not know it)."""
    try:
        yield
    except CottonCandyError as exc:
        if not name:
            raise
        if getattr(exc, "object_name", "") is None:
            exc.object_name = name  # type: ignore[attr-defined]
        elif repr(name) not in str(exc):
            exc.args = (f"Object {name!r}: {exc}", *exc.args[1:])
        raise


class _StoredRanges(RangeDecoder):
    """The stored bytes of one version of an object, read with ranged ``get_into`` calls pinned to
    it; ranges inside ``prefix`` (its first bytes, read when it was opened) come from memory."""

    def __init__(self, backend: Backend, name: str, info: ObjectInfo, prefix: bytes = b"") -> None:
        self._backend, self._name, self._version = backend, name, info.version
        self.size = info.size
        self._prefix = memoryview(prefix)

    def read(self, start: int, stop: int) -> memoryview:
        stop = min(stop, self.size)
        if stop <= len(self._prefix):
            return self._prefix[start:stop]
        buffer = memoryview(bytearray(max(0, stop - start)))
        return buffer[: self.readinto(start, buffer)]

    def readinto(self, start: int, buffer: memoryview) -> int:
        end = min(start + len(buffer), self.size)
        if end <= start:
            return 0
        if end <= len(self._prefix):
            buffer[: end - start] = self._prefix[start:end]
            return end - start
        return self._backend.get_into(self._name, buffer[: end - start], byte_range=RangeByteRequest(start, end),
                                      version=self._version)


class _NamedRanges(RangeDecoder):
    """A decoder whose errors name the object (transforms do not know it)."""

    def __init__(self, decoder: RangeDecoder, name: str) -> None:
        self._decoder, self._name = decoder, name
        self.size, self.granularity = decoder.size, decoder.granularity

    def read(self, start: int, stop: int) -> Any:
        with _naming_errors(self._name):
            return self._decoder.read(start, stop)

    def readinto(self, start: int, buffer: memoryview) -> int:
        with _naming_errors(self._name):
            return self._decoder.readinto(start, buffer)


def _check_order(chain: list[Transform]) -> None:
    encrypted = False
    for transform in chain:
        if transform.kind == ENCRYPTION:
            encrypted = True
        elif transform.kind == COMPRESSION and encrypted:
            raise ConfigError(
                f"Transform chain {[t.name for t in chain]} compresses after encrypting; "
                "encrypted bytes do not compress: put compression first"
            )
