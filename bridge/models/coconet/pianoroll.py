"""Coconet's piano rolls (magenta's lib_pianoroll), in numpy.

A piece is a [time, voice] array of MIDI pitches, one row per 16th (NaN where a voice
rests), soprano first; its piano roll is [time, pitch, voice], a one-hot over the model's
pitch range for each voice and step (all zeros for a rest). A roll cannot tell a held note
from a repeated one: decoding joins equal neighbouring steps into one note, as
lib_pianoroll's `merge_held` does.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class HeldNote(NamedTuple):
    """A note of one voice on the step grid: steps [start, end)."""

    pitch: int
    start: int
    end: int


def encode(pitches: np.ndarray, min_pitch: int, max_pitch: int) -> np.ndarray:
    """[time, voice] pitches (NaN: rest) -> [time, pitch, voice] float32 piano roll; a pitch
    outside the range is a ValueError (lib_pianoroll's PitchOutOfEncodeRangeError)."""
    pitches = np.asarray(pitches, dtype=float)
    if pitches.ndim != 2:
        raise ValueError(f"pitches must be [time, voice], not of shape {pitches.shape}")
    sounding = ~np.isnan(pitches)
    values = pitches[sounding]
    if values.size and (values.min() < min_pitch or values.max() > max_pitch):
        raise ValueError(
            f"pitches {values.min():g}-{values.max():g} are outside {min_pitch}-{max_pitch}"
        )
    if not np.all(values == np.round(values)):
        raise ValueError("pitches must be whole MIDI numbers")
    steps, voices = np.nonzero(sounding)
    roll = np.zeros((len(pitches), max_pitch + 1 - min_pitch, pitches.shape[1]), np.float32)
    roll[steps, pitches[steps, voices].astype(int) - min_pitch, voices] = 1.0
    return roll


def decode(roll: np.ndarray, min_pitch: int) -> np.ndarray:
    """[..., time, pitch, voice] piano roll -> [..., time, voice] pitches, NaN where silent
    (the highest pitch wins where a roll holds several, which sampling never makes)."""
    roll = np.asarray(roll)
    top = roll.shape[-2] - 1 - np.argmax(roll[..., ::-1, :] > 0, axis=-2)
    pitches = (top + min_pitch).astype(float)
    pitches[~(roll > 0).any(axis=-2)] = np.nan
    return pitches


def held_notes(column: np.ndarray, steps: np.ndarray | None = None) -> list[HeldNote]:
    """One voice's pitches per step -> its notes, equal neighbours joined (merge_held).
    With `steps` (booleans), only those steps are read, and a gap ends a note."""
    column = np.asarray(column, dtype=float)
    keep = np.ones(len(column), bool) if steps is None else np.asarray(steps, bool)
    notes: list[HeldNote] = []
    for step, pitch in enumerate(column):
        if not keep[step] or np.isnan(pitch):
            continue
        last = notes[-1] if notes else None
        if last is not None and last.end == step and last.pitch == int(pitch):
            notes[-1] = last._replace(end=step + 1)
        else:
            notes.append(HeldNote(int(pitch), step, step + 1))
    return notes
