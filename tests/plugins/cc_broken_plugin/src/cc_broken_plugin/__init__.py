"""A plugin whose import fails, to show that it does not break the others."""
