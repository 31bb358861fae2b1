"""Continue's controls on a compared model: `poly@key=primer` or `poly@density=8,polyphony=3`.

After `@`, a row names some of Continue's own parameters (`CONTROLS`) as `name=value`, comma
separated. `key=primer` locks each continuation to its primer's estimated key
(`bridge.music.scales.estimate_key`, which the in-primer-key share measures against too); any
other key is a key name such as `C:major`. Values are checked by the continue tool's parameter
table and the model by the tool's own check, so a row is refused as a user's request would be.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge.config import Limits
from bridge.models.catalog import ModelSpec
from bridge.music.clip import Clip, Note
from bridge.music.scales import estimate_key, parse_key
from bridge.tools.params import parse_params
from bridge.tools.registry import TOOLS

PRIMER = "primer"  # key=primer: each primer's own estimated key
CONTROLS = ("key", "pitch_low", "pitch_high", "density", "polyphony")
_PROBE_KEY = "C:chromatic"  # stands for key=primer when checking a model: any key, no pitch lost


@dataclass(frozen=True)
class Controls:
    """Continue parameters a row samples under, as parsed (key: a key name or `primer`)."""

    values: Mapping[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.values)

    def params(self, primer: Clip) -> dict[str, Any]:
        """The parameters for continuing `primer` (key=primer: the primer's estimated key)."""
        if self.values.get("key") != PRIMER:
            return dict(self.values)
        return {**self.values, "key": str(estimate_key(primer))}

    def describe(self) -> str:
        """In words, for a report's row list: `key=primer (each primer's estimated key),
        density=8`."""
        return ", ".join(
            f"{name}={value}" + (" (each primer's estimated key)" if value == PRIMER else "")
            for name, value in self.values.items()
        )


NO_CONTROLS = Controls()


def parse_controls(text: str, limits: Limits) -> Controls:
    """`name=value,...` checked against the continue tool's parameter table; ValueError
    naming what is wrong."""
    if not text.strip():
        raise ValueError("no controls after '@': write e.g. poly@density=8 or poly@key=primer")
    table = {param.name: param for param in TOOLS["continue"].params}
    values: dict[str, Any] = {}
    for item in text.split(","):
        name, equals, raw = (part.strip() for part in item.partition("="))
        if not equals or not name or not raw:
            raise ValueError(f"control {item!r} is not NAME=VALUE (e.g. density=8, key=primer)")
        if name not in CONTROLS:
            raise ValueError(f"unknown control {name!r}; controls: {', '.join(CONTROLS)}")
        if name in values:
            raise ValueError(f"control {name!r} is given twice")
        values[name] = table[name].parse(raw, limits)
        if name == "key" and raw != PRIMER:
            parse_key(raw)  # ClipError naming the keys one may write
    return Controls(values)


def check_controls(spec: ModelSpec, controls: Controls, limits: Limits) -> None:
    """Refuse a model that cannot continue under these controls, by Continue's own checks
    on a short probe clip (ValueError, its message the tool's)."""
    if not controls:
        return
    tool = TOOLS["continue"]
    if not tool.serves(spec):
        raise ValueError(
            f"{spec.name}: controls are Continue's, and a {spec.family} model does not continue"
        )
    given = dict(controls.values)
    if given.get("key") == PRIMER:
        given["key"] = _PROBE_KEY
    try:
        tool.check(spec, [_probe(spec)], parse_params(tool.params, given, limits), limits)
    except ValueError as error:  # ClipError and ParamError: the tool's own words
        raise ValueError(f"{spec.name}: {error}") from error


def _probe(spec: ModelSpec) -> Clip:
    """A bar every continuing family reads: four quarter notes of C major (drums: kick,
    snare, kick, snare)."""
    drums = spec.content == "drums"
    pitches = (36, 38, 36, 38) if drums else (60, 64, 67, 72)
    notes = tuple(Note(pitch, float(beat), 1.0, 100) for beat, pitch in enumerate(pitches))
    return Clip(notes, 4.0, 120.0, (4, 4), drums)
