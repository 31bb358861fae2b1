"""Quantization to steps per quarter note, exactly as note_seq.quantize_note_sequence does it.

Magenta's checkpoints were trained on sequences quantized this way, so the rule is copied
faithfully: times go through seconds, a time rounds up to a step once it is past
QUANTIZE_CUTOFF of the way there, and a note that would end on its start step lasts one step.
Muted notes are left out, as in clip_to_note_sequence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from bridge.music.clip import Clip
from bridge.music.errors import ClipError
from bridge.music.timing import beats_to_seconds

STEPS_PER_QUARTER = 4  # Magenta's default: sixteenth notes
QUANTIZE_CUTOFF = 0.5  # note_seq's: a time past half a step rounds up


class QuantizedNote(NamedTuple):
    pitch: int
    start_step: int
    end_step: int
    velocity: int


@dataclass(frozen=True)
class QuantizedClip:
    """A clip's audible notes on the step grid, in the clip's (start, pitch) order."""

    notes: tuple[QuantizedNote, ...]
    steps_per_quarter: int
    steps_per_bar: int
    total_steps: int  # note_seq's total_quantized_steps: the length, or the last note's end
    end_step: int  # the clip's end: its length, or a step past the last note starting before it
    qpm: float
    is_drum: bool = False


def quantize(
    clip: Clip, steps_per_quarter: int = STEPS_PER_QUARTER, *, is_drum: bool = False
) -> QuantizedClip:
    """Quantize the clip's audible notes; ClipError when a bar is not a whole number of steps."""
    if isinstance(steps_per_quarter, bool) or not isinstance(steps_per_quarter, int):
        raise ClipError(f"steps per quarter {steps_per_quarter!r} is not a whole number")
    if steps_per_quarter < 1:
        raise ClipError(f"steps per quarter {steps_per_quarter} is not positive")
    steps_per_bar = steps_per_quarter * clip.beats_per_bar
    if not steps_per_bar.is_integer():
        numerator, denominator = clip.time_signature
        raise ClipError(
            f"time signature {numerator}/{denominator} has {steps_per_bar:g} steps per bar at "
            f"{steps_per_quarter} steps per quarter; Magenta needs a whole number"
        )
    # Same expressions, in the same order, as note_seq's, so ties round the same way.
    steps_per_second = steps_per_quarter * clip.qpm / 60.0

    def step(beats: float) -> int:
        return int(beats_to_seconds(beats, clip.qpm) * steps_per_second + (1 - QUANTIZE_CUTOFF))

    notes = []
    end_step = max(1, step(clip.length))
    for note in clip.audible_notes:
        start, end = step(note.start), step(note.end)
        notes.append(QuantizedNote(note.pitch, start, max(end, start + 1), note.velocity))
        if note.start < clip.length:
            # One starting within half a step of the end rounds onto it; note_seq keeps it
            # (its quantized end, a step after its start at least, extends the sequence).
            end_step = max(end_step, start + 1)
    total_steps = max([step(clip.length), *(note.end_step for note in notes)])
    return QuantizedClip(
        tuple(notes),
        steps_per_quarter,
        int(steps_per_bar),
        total_steps,
        end_step,
        clip.qpm,
        is_drum,
    )
