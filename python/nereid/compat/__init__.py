"""Import shims for scripts written for other trackers; see docs/python.md."""
