"""Following a DAW's MIDI clock (24 ticks a quarter, start/stop/continue, song position) and
falling back to an internal tempo, with real mido messages."""

from __future__ import annotations

import mido
import pytest

from bridge.frontends.midi.clock import FollowingClock, InternalClock, MidiClock, next_grid_time

TICK_AT_120 = 0.5 / 24


def ticks(clock, count: int, start: float, interval: float = TICK_AT_120) -> float:
    """Feed `count` clock ticks from `start`; returns the last tick's time."""
    t = start
    for index in range(count):
        t = start + index * interval
        clock.feed(mido.Message("clock"), t)
    return t


def test_the_tempo_and_position_are_read_off_the_ticks():
    clock = MidiClock(fallback_qpm=90.0)
    assert clock.qpm == 90.0, "no ticks yet: the fallback tempo"
    clock.feed(mido.Message("start"), 10.0)
    last = ticks(clock, 49, 10.0)  # beat 0 .. beat 2
    assert clock.qpm == pytest.approx(120.0)
    assert clock.beat_at(last) == pytest.approx(2.0)
    assert clock.beat_at(last + 0.25) == pytest.approx(2.5), "extrapolated between ticks"
    assert clock.time_at(3.0) == pytest.approx(last + 0.5)


def test_one_late_tick_does_not_move_the_tempo():
    clock = MidiClock()
    clock.feed(mido.Message("start"), 0.0)
    for index in range(48):
        late = 2 * TICK_AT_120 if index == 30 else 0.0  # a hiccup, then on time again
        clock.feed(mido.Message("clock"), index * TICK_AT_120 + late)
    assert clock.qpm == pytest.approx(120.0, rel=0.01)


def test_ticks_delivered_in_whole_driver_periods_still_give_the_tempo():
    """JACK hands MIDI over every 5.3 ms: ticks 25 ms apart (100 qpm) arrive 21.3 or 26.7 ms
    apart, never 25; the tempo is the line through them, not any one interval."""
    clock = MidiClock()
    clock.feed(mido.Message("start"), 0.0)
    period = 256 / 48000
    for index in range(96):
        sent = index * 0.025
        clock.feed(mido.Message("clock"), (sent // period + 1) * period)
    assert clock.qpm == pytest.approx(100.0, rel=0.01)


def test_ticks_count_only_while_the_transport_runs_and_song_position_jumps():
    clock = MidiClock()
    ticks(clock, 10, 0.0)
    assert clock.ticks == 0 and not clock.following
    clock.feed(mido.Message("start"), 1.0)
    ticks(clock, 25, 1.0)
    assert clock.ticks == 24
    clock.feed(mido.Message("stop"), 2.0)
    ticks(clock, 5, 2.1)
    assert clock.ticks == 24
    clock.feed(mido.Message("songpos", pos=16), 3.0)  # bar 2 in sixteenths
    clock.feed(mido.Message("continue"), 3.0)
    clock.feed(mido.Message("clock"), 3.1)
    assert clock.beat_at(3.1) == pytest.approx(4.0 + 1 / 24)


def test_the_internal_tempo_stands_in_and_takes_over_where_the_daw_stopped():
    clock = FollowingClock(qpm=100.0, start=0.0)
    assert clock.beat_at(6.0) == pytest.approx(10.0), "no DAW: 100 qpm from the start"
    clock.feed(mido.Message("start"), 20.0)
    last = ticks(clock, 97, 20.0)  # four beats at 120
    assert clock.qpm == pytest.approx(120.0) and clock.beat_at(last) == pytest.approx(4.0)
    clock.feed(mido.Message("stop"), last + 0.25)
    assert clock.beat_at(last + 0.75) == pytest.approx(5.5), "carries on at 120 from beat 4.5"


def test_answers_start_on_the_next_beat_or_bar():
    clock = InternalClock(120.0, start=100.0)
    assert next_grid_time(clock, 100.0, 4) == pytest.approx(100.0), "on the bar already"
    assert next_grid_time(clock, 100.1, 4) == pytest.approx(102.0)
    assert next_grid_time(clock, 100.6, 1) == pytest.approx(101.0)


def test_a_tempo_must_be_positive():
    with pytest.raises(ValueError, match="tempo must be a positive"):
        InternalClock(0.0)
