"""The one error every checkpoint reader raises, so callers catch a single type."""

from __future__ import annotations


class CheckpointError(ValueError):
    """A checkpoint file cannot be read; the message names the file and says why."""
