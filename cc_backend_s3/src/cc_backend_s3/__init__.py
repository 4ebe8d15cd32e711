"""cc_backend_s3: a cottoncandy plugin package (see its issue for what it provides)."""
