"""Polyphonic parts as Magenta's PolyphonyRNN sees them: one stream of single-note events.

Magenta's PolyphonicSequence (magenta/models/polyphony_rnn/polyphony_lib.py) writes a
quantized part as START, then for every step the notes held over from the step before
(CONTINUED_NOTE) and the notes starting on it (NEW_NOTE), highest pitch first, closed by
STEP_END; a finished sequence ends with END. A note held from the step before and not
continued has ended. An event is stored here as its class in Magenta's
PolyphonyOneHotEncoding (0 START, 1 END, 2 STEP_END, 3 + pitch NEW_NOTE, 131 + pitch
CONTINUED_NOTE), so a sequence goes to the network as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.events import frozen_events
from bridge.music.quantize import STEPS_PER_QUARTER, QuantizedClip, quantize

START, END, STEP_END = 0, 1, 2
NEW_NOTE = 3  # + pitch
PITCHES = 128
CONTINUED_NOTE = NEW_NOTE + PITCHES  # + pitch
NUM_POLYPHONIC_EVENTS = CONTINUED_NOTE + PITCHES  # 259 classes


@dataclass(frozen=True, eq=False)
class PolyphonicSequence:
    """Event classes (read-only ints) and the grid they are on.

    A primer holds no END (Magenta trims it before generating); a finished sequence ends
    with STEP_END, END (see `set_length`).
    """

    events: np.ndarray
    steps_per_quarter: int = STEPS_PER_QUARTER
    steps_per_bar: int = 4 * STEPS_PER_QUARTER

    def __post_init__(self) -> None:
        events = frozen_events(self.events, 0, NUM_POLYPHONIC_EVENTS - 1, "polyphonic")
        if events.size == 0 or events[0] != START:
            raise ClipError(
                "a polyphonic sequence is a non-empty list of events starting with START"
            )
        object.__setattr__(self, "events", events)

    def __len__(self) -> int:
        return len(self.events)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PolyphonicSequence)
            and np.array_equal(self.events, other.events)
            and (self.steps_per_quarter, self.steps_per_bar)
            == (other.steps_per_quarter, other.steps_per_bar)
        )

    @property
    def num_steps(self) -> int:
        """Complete steps: Magenta counts the STEP_ENDs (an unfinished step does not count)."""
        return int(np.count_nonzero(self.events == STEP_END))

    def without_trailing_end(self) -> PolyphonicSequence:
        """Magenta's trim_trailing_end_events: what a primer looks like before generating."""
        events = self.events
        while len(events) > 1 and events[-1] == END:
            events = events[:-1]
        return self._with(events)

    def set_length(self, steps: int) -> PolyphonicSequence:
        """Magenta's PolyphonicSequence.set_length: exactly `steps` steps, then END.

        Trailing ENDs go, a STEP_END closes any unfinished step, then silent steps are added
        or whole steps cut from the end (everything after the `steps`-th STEP_END).
        """
        events = [*self.without_trailing_end().events.tolist(), STEP_END]
        have = events.count(STEP_END)
        if have < steps:
            events += [STEP_END] * (steps - have)
        elif have > steps:
            ends = [i for i, event in enumerate(events) if event == STEP_END]
            events = events[: ends[steps - 1] + 1] if steps else [START]
        return self._with(np.array([*events, END]))

    def to_notes(
        self, velocity: int = 100, start_beat: float = 0.0, first_step: int = 0
    ) -> list[Note]:
        """The notes, as Magenta's PolyphonicSequence.to_sequence makes them.

        A NEW_NOTE starts a note; at each STEP_END (and the final END) every note sounding
        since before this step ends unless a CONTINUED_NOTE of its pitch came in the step.
        START anywhere and END before the last event are ignored, as are continuations of
        pitches not sounding. Only notes sounding at `first_step` or later are returned,
        with `first_step` at `start_beat`; one held across it starts there (a continuation
        holding the primer's chord plays that chord). As in Magenta, a note still sounding
        after the last event is an error: call `set_length` first, which ends with STEP_END,
        END.
        """
        step_beats = 1 / self.steps_per_quarter
        notes: list[Note] = []
        sounding: list[tuple[int, int]] = []  # (pitch, start step), oldest first
        to_end: list[int] = []
        step = 0
        last = len(self.events) - 1
        for index, event in enumerate(self.events.tolist()):
            if event == START or (event == END and index < last):
                continue
            if NEW_NOTE <= event < CONTINUED_NOTE:
                sounding.append((event - NEW_NOTE, step))
            elif event >= CONTINUED_NOTE:
                if event - CONTINUED_NOTE in to_end:
                    to_end.remove(event - CONTINUED_NOTE)
            else:  # STEP_END, or the final END
                for pitch, start in list(sounding):
                    if pitch in to_end:
                        to_end.remove(pitch)
                        sounding.remove((pitch, start))
                        if step > first_step:  # it sounds from first_step on
                            begins = max(start, first_step)
                            notes.append(
                                Note(
                                    pitch,
                                    start_beat + (begins - first_step) * step_beats,
                                    (step - begins) * step_beats,
                                    velocity,
                                )
                            )
                step += 1
                to_end = [pitch for pitch, _ in sounding]
        if sounding:
            raise ClipError(
                "a polyphonic sequence must end with STEP_END, END to become notes "
                f"(pitch {sounding[0][0]} still sounds at its end)"
            )
        return notes

    def _with(self, events: np.ndarray) -> PolyphonicSequence:
        return PolyphonicSequence(events, self.steps_per_quarter, self.steps_per_bar)


def polyphonic_events(quantized: QuantizedClip, start_step: int, num_steps: int) -> list[int]:
    """Magenta's PolyphonicSequence of a quantized part from `start_step`, `num_steps` long.

    As polyphony_lib's _from_quantized_sequence followed by set_length(num_steps) and
    trim_trailing_end_events: notes starting before `start_step` are left out; the result
    is START and, per step, its events (highest pitch first, a held note before a new note
    of the same pitch) and STEP_END. No END.
    """
    starts: dict[int, list[int]] = {}
    ends: dict[int, list[int]] = {}
    for note in quantized.notes:
        if note.start_step >= start_step:
            starts.setdefault(note.start_step, []).append(note.pitch)
            ends.setdefault(note.end_step, []).append(note.pitch)
    events = [START]
    active: list[int] = []  # a list, not a set: one pitch may sound twice
    for step in range(start_step, start_step + num_steps):
        for pitch in ends.get(step, ()):
            active.remove(pitch)
        step_events = [(pitch, CONTINUED_NOTE + pitch) for pitch in active]
        for pitch in starts.get(step, ()):
            active.append(pitch)
            step_events.append((pitch, NEW_NOTE + pitch))
        events += [event for _, event in sorted(step_events, key=lambda e: e[0], reverse=True)]
        events.append(STEP_END)
    return events


def extract_polyphonic_sequence(
    clip: Clip, steps_per_quarter: int = STEPS_PER_QUARTER, steps: int | None = None
) -> PolyphonicSequence:
    """The clip as Magenta's PolyphonyRNN generator prepares a primer.

    The clip's audible notes quantized as note_seq does, read from step 0 for `steps` steps,
    by default to the clip's end (a note before it that rounds onto it is kept, a step past
    the length, as note_seq keeps it). Notes still sounding at the last step are continued to
    it, notes from there on are left out. Without the END, so generation continues right
    after the last step.
    """
    quantized = quantize(clip, steps_per_quarter)
    steps = quantized.end_step if steps is None else steps
    if not any(note.start_step < steps for note in quantized.notes):
        raise ClipError("clip has no notes: it has no audible notes within its length")
    return PolyphonicSequence(
        np.array(polyphonic_events(quantized, 0, steps)), steps_per_quarter, quantized.steps_per_bar
    )
