"""The core's built-in plugins: local and memory backends, the raw codec, stdlib compression."""
