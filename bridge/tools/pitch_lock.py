"""A key lock and a pitch range, as tools take them (`key`, `pitch_low`, `pitch_high`): the
pitches a model may sample, masked at every step by the family, so results are in them by
construction. Continue reads them into its Continuation; the other tools use `pitch_lock`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridge.music.scales import allowed_pitches, parse_key
from bridge.tools.params import Param, ParamError

PITCH_LOCK = (
    Param("key", str, "", "lock notes to a key, e.g. C:major, F#:minor (default: none)"),
    Param("pitch_low", int, 0, "lowest pitch allowed", 0, 127),
    Param("pitch_high", int, 127, "highest pitch allowed", 0, 127),
)


def pitch_lock(params: Mapping[str, Any]) -> set[int] | None:
    """The pitches `key`, `pitch_low` and `pitch_high` leave (None: no lock); ParamError
    for a range upside down or one the key leaves empty."""
    low, high = params["pitch_low"], params["pitch_high"]
    if low > high:
        raise ParamError(f"pitch_low ({low}) must not be above pitch_high ({high})")
    if not params["key"] and (low, high) == (0, 127):
        return None
    allowed = allowed_pitches(parse_key(params["key"]) if params["key"] else None, low, high)
    if not allowed:
        raise ParamError(f"key {params['key']!r} and pitches {low}-{high} leave no pitch")
    return allowed
