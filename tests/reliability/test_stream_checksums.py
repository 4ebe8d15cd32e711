"""Every object carries a checksum, whatever method wrote it: files and streams uploaded to S3
(one PUT, or a multipart upload whose checksum is recorded by a server-side self-copy) and Drive
(a properties update after the upload)."""

from __future__ import annotations

import os

import pytest
import xxhash
from unseekable import Unseekable

from cc_core.errors import IntegrityError

pytest.importorskip("cc_backend_gdrive")
from gdrive.conftest import drive_auth_files, drive_options, drive_root, fake_drive, gdrive_interface  # noqa: F401


def expected(data: bytes) -> str:
    return f"xxh3-64:{xxhash.xxh3_64(data).hexdigest()}"


@pytest.mark.parametrize("size, how", [(100_000, "file"), (1_200_000, "file"), (100_000, "stream"),
                                       (1_200_000, "stream")],
                         ids=["file-one-put", "file-multipart", "stream-one-put", "stream-multipart"])
def test_streamed_uploads_to_s3_carry_a_checksum(proxied, fault_proxy, s3_client, s3_bucket, tmp_path, size, how):
    cci = proxied()
    data = os.urandom(size)
    if how == "file":
        (tmp_path / "in.bin").write_bytes(data)
        cci.upload_from_file(tmp_path / "in.bin", "up", author="me")
    else:
        cci.upload_object("up", Unseekable(data), author="me")
    head = s3_client.head_object(Bucket=s3_bucket, Key="up")
    assert head["Metadata"]["cc-checksum"] == expected(data)
    assert head["Metadata"]["author"] == "me"
    copies = [s for s in fault_proxy.requests("PUT") if "x-amz-copy-source" in s.headers]
    assert len(copies) == (1 if size > 512 * 1024 else 0)  # only a multipart upload needs the self-copy
    assert cci.download_object("up") == data
    body = bytearray(s3_client.get_object(Bucket=s3_bucket, Key="up")["Body"].read())
    body[7] ^= 1
    s3_client.put_object(Bucket=s3_bucket, Key="up", Body=bytes(body), Metadata=head["Metadata"])
    with pytest.raises(IntegrityError, match="'up' fails its checksum"):
        cci.download_object("up")


@pytest.mark.parametrize("size", [100_000, 1_000_000], ids=["one-request", "resumable"])
def test_streamed_uploads_to_drive_carry_a_checksum(gdrive_interface, tmp_path, size):
    data = os.urandom(size)
    (tmp_path / "in.bin").write_bytes(data)
    gdrive_interface.upload_from_file(tmp_path / "in.bin", "up", author="me")
    metadata = gdrive_interface.get_object("up").metadata
    assert metadata["cc-checksum"] == expected(data) and metadata["author"] == "me"
    assert gdrive_interface.download_object("up") == data
