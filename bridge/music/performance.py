"""Performances as Magenta's PerformanceRNN sees them: note-ons, note-offs and time shifts.

A performance is a stream of events on an absolute clock of 100 steps a second (10 ms):
NOTE_ON and NOTE_OFF of a pitch, TIME_SHIFT by 1-100 steps (up to a second) and, for the
dynamics configs, VELOCITY setting one of `num_velocity_bins` bins for the notes after it
(note_seq's performance_lib). An event is stored as one int, its index in note_seq's
PerformanceOneHotEncoding, so a performance goes to the network as it is:

    NOTE_ON p: p    NOTE_OFF p: 128 + p    TIME_SHIFT s: 255 + s    VELOCITY b: 355 + b

A clip is read as Magenta's PerformanceRnnSequenceGenerator reads a primer; going back, the
notes are rebuilt as note_seq's Performance.to_sequence does, and can be snapped to the
clip's 16th grid on request (a performance keeps the player's timing, a DAW user may not
want it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.events import frozen_events
from bridge.music.quantize import QUANTIZE_CUTOFF, STEPS_PER_QUARTER
from bridge.music.timing import beats_to_seconds, seconds_to_beats, snap_beats

STEPS_PER_SECOND = 100  # note_seq.DEFAULT_STEPS_PER_SECOND
MAX_SHIFT_STEPS = 100  # performance_lib.DEFAULT_MAX_SHIFT_STEPS: one second
NUM_PITCHES = 128
NOTE_ON = 0
NOTE_OFF = NOTE_ON + NUM_PITCHES
TIME_SHIFT = NOTE_OFF + NUM_PITCHES - 1  # TIME_SHIFT s is TIME_SHIFT + s, s >= 1
VELOCITY = TIME_SHIFT + MAX_SHIFT_STEPS  # VELOCITY b is VELOCITY + b, b >= 1
MIN_VELOCITY, MAX_VELOCITY = 1, 127
DEFAULT_VELOCITY = 100  # Performance.to_sequence's, for performances without VELOCITY events
# PerformanceRnnSequenceGenerator ends notes the model leaves hanging after 5 seconds.
MAX_NOTE_STEPS = 5 * STEPS_PER_SECOND


def num_events(num_velocity_bins: int = 0) -> int:
    """The size of the event vocabulary (356 without velocity, 388 with 32 bins)."""
    return VELOCITY + 1 + num_velocity_bins


def velocity_bin(velocity: int, num_velocity_bins: int) -> int:
    """performance_lib.velocity_to_bin: bins of ceil(127 / bins) velocities, from 1."""
    return (velocity - MIN_VELOCITY) // _bin_size(num_velocity_bins) + 1


def bin_velocity(bin_: int, num_velocity_bins: int) -> int:
    """performance_lib.velocity_bin_to_velocity: the lowest velocity of the bin."""
    return MIN_VELOCITY + (bin_ - 1) * _bin_size(num_velocity_bins)


def _bin_size(num_velocity_bins: int) -> int:
    return -(-(MAX_VELOCITY - MIN_VELOCITY + 1) // num_velocity_bins)


def time_shifts(steps: int) -> list[int]:
    """TIME_SHIFT events moving `steps` steps on: whole seconds first, as note_seq does."""
    events = [TIME_SHIFT + MAX_SHIFT_STEPS] * (steps // MAX_SHIFT_STEPS)
    return events + ([TIME_SHIFT + steps % MAX_SHIFT_STEPS] if steps % MAX_SHIFT_STEPS else [])


def quantize_to_step(seconds: float, cutoff: float = QUANTIZE_CUTOFF) -> int:
    """note_seq.quantize_to_step at 100 steps a second, with the same expression.

    Magenta's generator starts a generate section with cutoff 0.0 (so a start exactly on a
    step lands one step later) and ends it with cutoff 1.0 (rounding down).
    """
    return int(seconds * STEPS_PER_SECOND + (1 - cutoff))


class PerformanceNote(NamedTuple):
    pitch: int
    start_step: int
    end_step: int
    velocity: int


@dataclass(frozen=True, eq=False)
class Performance:
    """Events (read-only ints, see the module docstring) from step 0 of a clip."""

    events: np.ndarray
    num_velocity_bins: int = 0

    def __post_init__(self) -> None:
        size = num_events(self.num_velocity_bins)
        object.__setattr__(self, "events", frozen_events(self.events, 0, size - 1, "performance"))

    def __len__(self) -> int:
        return len(self.events)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Performance)
            and self.num_velocity_bins == other.num_velocity_bins
            and np.array_equal(self.events, other.events)
        )

    @property
    def num_steps(self) -> int:
        """How many steps the time shifts add up to."""
        shifts = self.events[(self.events > TIME_SHIFT) & (self.events <= VELOCITY)]
        return int((shifts - TIME_SHIFT).sum())

    def set_length(self, steps: int) -> Performance:
        """performance_lib's set_length: pad with time shifts, or cut events from the end."""
        events = self.events.tolist()
        missing = steps - self.num_steps
        if missing > 0:
            if events and TIME_SHIFT < events[-1] < TIME_SHIFT + MAX_SHIFT_STEPS:
                added = min(missing, TIME_SHIFT + MAX_SHIFT_STEPS - events[-1])
                events[-1] += added
                missing -= added
            events += time_shifts(missing)
        excess = -missing
        while events and excess > 0:
            last = events.pop()
            if TIME_SHIFT < last <= TIME_SHIFT + MAX_SHIFT_STEPS:
                shift = last - TIME_SHIFT
                if shift > excess:
                    events.append(last - excess)
                excess -= min(shift, excess)
        return replace(self, events=np.array(events, dtype=np.int64))

    def notes(self, max_note_steps: int | None = MAX_NOTE_STEPS) -> list[PerformanceNote]:
        """The notes, as note_seq's Performance.to_sequence makes them.

        A NOTE_OFF ends the oldest sounding note of its pitch and is ignored when none
        sounds; notes still sounding at the end end there; zero-length notes are dropped;
        notes longer than `max_note_steps` are cut to it. Without VELOCITY events every
        note has velocity 100.
        """
        sounding: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
        notes, step, velocity = [], 0, DEFAULT_VELOCITY

        def add(pitch: int, start: int, end: int, note_velocity: int) -> None:
            if end == start:
                return
            if max_note_steps is not None:
                end = min(end, start + max_note_steps)
            notes.append(PerformanceNote(pitch, start, end, note_velocity))

        for event in self.events.tolist():
            if event < NOTE_OFF:
                sounding[event].append((step, velocity))
            elif event < NOTE_OFF + NUM_PITCHES:
                pitch = event - NOTE_OFF
                if sounding[pitch]:
                    start, note_velocity = sounding[pitch].pop(0)
                    add(pitch, start, step, note_velocity)
            elif event <= TIME_SHIFT + MAX_SHIFT_STEPS:
                step += event - TIME_SHIFT
            else:
                velocity = bin_velocity(event - VELOCITY, self.num_velocity_bins)
        for pitch, starts in sounding.items():
            for start, note_velocity in starts:
                add(pitch, start, step, note_velocity)
        return notes


def extract_performance(clip: Clip, num_velocity_bins: int = 0) -> Performance:
    """The clip's audible notes as note_seq's Performance of the absolutely quantized clip.

    The same as note_seq.Performance(quantize_note_sequence_absolute(clip_to_note_sequence(
    clip), 100), num_velocity_bins=...): times go through seconds at the clip's tempo and
    round to the nearest 10 ms step (a note of no steps gets one), notes are ordered by
    start time then pitch, and at each step note-ons and note-offs follow that order.
    """
    return _performance(_timed_notes(clip), num_velocity_bins)


def performance_primer(clip: Clip, num_velocity_bins: int = 0) -> Performance:
    """The clip as Magenta's PerformanceRNN generator reads a primer for a continuation.

    The clip ends at its loop end (notes that run past it are cut there: magenta only
    extends a primer that ends before its generate section), and the performance is
    padded with time shifts up to the step the generate section starts on
    (`generation_steps`). ClipError for a clip with no audible notes within its length.
    """
    notes = _timed_notes(clip, until=clip.length)
    if not notes:
        raise ClipError("clip has no notes to continue: no audible notes within its length")
    start_step, _ = generation_steps(clip, 0.0)
    return _performance(notes, num_velocity_bins).set_length(start_step)


def generation_steps(clip: Clip, seconds: float) -> tuple[int, int]:
    """The steps Magenta's generator fills for `seconds` from the clip's end: [start, end).

    Its generate section runs from the clip's end to `seconds` later; the start rounds with
    quantize cutoff 0.0 and the end with 1.0, exactly as PerformanceRnnSequenceGenerator.
    """
    start_seconds = beats_to_seconds(clip.length, clip.qpm)
    return quantize_to_step(start_seconds, 0.0), quantize_to_step(start_seconds + seconds, 1.0)


def continuation_clip(
    performance: Performance,
    clip: Clip,
    from_step: int,
    length: float,
    *,
    quantize: bool = False,
) -> Clip:
    """The notes starting at or after `from_step`, as a clip of `length` beats after `clip`.

    Times go back through seconds at the clip's tempo and are counted from the clip's end.
    With `quantize`, starts and ends snap to the clip's 16th grid (note_seq's rounding; a
    note that would vanish lasts one 16th). Of notes of one pitch starting together the
    longest is kept (a DAW shows one). Notes are cut at `length`.
    """
    offset = clip.length
    notes: dict[tuple[int, float], Note] = {}
    for note in performance.notes():
        if note.start_step < from_step:
            continue
        start = seconds_to_beats(note.start_step / STEPS_PER_SECOND, clip.qpm)
        end = seconds_to_beats(note.end_step / STEPS_PER_SECOND, clip.qpm)
        if quantize:
            start, end = _to_grid(start), _to_grid(end)
            end = max(end, start + 1 / STEPS_PER_QUARTER)
        start, end = snap_beats(start - offset), min(snap_beats(end - offset), length)
        if not 0 <= start < length:
            continue
        key = (note.pitch, start)
        if key not in notes or notes[key].end < end:
            notes[key] = Note(note.pitch, start, snap_beats(end - start), note.velocity)
    return Clip.from_notes(notes.values(), length, clip.qpm, clip.time_signature)


def _to_grid(beats: float) -> float:
    return int(beats * STEPS_PER_QUARTER + (1 - QUANTIZE_CUTOFF)) / STEPS_PER_QUARTER


class _TimedNote(NamedTuple):
    seconds: float  # the start, which orders notes as note_seq orders them
    pitch: int
    start_step: int
    end_step: int
    velocity: int


def _timed_notes(clip: Clip, until: float | None = None) -> list[_TimedNote]:
    """The audible notes on the 10 ms grid; with `until`, only those starting before it,
    cut there."""
    notes = []
    for note in clip.audible_notes:
        end = note.end
        if until is not None:
            if note.start >= until:
                continue
            end = min(end, until)
        seconds = beats_to_seconds(note.start, clip.qpm)
        start_step = quantize_to_step(seconds)
        end_step = quantize_to_step(beats_to_seconds(end, clip.qpm))
        # note_seq gives a note that rounds to no steps one step.
        end_step = max(end_step, start_step + 1)
        notes.append(_TimedNote(seconds, note.pitch, start_step, end_step, note.velocity))
    return notes


def _performance(notes: list[_TimedNote], num_velocity_bins: int) -> Performance:
    """performance_lib's _from_quantized_sequence, from step 0."""
    notes = sorted(notes, key=lambda note: (note.seconds, note.pitch))
    changes = []  # (step, note index, is_offset), sorted as note_seq sorts them
    for index, note in enumerate(notes):
        changes += [(note.start_step, index, False), (note.end_step, index, True)]
    events, step, current_bin = [], 0, 0
    for change_step, index, is_offset in sorted(changes):
        events += time_shifts(change_step - step)
        step = change_step
        note = notes[index]
        if num_velocity_bins and not is_offset:
            bin_ = velocity_bin(note.velocity, num_velocity_bins)
            if bin_ != current_bin:
                current_bin = bin_
                events.append(VELOCITY + bin_)
        events.append((NOTE_OFF if is_offset else NOTE_ON) + note.pitch)
    return Performance(np.array(events, dtype=np.int64), num_velocity_bins)
