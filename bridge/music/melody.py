"""Monophonic melodies as Magenta's melody models see them: one event per step.

An event is the MIDI pitch of a note-on, NOTE_OFF, or NO_EVENT (the previous state goes on).
Extraction, squash and transpose follow note_seq.Melody and magenta's extract_melodies rule for
rule, because a checkpoint trained on Magenta's melodies expects exactly those melodies.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np

from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.events import frozen_events
from bridge.music.quantize import STEPS_PER_QUARTER, QuantizedClip, quantize

NO_EVENT = -2
NOTE_OFF = -1
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
_OCTAVE = 12


@dataclass(frozen=True, eq=False)
class Melody:
    """Events (read-only int array, one per step) and the grid they live on."""

    events: np.ndarray
    steps_per_quarter: int = STEPS_PER_QUARTER
    steps_per_bar: int = 4 * STEPS_PER_QUARTER

    def __post_init__(self) -> None:
        events = frozen_events(self.events, NO_EVENT, 127, "melody")
        for what, value in (
            ("steps per quarter", self.steps_per_quarter),
            ("steps per bar", self.steps_per_bar),
        ):
            if not isinstance(value, int | np.integer) or value < 1:
                raise ClipError(f"melody {what} {value!r} is not a positive whole number")
        object.__setattr__(self, "events", events)

    def __len__(self) -> int:
        return len(self.events)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Melody)
            and np.array_equal(self.events, other.events)
            and self.steps_per_quarter == other.steps_per_quarter
            and self.steps_per_bar == other.steps_per_bar
        )

    def with_length(self, steps: int) -> Melody:
        """Cut or padded to `steps`, a held note ended first, as note_seq's set_length does."""
        events = self.events.tolist()
        _set_length(events, steps)
        return Melody(
            np.array(events, dtype=self.events.dtype), self.steps_per_quarter, self.steps_per_bar
        )

    def to_notes(self, start_beat: float = 0.0, velocity: int = 100) -> list[Note]:
        """Notes with event 0 at `start_beat`; a note lasts until the next note-on or NOTE_OFF."""
        events = self.events.tolist()
        changes = [step for step, event in enumerate(events) if event != NO_EVENT]
        # Each change lasts until the next one or the end; all rests: no change, no note.
        return [
            Note(
                events[step],
                start_beat + step / self.steps_per_quarter,
                (until - step) / self.steps_per_quarter,
                velocity,
            )
            for step, until in pairwise([*changes, len(events)])
            if events[step] >= 0
        ]

    def transpose(self, amount: int, min_note: int = 0, max_note: int = 128) -> Melody:
        """Shift every pitch, folding by octaves into [min_note, max_note) like note_seq."""
        events = self.events.copy()
        pitched = events >= 0
        pitches = events[pitched] + amount
        pitches = np.where(
            pitches < min_note,
            min_note + (pitches - min_note) % _OCTAVE,
            np.where(
                pitches >= max_note, max_note - _OCTAVE + (pitches - max_note) % _OCTAVE, pitches
            ),
        )
        events[pitched] = pitches
        return replace(self, events=events)

    def squash(
        self, min_note: int, max_note: int, transpose_to_key: int | None = 0
    ) -> tuple[Melody, int]:
        """note_seq.Melody.squash: move to `transpose_to_key` (0 = C major), centre in range.

        Returns the squashed melody and the transposition applied, so a caller can undo it.
        """
        if transpose_to_key is None:
            amount = 0
        else:
            pitches = self.events[self.events >= 0]
            if not pitches.size:
                return self, 0
            key_diff = transpose_to_key - major_key(pitches)
            centre = (int(pitches.min()) + int(pitches.max())) / 2
            target_centre = (min_note + max_note - 1) / 2
            centre_diff = target_centre - (centre + key_diff)
            amount = key_diff + _OCTAVE * round(centre_diff / _OCTAVE)
        return self.transpose(amount, min_note, max_note), amount


def major_key(pitches: np.ndarray) -> int:
    """Magenta's key guess: the major key (0 = C) holding the most of these note-ons."""
    counts = np.bincount(np.asarray(pitches) % _OCTAVE, minlength=_OCTAVE)
    fits = [sum(counts[(key + degree) % _OCTAVE] for degree in MAJOR_SCALE) for key in range(12)]
    return int(np.argmax(fits))


def extract_melody(clip: Clip, steps_per_quarter: int = STEPS_PER_QUARTER) -> Melody:
    """The whole clip as one melody from step 0, for a model to continue.

    This is what Magenta's generators do with a primer (gap_bars infinite, highest note of a
    shared onset wins, a later onset cuts an earlier note), except that the melody keeps the
    clip's leading silence and ends with the NOTE_OFF of its last note.
    """
    quantized = quantize(clip, steps_per_quarter)
    events, origin = _scan(quantized, 0, float("inf"), True, True)
    if not events:
        raise ClipError("clip has no usable melody: it has no audible notes")
    return Melody([NO_EVENT] * origin + events, steps_per_quarter, quantized.steps_per_bar)


def extract_melodies(
    quantized: QuantizedClip,
    *,
    min_bars: int = 7,
    max_steps_truncate: int | None = None,
    min_unique_pitches: int = 5,
    gap_bars: float = 1.0,
    ignore_polyphonic_notes: bool = True,
    pad_end: bool = False,
    filter_drums: bool = True,
) -> list[Melody]:
    """Training melodies, as magenta.pipelines.melody_pipelines.extract_melodies finds them.

    Magenta searches each instrument; a clip is one instrument. A melody starts at the bar of its
    first note and ends at a silence of `gap_bars`; the next search starts at the following bar.
    Melodies shorter than `min_bars` or with fewer than `min_unique_pitches` pitch classes are
    dropped. With `ignore_polyphonic_notes` False, polyphony ends the search (Magenta drops the
    track from there). With `filter_drums`, a clip quantized with is_drum=True yields nothing.
    """
    melodies: list[Melody] = []
    spb = quantized.steps_per_bar
    search = 0
    while True:
        try:
            events, origin = _scan(
                quantized, search, gap_bars, ignore_polyphonic_notes, filter_drums
            )
        except _PolyphonyError:
            break
        if not events:
            break
        del events[-1]  # Magenta drops the final NOTE_OFF: a melody's end ends its last note.
        if pad_end:
            _set_length(events, len(events) + -len(events) % spb)
        search = origin + len(events) + -(origin + len(events)) % spb
        if len(events) < spb * min_bars:
            continue
        if max_steps_truncate is not None and len(events) > max_steps_truncate:
            truncated = max_steps_truncate - (max_steps_truncate % spb if pad_end else 0)
            _set_length(events, truncated)
        pitches = np.array(events)
        if np.unique(pitches[pitches >= 0] % _OCTAVE).size < min_unique_pitches:
            continue
        melodies.append(Melody(events, quantized.steps_per_quarter, spb))
    return melodies


class _PolyphonyError(Exception):
    """Two notes start on one step and the caller wanted no polyphony resolved."""


def _scan(
    quantized: QuantizedClip,
    search_start: int,
    gap_bars: float,
    ignore_polyphonic_notes: bool,
    filter_drums: bool,
) -> tuple[list[int], int]:
    """note_seq.Melody.from_quantized_sequence before its final NOTE_OFF is stripped.

    Returns the events and the step of the clip they start at (a bar line), or ([], 0).
    """
    notes = sorted(
        (note for note in quantized.notes if note.start_step >= search_start),
        key=lambda note: (note.start_step, -note.pitch),
    )
    if not notes or (filter_drums and quantized.is_drum):
        return [], 0
    spb = quantized.steps_per_bar
    origin = notes[0].start_step - (notes[0].start_step - search_start) % spb
    events: list[int] = []
    for note in notes:
        start, end = note.start_step - origin, note.end_step - origin
        if events:
            last_on, last_off = _last_on_off(events)
            if start == last_on:
                if ignore_polyphonic_notes:
                    continue  # sorted highest first, so the highest note already won
                raise _PolyphonyError
            if start - last_off >= gap_bars * spb:
                break
        _set_length(events, end + 1)
        events[start] = note.pitch
        events[start + 1 : end] = [NO_EVENT] * (end - start - 1)
        events[end] = NOTE_OFF
    return events, origin


def _last_on_off(events: list[int]) -> tuple[int, int]:
    """Steps of the last note-on and of the first NOTE_OFF after it (or the end)."""
    last_off = len(events)
    for step in range(len(events) - 1, -1, -1):
        if events[step] == NOTE_OFF:
            last_off = step
        elif events[step] >= 0:
            return step, last_off
    raise AssertionError("a melody under construction always holds a note-on")


def _set_length(events: list[int], length: int) -> None:
    """note_seq.Melody.set_length: cut, or pad with NO_EVENT after ending a sounding note."""
    old_length = len(events)
    if length <= old_length:
        del events[length:]
        return
    events.extend([NO_EVENT] * (length - old_length))
    for event in reversed(events[:old_length]):
        if event == NOTE_OFF:
            break
        if event != NO_EVENT:
            events[old_length] = NOTE_OFF
            break
