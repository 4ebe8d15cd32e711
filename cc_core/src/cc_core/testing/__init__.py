"""Reusable pytest suites and fixtures for plugin authors.

Subclass a suite in your own tests and provide its fixture::

    from cc_core.testing import BackendConformance

    class TestMyBackend(BackendConformance):
        @pytest.fixture
        def backend(self):
            yield MyBackend("test-bucket", settings=load_config(create=False))

Every test of the suite then runs against your backend. Load the fixtures with
``pytest_plugins = ["cc_core.testing.fixtures"]`` in your ``conftest.py``.
"""

from .backend_suite import BackendConformance
from .codec_suite import CodecConformance
from .transform_suite import TransformConformance

__all__ = ["BackendConformance", "CodecConformance", "TransformConformance"]
