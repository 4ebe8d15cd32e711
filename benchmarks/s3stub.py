"""An in-memory S3 stub server for benchmarks: as little server work as possible, so that the client is measured.

Run it on its own (``python benchmarks/s3stub.py [--https] [--port N]``; it prints ``ready <endpoint> <ca
bundle or ->`` once it listens) or through :class:`StubServer`, which starts and stops it as a child process.

What it answers, path-style (``/bucket/key``), over http or https (a CA and a server certificate for 127.0.0.1
and localhost, made at start with ``cryptography``; clients trust the CA through ``verify=`` / ``AWS_CA_BUNDLE``
/ ``SSL_CERT_FILE``): bucket create/head/list (ListObjectsV2, one page), object PUT (plain bodies and
boto3's ``aws-chunked`` bodies with a trailing checksum), GET with ``Range`` and ``If-Match``, HEAD, DELETE,
DeleteObjects, CopyObject (``COPY``/``REPLACE`` metadata, ``x-amz-copy-source-if-match``), multipart
create/upload-part/complete/abort.

What it does not do: verify signatures or checksums, hash anything (ETags are counters), keep versions, page
listings. Bodies are read with ``readinto`` into one preallocated buffer per request and answered from it
without copies (a completed multipart upload joins its parts once).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import itertools
import os
import re
import ssl
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

_ETAGS = itertools.count(1)
_LAST_MODIFIED = "Sun, 01 Nov 2026 00:00:00 GMT"
_ISO_MODIFIED = "2026-11-01T00:00:00.000Z"
_XML = '<?xml version="1.0" encoding="UTF-8"?>\n'
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


@dataclass
class StoredObject:
    body: memoryview
    metadata: dict[str, str]
    content_type: str = "binary/octet-stream"
    etag: str = field(default_factory=lambda: f'"{next(_ETAGS):032x}"')


@dataclass
class Upload:
    key: str
    metadata: dict[str, str]
    content_type: str
    parts: dict[int, memoryview] = field(default_factory=dict)


class Store:
    """Buckets of objects and open multipart uploads, in memory, behind one lock."""

    def __init__(self) -> None:
        self.buckets: dict[str, dict[str, StoredObject]] = {}
        self.uploads: dict[str, Upload] = {}
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two sends: no 40 ms wait for a delayed ACK
    server: StubHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing ----------------------------------------------------------------------------------
    def _target(self) -> tuple[str, str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        bucket, _, key = parts.path.lstrip("/").partition("/")
        return unquote(bucket), unquote(key), parse_qs(parts.query, keep_blank_values=True)

    def _read_body(self) -> memoryview:
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            raw = self._read_http_chunked()
            if "aws-chunked" in self.headers.get("Content-Encoding", ""):
                return _decode_aws_chunked(raw, int(self.headers.get("x-amz-decoded-content-length") or 0))
            return raw
        size = int(self.headers.get("Content-Length") or 0)
        body = memoryview(bytearray(size))
        filled = 0
        while filled < size:
            count = self.rfile.readinto(body[filled:])
            if not count:
                raise ConnectionError("the client closed the connection mid-body")
            filled += count
        return body

    def _read_http_chunked(self) -> memoryview:
        pieces = []
        while True:
            size = int(self.rfile.readline().split(b";")[0], 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return memoryview(b"".join(pieces))
            pieces.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, status: int, body: bytes | memoryview = b"", headers: dict[str, str] | None = None,
              length: int | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _xml(self, status: int, text: str) -> None:
        self._send(status, (_XML + text).encode(), {"Content-Type": "application/xml"})

    def _error(self, status: int, code: str, message: str = "") -> None:
        if self.command == "HEAD":
            self._send(status)
            return
        self._xml(status, f"<Error><Code>{code}</Code><Message>{escape(message or code)}</Message></Error>")

    def _bucket(self, name: str) -> dict[str, StoredObject] | None:
        found = self.server.store.buckets.get(name)
        if found is None:
            if self.command in ("PUT", "POST"):
                self._read_body()  # keep the connection in step
            self._error(404, "NoSuchBucket", f"The bucket {name} does not exist")
        return found

    def _metadata(self) -> dict[str, str]:
        prefix = "x-amz-meta-"
        return {k[len(prefix):].lower(): v for k, v in self.headers.items() if k.lower().startswith(prefix)}

    def _object_headers(self, stored: StoredObject) -> dict[str, str]:
        headers = {"ETag": stored.etag, "Last-Modified": _LAST_MODIFIED, "Content-Type": stored.content_type,
                   "Accept-Ranges": "bytes"}
        headers.update({f"x-amz-meta-{k}": v for k, v in stored.metadata.items()})
        return headers

    # -- verbs -------------------------------------------------------------------------------------
    def do_PUT(self) -> None:
        bucket, key, query = self._target()
        store = self.server.store
        if not key:
            with store.lock:
                store.buckets.setdefault(bucket, {})
            self._read_body()
            self._send(200, headers={"Location": f"/{bucket}"})
            return
        objects = self._bucket(bucket)
        if objects is None:
            return
        if "uploadId" in query:
            body = self._read_body()
            upload = store.uploads.get(query["uploadId"][0])
            if upload is None:
                self._error(404, "NoSuchUpload")
                return
            upload.parts[int(query["partNumber"][0])] = body
            self._send(200, headers={"ETag": f'"{next(_ETAGS):032x}"'})
            return
        if "x-amz-copy-source" in self.headers:
            self._read_body()
            self._copy(objects, key)
            return
        body = self._read_body()
        stored = StoredObject(body, self._metadata(), self.headers.get("Content-Type") or "binary/octet-stream")
        with store.lock:
            objects[key] = stored
        self._send(200, headers={"ETag": stored.etag})

    def _copy(self, objects: dict[str, StoredObject], key: str) -> None:
        source = unquote(self.headers["x-amz-copy-source"]).lstrip("/")
        source_bucket, _, source_key = source.partition("/")
        found = self.server.store.buckets.get(source_bucket, {}).get(source_key.split("?versionId=")[0])
        if found is None:
            self._error(404, "NoSuchKey", f"The copy source {source} does not exist")
            return
        if self._precondition_failed("x-amz-copy-source-if-match", found):
            return
        if self.headers.get("x-amz-metadata-directive", "COPY").upper() == "REPLACE":
            copied = StoredObject(found.body, self._metadata(), self.headers.get("Content-Type") or found.content_type)
        else:
            copied = StoredObject(found.body, dict(found.metadata), found.content_type)
        with self.server.store.lock:
            objects[key] = copied
        self._xml(200, f"<CopyObjectResult><LastModified>{_ISO_MODIFIED}</LastModified>"
                       f"<ETag>{escape(copied.etag)}</ETag></CopyObjectResult>")

    def _precondition_failed(self, header: str, stored: StoredObject) -> bool:
        """Whether the request's ``header`` (an If-Match) names another ETag than ``stored``'s: then
        answered 412."""
        condition = self.headers.get(header)
        if condition and condition.strip('"') != stored.etag.strip('"'):
            self._error(412, "PreconditionFailed", header)
            return True
        return False

    def do_GET(self) -> None:
        bucket, key, query = self._target()
        objects = self._bucket(bucket)
        if objects is None:
            return
        if not key:
            self._list(objects, query)
            return
        stored = objects.get(key)
        if stored is None:
            self._error(404, "NoSuchKey", f"The key {key} does not exist")
            return
        if self._precondition_failed("If-Match", stored):
            return
        headers = self._object_headers(stored)
        size = len(stored.body)
        requested = _RANGE.match(self.headers.get("Range", "").strip())
        if not requested:
            self._send(200, stored.body if self.command == "GET" else b"", headers, length=size)
            return
        first, last = requested.groups()
        if first:
            start, stop = int(first), min(int(last) + 1, size) if last else size
        else:  # a suffix range: the last ``last`` bytes
            start, stop = size - int(last), size
        if start >= size or stop <= start:
            self._error(416, "InvalidRange", f"bytes={first}-{last} of {size}")
            return
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
        self._send(206, stored.body[start:stop] if self.command == "GET" else b"", headers, length=stop - start)

    def _list(self, objects: dict[str, StoredObject], query: dict[str, list[str]]) -> None:
        prefix = query.get("prefix", [""])[0]
        delimiter = query.get("delimiter", [""])[0]
        entries, prefixes = [], set()
        for key in sorted(objects):
            if not key.startswith(prefix):
                continue
            rest = key[len(prefix):]
            if delimiter and delimiter in rest:
                prefixes.add(prefix + rest.split(delimiter, 1)[0] + delimiter)
                continue
            stored = objects[key]
            entries.append(f"<Contents><Key>{escape(key)}</Key><LastModified>{_ISO_MODIFIED}</LastModified>"
                           f"<ETag>{escape(stored.etag)}</ETag><Size>{len(stored.body)}</Size>"
                           "<StorageClass>STANDARD</StorageClass></Contents>")
        common = "".join(f"<CommonPrefixes><Prefix>{escape(p)}</Prefix></CommonPrefixes>" for p in sorted(prefixes))
        self._xml(200, f"<ListBucketResult><Name>x</Name><Prefix>{escape(prefix)}</Prefix>"
                       f"<KeyCount>{len(entries)}</KeyCount><MaxKeys>1000000</MaxKeys><IsTruncated>false</IsTruncated>"
                       f"{''.join(entries)}{common}</ListBucketResult>")

    def do_HEAD(self) -> None:
        bucket, key, _ = self._target()
        if not key:
            self._send(200 if bucket in self.server.store.buckets else 404)
            return
        self.do_GET()

    def do_DELETE(self) -> None:
        bucket, key, query = self._target()
        store = self.server.store
        with store.lock:
            if "uploadId" in query:
                store.uploads.pop(query["uploadId"][0], None)
            elif key:
                store.buckets.get(bucket, {}).pop(key, None)
            else:
                store.buckets.pop(bucket, None)
        self._send(204)

    def do_POST(self) -> None:
        bucket, key, query = self._target()
        body = self._read_body()
        objects = self._bucket(bucket)
        if objects is None:
            return
        store = self.server.store
        if "delete" in query:
            keys = [unquote(k) for k in re.findall(r"<Key>(.*?)</Key>", bytes(body).decode())]
            with store.lock:
                for name in keys:
                    objects.pop(name.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"), None)
            self._xml(200, "<DeleteResult></DeleteResult>")
        elif "uploads" in query:
            upload_id = os.urandom(8).hex()
            content_type = self.headers.get("Content-Type") or "binary/octet-stream"
            store.uploads[upload_id] = Upload(key, self._metadata(), content_type)
            self._xml(200, f"<InitiateMultipartUploadResult><Bucket>{escape(bucket)}</Bucket><Key>{escape(key)}</Key>"
                           f"<UploadId>{upload_id}</UploadId></InitiateMultipartUploadResult>")
        elif "uploadId" in query:
            upload = store.uploads.pop(query["uploadId"][0], None)
            if upload is None:
                self._error(404, "NoSuchUpload")
                return
            numbers = [int(n) for n in re.findall(r"<PartNumber>(\d+)</PartNumber>", bytes(body).decode())]
            joined = memoryview(b"".join(upload.parts[n] for n in numbers))
            stored = StoredObject(joined, upload.metadata, upload.content_type)
            with store.lock:
                objects[key] = stored
            self._xml(200, f"<CompleteMultipartUploadResult><Bucket>{escape(bucket)}</Bucket><Key>{escape(key)}</Key>"
                           f"<ETag>{escape(stored.etag)}</ETag></CompleteMultipartUploadResult>")
        else:
            self._error(400, "NotImplemented", f"POST {self.path} is not in the stub")


def _decode_aws_chunked(raw: memoryview, size: int) -> memoryview:
    """The payload of an ``aws-chunked`` body (``<hex size>[;...]\\r\\n<bytes>\\r\\n`` ..., a 0 chunk, trailers)."""
    out = memoryview(bytearray(size))
    position = filled = 0
    data = raw.obj if isinstance(raw.obj, bytes) else bytes(raw)
    while True:
        line_end = data.index(b"\r\n", position)
        count = int(data[position:line_end].split(b";")[0], 16)
        position = line_end + 2
        if count == 0:
            return out[:filled]
        if filled + count > len(out):
            grown = memoryview(bytearray(filled + count))
            grown[:filled] = out[:filled]
            out = grown
        out[filled : filled + count] = raw[position : position + count]
        filled += count
        position += count + 2


class StubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], store: Store) -> None:
        super().__init__(address, Handler)
        self.store = store


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1/localhost signed by it; returns (ca, cert, key) PEM paths."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    validity = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=7))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cottoncandy benchmark stub CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(validity[0]).not_valid_after(validity[1])
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
              .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(validity[0]).not_valid_after(validity[1])
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                          x509.DNSName("localhost")]), critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "server.pem", folder / "server-key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def serve(port: int, https: bool, folder: Path) -> None:
    server = StubHTTPServer(("127.0.0.1", port), Store())
    ca = "-"
    if https:
        ca_path, cert, key = make_certificates(folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        ca = str(ca_path)
    scheme = "https" if https else "http"
    print(f"ready {scheme}://127.0.0.1:{server.server_address[1]} {ca}", flush=True)
    server.serve_forever(poll_interval=0.5)


#: A repetition's number in a contestant's object names (``.../rep3``, ``..._rep3.npy``).
REPETITION = re.compile(r"(?:^|[/_])rep(\d+)(?:$|[/._])")


class ServerProcess:
    """An S3 server in a child process on 127.0.0.1: its ``endpoint``, ``ca_bundle`` (https) and a
    boto3 ``client`` on it, for the benchmarks' own bookkeeping (buckets, what a contestant stored)."""

    endpoint: str
    ca_bundle: str | None = None
    client: Any
    process: subprocess.Popen[Any]

    def create_bucket(self, bucket: str) -> None:
        self.client.create_bucket(Bucket=bucket)

    def clear(self, bucket: str, prefix: str) -> dict[str, int]:
        """Delete every object under ``prefix``; returns their keys and sizes."""
        deleted: dict[str, int] = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            items = page.get("Contents", [])
            if items:
                self.client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": i["Key"]} for i in items]})
            deleted.update((item["Key"], item["Size"]) for item in items)
        return deleted

    def stored_bytes_and_clear(self, bucket: str, prefix: str) -> int:
        """Bytes stored under ``prefix`` by its last repetition (``.../rep<N>``), then delete them all."""
        reps: dict[int, int] = {}
        for key, size in self.clear(bucket, prefix).items():
            found = REPETITION.search(key[len(prefix):])
            if found:
                reps[int(found.group(1))] = reps.get(int(found.group(1)), 0) + size
        return reps[max(reps)] if reps else 0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class StubServer(ServerProcess):
    """The stub in a child process on a free port of 127.0.0.1 (``https``: with a fresh CA, ``ca_bundle``)."""

    def __init__(self, https: bool = False) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="s3stub-")
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--port", "0", "--folder", self._folder.name,
             *(["--https"] if https else [])], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()
        if not line or line[0] != "ready":
            self.stop()
            raise RuntimeError("the S3 stub server did not start (see its error output above)")
        self.endpoint = line[1]
        self.ca_bundle = None if line[2] == "-" else line[2]
        self.client = _client(self.endpoint, self.ca_bundle)

    def stop(self) -> None:
        super().stop()
        self._folder.cleanup()


def _client(endpoint: str, ca_bundle: str | None) -> Any:
    import boto3
    from botocore.client import Config

    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                        region_name="us-east-1", verify=ca_bundle if ca_bundle else True,
                        config=Config(s3={"addressing_style": "path"}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--https", action="store_true", help="serve https with a CA made at start")
    parser.add_argument("--folder", help="where the certificates go (default: a temporary folder)")
    args = parser.parse_args(argv)
    folder = Path(args.folder or tempfile.mkdtemp(prefix="s3stub-"))
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.port, args.https, folder)


if __name__ == "__main__":
    main()
