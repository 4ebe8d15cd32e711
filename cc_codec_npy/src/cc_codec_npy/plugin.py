"""Entry point of the cc_codec_npy plugin: registers its components with cottoncandy.

Imports only cc_core, so that listing plugins never imports this package's heavy dependencies.
"""
