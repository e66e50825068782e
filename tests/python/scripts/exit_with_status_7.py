"""Exits with status 7 (test_override.py: `run` must pass it on)."""

import sys

sys.exit(7)
