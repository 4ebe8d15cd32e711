"""cc_backend_s3: the S3 storage backend of cottoncandy, on boto3.

``get_interface('bucket')`` (or ``backend='s3'``, or an ``s3://bucket`` URL) uses
:class:`cc_backend_s3.backend.S3Backend`. Importing this package does not import boto3.
"""
