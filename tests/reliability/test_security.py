"""Security: private by default, secrets kept out of every output, no escape from the local root,
no implicit unpickling, and encrypted objects that fail closed when damaged on the way."""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import uuid

import numpy as np
import pytest

import cottoncandy as cc
from cc_core.errors import CottonCandyError, IntegrityError, InvalidNameError, ObjectNotFoundError

from .conftest import TRANSFER

FAKE_ACCESS = "AKIAFAKERELIABILITY7"
FAKE_SECRET = "fake+Secret/Key/For/Reliability0123456789"
FAKE_TOKEN = "fake-session-token-for-reliability"


def test_objects_and_buckets_are_private_by_default(proxied, fault_proxy, s3_client, s3_bucket):
    cci = proxied()
    cci.upload_raw_array("small", np.arange(10), compression=False)
    cci.upload_raw_array("big", np.random.default_rng(1).random(150_000), compression=False)  # multipart
    sent = fault_proxy.requests("PUT") + fault_proxy.requests("POST", r"\?uploads")
    assert sent and all(seen.headers.get("x-amz-acl", "private") == "private" for seen in sent)
    # (moto cannot report the ACL of a multipart object that was given none: its headers above show it)
    grants = s3_client.get_object_acl(Bucket=s3_bucket, Key="small")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]  # the owner, and nobody else
    assert all(g["Grantee"].get("Type") == "CanonicalUser" for g in grants)
    new_bucket = f"cc-private-{uuid.uuid4().hex[:12]}"
    cci.create_bucket(new_bucket)
    grants = s3_client.get_bucket_acl(Bucket=new_bucket)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    s3_client.delete_bucket(Bucket=new_bucket)


def test_secrets_never_appear_in_reprs_logs_errors_or_pickles(fault_proxy, s3_bucket, cc_settings, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    cci = cc.get_interface(s3_bucket, FAKE_ACCESS, FAKE_SECRET, endpoint_url=fault_proxy.url, backend="s3",
                           settings=cc_settings, verbose=False, aws_session_token=FAKE_TOKEN,
                           max_attempts=2, retry_base_delay=0.01)
    cci.upload_raw_array("a", np.arange(5))
    cci.download_raw_array("a")
    shown = [repr(cci), repr(cci.backend), str(cci.settings.as_dict()), repr(cci.settings)]
    errors = []
    for fault in [("status", {"status": 403, "code": "SignatureDoesNotMatch", "method": "GET"}),
                  ("status", {"status": 403, "code": "InvalidAccessKeyId", "method": "GET"}),
                  ("status", {"status": 503, "times": None})]:
        fault_proxy.reset()
        fault_proxy.add(fault[0], **fault[1])
        with pytest.raises(CottonCandyError) as raised:
            cci.download_raw_array("a")
        errors.append(raised.value)
    fault_proxy.reset()
    with pytest.raises(ObjectNotFoundError) as missing:
        cci.download_raw_array("missing")
    errors.append(missing.value)
    texts = shown + [f"{e!s} {e!r} {e.__cause__!s}" for e in errors]
    pickled = pickle.dumps(cci)
    output = capsys.readouterr()
    for secret in (FAKE_SECRET, FAKE_TOKEN):
        assert not any(secret in text for text in texts)
        assert secret.encode() not in pickled
        assert secret not in caplog.text and secret not in output.out + output.err
    # the access key id is an identifier, not a secret (AWS signs it in clear in every request), but
    # cottoncandy's own reprs, errors and pickles leave it out too
    assert not any(FAKE_ACCESS in text for text in texts) and FAKE_ACCESS.encode() not in pickled
    assert "SignatureDoesNotMatch" in str(errors[0]) and "credentials" in str(errors[0])


def test_local_names_cannot_reach_outside_the_root(local_interface, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"do not touch")
    os.symlink(outside, local_interface.backend.root / "link")
    for name in ("link/secret", "../outside/secret", "link/../../outside/secret"):
        with pytest.raises((InvalidNameError, ObjectNotFoundError)):
            local_interface.download_object(name)
        with pytest.raises((InvalidNameError, ObjectNotFoundError)):
            local_interface.rm(name)
        with pytest.raises((InvalidNameError, ObjectNotFoundError)):
            local_interface.upload_object(name, b"overwritten")
    assert (outside / "secret").read_bytes() == b"do not touch" and sorted(os.listdir(outside)) == ["secret"]


class _Trap:
    """A pickle that creates ``marker`` when it is unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_nothing_unpickles_implicitly_and_pickle_can_be_switched_off(local_interface, tmp_path, monkeypatch):
    marker = tmp_path / "unpickled"
    local_interface.upload_pickle("trap", _Trap(str(marker)))
    local_interface.upload_object("dir/trap", pickle.dumps(_Trap(str(marker))))
    readers = [
        lambda: local_interface.download_object("trap"),
        lambda: local_interface.download_json("trap"),
        lambda: local_interface.download_raw_array("trap"),
        lambda: local_interface.download_stream("trap").content.read(),
        lambda: local_interface.download_to_file("trap", tmp_path / "copy"),
        lambda: local_interface.download_directory("dir", tmp_path / "folder"),
    ]
    if "npy" in local_interface.plugins.registry.names("codec"):
        readers += [lambda: local_interface.download_npy_array("trap"),
                    lambda: local_interface.cloud2dict("dir", verbose=False)]
    for read in readers:
        with contextlib.suppress(CottonCandyError):
            read()
        assert not marker.exists()
    monkeypatch.setenv("CC_BASIC_ALLOW_PICKLE", "False")
    switched_off = cc.get_interface(str(local_interface.backend.root), backend="local", verbose=False)
    with pytest.raises(CottonCandyError, match="allow_pickle"):
        switched_off.download_pickle("trap")
    assert not marker.exists()
    monkeypatch.delenv("CC_BASIC_ALLOW_PICKLE")
    local_interface.download_pickle("trap")  # asked for by name, with pickles allowed: it runs
    assert marker.exists()


def test_encrypted_objects_fail_closed_when_damaged_on_the_wire(proxied, fault_proxy, s3_bucket):
    pytest.importorskip("cc_crypto")
    cci = proxied()
    cci.pipeline.configure_transform("aes-gcm", key=os.urandom(32))
    data = os.urandom(700_000)
    cci.upload_object("sealed", data, transforms="aes-gcm")
    assert "cc-checksum" not in cci.get_object("sealed").metadata  # authentication stands in for it
    first = TRANSFER["download_threshold"]  # the first GET brings that many bytes, the next one the rest
    for offset in (10, 300_001, 699_999):
        if offset >= first:
            fault_proxy.add("delay", method="GET", seconds=0)  # lets the first GET through untouched
        fault_proxy.add("flip_response", method="GET", after=offset if offset < first else offset - first)
        with pytest.raises(IntegrityError, match="'sealed'"):
            cci.download_object("sealed")
    assert cci.download_object("sealed") == data
