"""An example third-party cottoncandy plugin: a backend, a codec, a layout codec and a transform.

Each component passes its conformance class from :mod:`cc_core.testing` (see ``tests/`` here).
"""
