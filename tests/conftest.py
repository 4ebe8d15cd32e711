"""Shared test setup: a private config directory for the whole run, and the cottoncandy fixtures."""

import os
import tempfile

# Before anything loads a config: tests never read or write the user's real config.
os.environ["CC_CONFIG_DIR"] = tempfile.mkdtemp(prefix="cc-test-config-")
for variable in [v for v in os.environ if v.startswith(("CC_LOGIN_", "CC_BASIC_", "CC_PIPELINE_", "CC_COMPRESSION_"))]:
    del os.environ[variable]

pytest_plugins = ["cc_core.testing.fixtures"]
