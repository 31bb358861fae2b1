"""The count check the tools share, for callers that bypass the daemon's parameter table."""

from __future__ import annotations

from bridge.music.errors import ClipError


def check_counts(**counts: object) -> None:
    """Refuse any count (bars, variations...) that is not a whole number of at least 1."""
    for what, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ClipError(f"{what} must be a whole number of at least 1, got {value!r}")
