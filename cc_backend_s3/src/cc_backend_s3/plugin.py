"""Entry point of the cc_backend_s3 plugin: registers the S3 backend with cottoncandy.

Imports only cc_core, so that listing plugins never imports boto3; the backend class is imported
the first time a user asks for ``backend='s3'`` or an ``s3://`` URL.
"""

from __future__ import annotations

from cc_core.hookspecs import Register, hookimpl


@hookimpl
def cc_register_backends(register: Register) -> None:
    register("s3", "cc_backend_s3.backend:S3Backend", schemes=("s3",),
             install="pip install 'cottoncandy[s3]'",
             description="Amazon S3 and S3-compatible stores (boto3): parallel zero-copy transfers")
