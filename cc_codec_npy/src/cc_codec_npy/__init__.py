"""cc_codec_npy: a cottoncandy plugin package (see its issue for what it provides)."""
