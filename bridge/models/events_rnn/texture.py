"""Density and polyphony, honoured while sampling: which events each row may draw next.

A key lock is one fixed mask; a notes-per-bar target and a cap on simultaneous notes depend
on what a row has drawn so far, so they keep a little state per row: where it is in its bar,
how many notes that bar has started, how many sound on the current step. Every family
describes its events once (`EventEffects`: notes begun, notes sounding, steps moved on), and
the same rule serves them all:

- at most `notes_per_bar` notes start in a bar, and no event may leave a bar (this one, or
  the next when it moves time past the bar line) with less time than its notes still to come
  need, at `note_spacing` each: a bar falling short of its target fills its last steps, so
  every bar meets it where the family can play that many;
- at most `max_polyphony` notes sound on one step.

Where these and the fixed mask leave a row nothing to draw, the target yields first (to the
events that leave the bar least short of it), then the cap: the model always has a choice,
and the fixed mask (a key lock) is never broken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

PITCHES = 128


@dataclass(frozen=True)
class Texture:
    """What a request asks of its notes (None: as the model plays)."""

    notes_per_bar: int | None = None
    max_polyphony: int | None = None

    def __post_init__(self) -> None:
        for name in ("notes_per_bar", "max_polyphony"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")


@dataclass(frozen=True)
class EventEffects:
    """What each event does to the music, indexed like a mask (event + the encoder's
    `event_offset`): notes it begins, notes it sounds on the current step, grid steps it
    moves time on, notes it carries on from the step before (which the result, cut at its
    first step, shows as notes begun there), and for a family that plays one pitch per event
    on steps of several events, that pitch (-1: none), which a step sounds once."""

    starts: np.ndarray
    sounds: np.ndarray
    advances: np.ndarray
    carries: np.ndarray
    pitches: np.ndarray

    @classmethod
    def of(
        cls,
        starts: np.ndarray,
        sounds: np.ndarray,
        advances: np.ndarray,
        carries: np.ndarray | None = None,
        pitches: np.ndarray | None = None,
    ) -> EventEffects:
        """Effects from integer-like arrays of one length (carries and pitches: none)."""
        none = np.zeros(len(starts))
        carries = none if carries is None else carries
        pitches = none - 1 if pitches is None else pitches
        counts = (np.asarray(a, dtype=np.float64) for a in (starts, sounds, advances, carries))
        return cls(*counts, np.asarray(pitches, dtype=np.int64))


@dataclass(frozen=True)
class TextureRule:
    """A request's texture on its family's events and grid.

    `steps_per_bar`, `note_spacing` and `first_step` are in the grid steps that `advances`
    counts; the spacing is the time one note needs when a bar must catch up on its target,
    and the first step is where the result begins (-1: its notes are all begun after it)."""

    texture: Texture
    effects: EventEffects
    steps_per_bar: float
    note_spacing: float = 1.0
    first_step: float = -1.0


def texture_rule(
    texture: Texture | None, effects: EventEffects, steps_per_bar: float, **grid: float
) -> TextureRule | None:
    """A texture on a family's events and grid (`note_spacing`, `first_step`); None for none."""
    return None if texture is None else TextureRule(texture, effects, steps_per_bar, **grid)


class TextureState:
    """Per row: position in time, notes started in its bar, notes sounding on its step."""

    def __init__(self, rules: Sequence[TextureRule | None], offset: int):
        """One row per rule (None: a row left free); `select` makes the sampler's rows."""
        effects = next(rule.effects for rule in rules if rule is not None)
        self.effects, self.offset = effects, offset
        self.notes_limit = np.array([_limit(r, "notes_per_bar") for r in rules])
        self.poly_limit = np.array([_limit(r, "max_polyphony") for r in rules])
        self.bar = np.array([r.steps_per_bar if r else np.inf for r in rules])
        self.spacing = np.array([r.note_spacing if r else 1.0 for r in rules])
        self.first_step = np.array([r.first_step if r else -1.0 for r in rules])
        rows = len(rules)
        self.position = np.zeros(rows)
        self.bar_notes = np.zeros(rows)
        self.step_sounds = np.zeros(rows)
        self.step_pitches = np.zeros((rows, PITCHES + 1), dtype=bool)  # the last: no pitch

    def replay(self, histories: np.ndarray) -> None:
        """Count what the rows' histories (from the clip's first bar line) already hold."""
        for column in np.asarray(histories).T:
            self.advance(column)

    def allowed(self, events: np.ndarray, fixed: np.ndarray) -> np.ndarray:
        """Which of `events` [rows, choices] each row may draw, within `fixed` (the same shape):
        those within the limits (if any are) that leave the bar least short of its target."""
        index = events + self.offset
        within = fixed & self._within_limits(index)
        chosen = np.where(within.any(axis=1, keepdims=True), within, fixed)
        shortfall = np.where(chosen, self._shortfall(index), np.inf)
        return chosen & (shortfall == shortfall.min(axis=1, keepdims=True))

    def _within_limits(self, index: np.ndarray) -> np.ndarray:
        """Events that start no note past the bar's target, sound none past the polyphony
        cap, and play no pitch the step already plays."""
        played = np.take_along_axis(self.step_pitches, self.effects.pitches[index], axis=1)
        return (
            (self.bar_notes[:, None] + self._starts(index) <= self.notes_limit[:, None])
            & (self.step_sounds[:, None] + self.effects.sounds[index] <= self.poly_limit[:, None])
            & ~played
        )

    def _shortfall(self, index: np.ndarray) -> np.ndarray:
        """How short each event leaves the bar (or the next, for a move past the bar line) of
        the time its target's remaining notes need, plus the polyphony slots a step lacks for
        the notes due on it; 0 where the target can still be met. A target out of reach is
        then approached as closely as the family can."""
        spacing, target = self.spacing[:, None], self.notes_limit[:, None]
        starts, advances = self._starts(index), self.effects.advances[index]
        steps_left = self._steps_left()[:, None]
        sounds = self.effects.sounds[index]
        with np.errstate(invalid="ignore"):  # rows without a target: inf - inf, masked below
            still_needed = target - self.bar_notes[:, None] - starts
            left_after = steps_left - advances  # below 0: into the next bar
            this_bar = np.where(still_needed > 0, still_needed * spacing - left_after, 0)
            into_next = target * spacing - left_after - self.bar[:, None]
            next_bar = np.where(left_after < 0, into_next, 0)
            no_time = np.where(advances > 0, np.maximum(this_bar, next_bar), 0)
            due_now = np.maximum(target - self.bar_notes[:, None] - (steps_left - 1) / spacing, 0)
            slots = self.step_sounds[:, None] + sounds + due_now - self.poly_limit[:, None]
            no_slot = np.where((starts == 0) & (sounds > 0), slots, 0)
            shortfall = np.maximum(no_time, 0) + np.maximum(no_slot, 0)
        return np.where(np.isfinite(target), shortfall, 0.0)

    def advance(self, events: np.ndarray) -> None:
        """Count one drawn event per row."""
        index = np.asarray(events) + self.offset
        bar_before = self._bar_index()
        self.bar_notes += self._starts(index)
        self.step_sounds += self.effects.sounds[index]
        self.step_pitches[np.arange(len(index)), self.effects.pitches[index]] = True
        self.step_pitches[:, PITCHES] = False
        moved = self.effects.advances[index] > 0
        self.position += self.effects.advances[index]
        self.step_sounds[moved] = 0
        self.step_pitches[moved] = False
        self.bar_notes[self._bar_index() != bar_before] = 0

    def select(self, rows: np.ndarray) -> None:
        """Keep (and duplicate) the given rows, as beam search reorders its branches."""
        for name in ("notes_limit", "poly_limit", "bar", "spacing", "first_step", "position"):
            setattr(self, name, getattr(self, name)[rows])
        self.bar_notes, self.step_sounds = self.bar_notes[rows], self.step_sounds[rows]
        self.step_pitches = self.step_pitches[rows]

    def _starts(self, index: np.ndarray) -> np.ndarray:
        """Notes the events begin in the result: a note carried onto its first step too."""
        at_first = self.position == self.first_step
        at_first = at_first[:, None] if index.ndim == 2 else at_first
        return self.effects.starts[index] + at_first * self.effects.carries[index]

    def _bar_index(self) -> np.ndarray:
        return np.floor(self.position / self.bar + 1e-9)

    def _steps_left(self) -> np.ndarray:
        """Grid steps from the current position to the next bar line."""
        return (self._bar_index() + 1) * self.bar - self.position


def _limit(rule: TextureRule | None, name: str) -> float:
    value = None if rule is None else getattr(rule.texture, name)
    return np.inf if value is None else float(value)
