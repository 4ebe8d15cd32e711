"""cottoncandy 0.4's ``cottoncandy.s3client``: ``S3Client`` is the S3 backend.

0.4 code reaches it as ``cci.backend_interface`` and reads ``.bucket_name`` and ``.url`` (the
endpoint). Importing this module imports the S3 plugin (and boto3), as 0.4 did.
"""

from cc_core.errors import MissingDependencyError

try:
    from cc_backend_s3.backend import S3Backend as S3Client
except ImportError as exc:
    raise MissingDependencyError(
        f"cottoncandy.s3client is the S3 backend, which is not available ({exc}): "
        "pip install 'cottoncandy[s3]'"
    ) from exc

__all__ = ["S3Client"]
