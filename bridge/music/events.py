"""The one check every event sequence (melody, drums, polyphony, performance) makes."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from bridge.music.errors import ClipError


def frozen_events(values: Iterable[int], low: int, high: int, what: str) -> np.ndarray:
    """A read-only int64 array of events, each within `low`..`high`, or a ClipError naming
    the first one that is not (`what` names the kind: "melody", "drum"...)."""
    events = np.array(values, dtype=np.int64)
    if events.ndim != 1:
        raise ClipError(f"{what} events have shape {events.shape}; expected one per step")
    bad = np.flatnonzero((events < low) | (events > high))
    if bad.size:
        raise ClipError(f"{what} event {events[bad[0]]} at step {bad[0]} is outside {low}-{high}")
    events.setflags(write=False)
    return events
