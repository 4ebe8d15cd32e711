"""cc_crypto: a cottoncandy plugin package (see its issue for what it provides)."""
