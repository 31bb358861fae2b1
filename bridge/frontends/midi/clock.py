"""Where the beat is: the DAW's MIDI clock when it sends one, else an internal tempo.

MIDI clock is 24 ticks per quarter note plus start, stop and continue (and song position,
in sixteenths). `MidiClock` counts ticks and reads the tempo off the last two beats of
them (a least-squares line through their times: MIDI drivers deliver in periods, so single
intervals jump between whole periods, and one late tick barely moves the line); between
ticks, and if ticks stop coming without a stop message, it carries on at the last tempo.
`FollowingClock` answers from the MIDI clock while the DAW's transport runs and from
`InternalClock` otherwise, so answers land on a grid whether or not a DAW is playing.
Times are `time.monotonic()` seconds.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from typing import Protocol

import mido

TICKS_PER_BEAT = 24
TICKS_PER_SIXTEENTH = 6


class Clock(Protocol):
    """Beats (quarter notes) against monotonic seconds."""

    @property
    def qpm(self) -> float: ...

    def beat_at(self, t: float) -> float: ...

    def time_at(self, beat: float) -> float: ...


class InternalClock:
    """A steady tempo from a start time: what answers follow when no DAW sends a clock."""

    def __init__(self, qpm: float, start: float = 0.0):
        if not math.isfinite(qpm) or qpm <= 0:
            raise ValueError(f"tempo must be a positive number of quarter notes a minute: {qpm}")
        self._qpm, self.start = qpm, start

    @property
    def qpm(self) -> float:
        return self._qpm

    def beat_at(self, t: float) -> float:
        return (t - self.start) * self._qpm / 60.0

    def time_at(self, beat: float) -> float:
        return self.start + beat * 60.0 / self._qpm


class MidiClock:
    """The DAW's transport as its clock messages tell it: position in beats and tempo."""

    def __init__(self, fallback_qpm: float = 120.0, window: int = 2 * TICKS_PER_BEAT):
        self.fallback_qpm = fallback_qpm
        self.running = False
        self.ticks = 0  # since the song's start
        self.last_tick_time: float | None = None
        self._recent: deque[tuple[int, float]] = deque(maxlen=window)  # (tick, time)

    def feed(self, message: mido.Message, t: float) -> None:
        """Take one realtime message received at `t`; others are ignored."""
        if message.type == "start":
            self.running, self.ticks, self.last_tick_time = True, 0, None
            self._recent.clear()
        elif message.type == "continue":
            self.running = True
        elif message.type == "stop":
            self.running = False
        elif message.type == "songpos":
            self.ticks = message.pos * TICKS_PER_SIXTEENTH
            self._recent.clear()
        elif message.type == "clock" and self.running:
            if self.last_tick_time is not None:
                self.ticks += 1  # the first tick after start is beat 0
            self.last_tick_time = t
            self._recent.append((self.ticks, t))

    @property
    def following(self) -> bool:
        """Whether the transport runs and has ticked, so positions can be read off it."""
        return self.running and self.last_tick_time is not None

    @property
    def qpm(self) -> float:
        if len(self._recent) < 3:
            return self.fallback_qpm
        ticks = [tick for tick, _ in self._recent]
        times = [at for _, at in self._recent]
        seconds_per_tick = statistics.linear_regression(ticks, times).slope
        return 60.0 / (seconds_per_tick * TICKS_PER_BEAT)

    def beat_at(self, t: float) -> float:
        if self.last_tick_time is None:
            return 0.0
        return self.ticks / TICKS_PER_BEAT + (t - self.last_tick_time) * self.qpm / 60.0

    def time_at(self, beat: float) -> float:
        if self.last_tick_time is None:
            raise RuntimeError("the MIDI clock has not ticked yet")
        return self.last_tick_time + (beat - self.ticks / TICKS_PER_BEAT) * 60.0 / self.qpm


class FollowingClock:
    """The MIDI clock while it runs, the internal tempo otherwise (re-anchored at the
    MIDI clock's last position when the DAW stops, so the grid does not jump)."""

    def __init__(self, qpm: float, start: float):
        self.midi = MidiClock(qpm)
        self.internal = InternalClock(qpm, start)

    def feed(self, message: mido.Message, t: float) -> None:
        if self.midi.following and message.type == "stop":
            qpm = self.midi.qpm
            self.internal = InternalClock(qpm, t - self.midi.beat_at(t) * 60.0 / qpm)
        self.midi.feed(message, t)

    @property
    def _active(self) -> Clock:
        return self.midi if self.midi.following else self.internal

    @property
    def qpm(self) -> float:
        return self._active.qpm

    def beat_at(self, t: float) -> float:
        return self._active.beat_at(t)

    def time_at(self, beat: float) -> float:
        return self._active.time_at(beat)


def next_grid_time(clock: Clock, t: float, unit_beats: float) -> float:
    """The first time at or after `t` that falls on a multiple of `unit_beats` (a beat: 1,
    a 4/4 bar: 4)."""
    beat = clock.beat_at(t)
    grid = math.ceil(beat / unit_beats - 1e-9) * unit_beats
    return clock.time_at(grid)
