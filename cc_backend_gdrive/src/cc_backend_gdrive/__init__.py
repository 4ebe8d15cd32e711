"""cc_backend_gdrive: a cottoncandy plugin package (see its issue for what it provides)."""
