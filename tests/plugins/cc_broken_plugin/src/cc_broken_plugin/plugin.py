"""Fails on import, like a plugin whose dependency is missing."""

import cc_missing_dependency_for_tests  # noqa: F401  (does not exist on purpose)
