"""Reusable pytest suites and fixtures for plugin authors.

Subclass a suite in your own tests and provide its fixture::

    from cc_core.testing import BackendConformance

    class TestMyBackend(BackendConformance):
        @pytest.fixture
        def backend(self, cc_settings):
            yield MyBackend("test-bucket", settings=cc_settings)

        def set_object(self, backend, name, data, metadata):
            ...  # write the object with the store's own client, not through the backend

        def get_object(self, backend, name):
            ...  # read it back the same way: (bytes, metadata)

Every test of the suite then runs against your backend, directly and through
``get_interface(bucket, backend=NAME)`` with the class registered for the test. Load the fixtures
with ``pytest_plugins = ["cc_core.testing.fixtures"]`` in your ``conftest.py``.
"""

from .backend_suite import BackendConformance
from .codec_suite import CodecConformance
from .transform_suite import TransformConformance

__all__ = ["BackendConformance", "CodecConformance", "TransformConformance"]
