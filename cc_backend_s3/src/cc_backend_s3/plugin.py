"""Entry point of the cc_backend_s3 plugin: registers the S3 backend with cottoncandy.

Imports only cc_core, so that listing plugins never imports boto3; the backend class is imported
the first time a user asks for ``backend='s3'`` or an ``s3://`` URL.
"""

from __future__ import annotations

from cc_core.hookspecs import RegisterBackend, RegisterSetting, hookimpl

from .settings import PAYLOAD_SIGNING, UPLOAD_CHECKSUMS


@hookimpl
def cc_register_backends(register: RegisterBackend) -> None:
    register("s3", "cc_backend_s3.backend:S3Backend", schemes=("s3",),
             install="pip install 'cottoncandy[s3]'",
             description="Amazon S3 and S3-compatible stores (boto3): parallel zero-copy transfers")


#: S3's canned ACLs (``private`` sends none).
CANNED_ACLS = ("private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read",
               "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write")


@hookimpl
def cc_register_settings(register: RegisterSetting) -> None:
    register("basic", "default_acl", "choice", choices=CANNED_ACLS)
    for section, key in (("upload_settings", "mpu_use_threshold"), ("download_settings", "mpd_use_threshold"),
                         ("s3", "multipart_threshold"), ("s3", "download_threshold")):
        register(section, key, "size", minimum=0, special=("auto",))
    for section, key in (("upload_settings", "mpu_chunksize"), ("upload_settings", "min_mpu_size"),
                         ("upload_settings", "max_put_size"), ("download_settings", "mpd_chunksize")):
        register(section, key, "size", minimum=1)
    register("upload_settings", "max_mpu_parts", "int", minimum=1, maximum=10_000)
    register("s3", "max_attempts", "int", minimum=1, maximum=100)
    register("s3", "timeout_attempts", "int", minimum=1, maximum=100)
    register("s3", "complete_timeout", "float", minimum=1)
    register("s3", "retry_base_delay", "float", minimum=0)
    register("s3", "retry_max_delay", "float", minimum=0)
    register("s3", "retry_jitter", "choice", choices=("full", "equal", "none"))
    register("s3", "upload_checksum", "choice", choices=UPLOAD_CHECKSUMS)
    register("s3", "payload_signing", "choice", choices=PAYLOAD_SIGNING)
