"""Keys and scales: what users type in a DAW ("F#:minor"), and a guess when they type nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bridge.music.clip import Clip
from bridge.music.errors import ClipError

# Semitones above the root of each scale.
MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "melodic_minor": (0, 2, 3, 5, 7, 9, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "major_pentatonic": (0, 2, 4, 7, 9),
    "minor_pentatonic": (0, 3, 5, 7, 10),
    "blues": (0, 3, 5, 6, 7, 10),
    "chromatic": tuple(range(12)),
}
_MODE_ALIASES = {
    "": "major",
    "maj": "major",
    "ionian": "major",
    "m": "minor",
    "min": "minor",
    "aeolian": "minor",
}
ROOT_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_LETTERS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_ACCIDENTALS = {"": 0, "#": 1, "♯": 1, "b": -1, "♭": -1}
_KEY_PATTERN = re.compile(r"([a-g])([#♯b♭]?)\s*(?::|\s)?\s*(.*)", re.IGNORECASE)

# Krumhansl & Kessler's probe-tone ratings of the 12 degrees, the usual key-finding profiles.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass(frozen=True)
class Key:
    """A root pitch class (0 = C) and a mode from MODES."""

    root: int
    mode: str = "major"

    def __post_init__(self) -> None:
        if isinstance(self.root, bool) or not isinstance(self.root, int) or not 0 <= self.root < 12:
            raise ClipError(f"key root {self.root!r} is not a pitch class 0-11")
        if self.mode not in MODES:
            raise ClipError(f"unknown mode {self.mode!r}; modes: {', '.join(MODES)}")

    @property
    def pitch_classes(self) -> frozenset[int]:
        return frozenset((self.root + step) % 12 for step in MODES[self.mode])

    def __str__(self) -> str:
        return f"{ROOT_NAMES[self.root]}:{self.mode}"


def parse_key(text: str) -> Key:
    """A key from 'C:major', 'F#:minor', 'Bb dorian', 'Am' or 'D' (major when no mode is given)."""
    match = _KEY_PATTERN.fullmatch(text.strip()) if isinstance(text, str) else None
    mode = ""
    if match:
        letter, accidental, mode = match.groups()
        mode = re.sub(r"[\s-]+", "_", mode.strip().lower())
        mode = _MODE_ALIASES.get(mode, mode)
    if not match or mode not in MODES:
        raise ClipError(
            f"unknown key {text!r}: write ROOT[:MODE], e.g. 'C:major', 'F#:minor', 'Bb:dorian' "
            f"or 'D' (major); modes: {', '.join(MODES)}"
        )
    root = _LETTERS[letter.lower()] + _ACCIDENTALS[accidental.lower()]
    return Key(root % 12, mode)


def allowed_pitches(key: Key | None, low: int = 0, high: int = 127) -> set[int]:
    """The pitches from `low` to `high` in the key (all of them without one): what a key
    lock and a pitch range leave a model to play."""
    classes = key.pitch_classes if key else frozenset(range(12))
    return {pitch for pitch in range(low, high + 1) if pitch % 12 in classes}


def estimate_key(clip: Clip) -> Key:
    """The major or minor key whose Krumhansl-Kessler profile best fits the audible notes.

    Each pitch class counts for its total duration; ties go to the earlier key, C major first.
    """
    weights = np.zeros(12)
    for note in clip.audible_notes:
        weights[note.pitch % 12] += note.duration
    if not weights.any():
        raise ClipError("clip has no audible notes to estimate a key from")
    best, best_fit = Key(0, "major"), -np.inf
    for mode, profile in (("major", _MAJOR_PROFILE), ("minor", _MINOR_PROFILE)):
        for root in range(12):
            fit = _correlation(weights, np.roll(profile, root))
            if fit > best_fit:
                best, best_fit = Key(root, mode), fit
    return best


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation; 0 when `a` is flat (every pitch class equally present)."""
    a, b = a - a.mean(), b - b.mean()
    norm = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / norm) if norm else 0.0
