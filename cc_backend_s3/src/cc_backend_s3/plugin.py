"""Entry point of the cc_backend_s3 plugin: registers its components with cottoncandy.

Imports only cc_core, so that listing plugins never imports this package's heavy dependencies.
"""
