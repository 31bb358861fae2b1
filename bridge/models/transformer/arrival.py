"""The arrival-time sequence: rests in long silences, controls interleaved by anticipation,
and the window of it the network sees.

The paper's ordering rule: a control at time t enters the sequence right after the first
event at or past t - DELTA, so the model learns of a note DELTA ticks before it must play
around it, and reads everything in order of when it arrives. Rests keep that rule working
through silence: no gap between events is longer than vocab.REST_EVERY.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from bridge.models.transformer.events import Event
from bridge.models.transformer.vocab import DELTA, REST_EVERY, REST_NOTE


def with_rests(events: Sequence[Event], end: int = 0) -> list[Event]:
    """Events (no controls) with a rest wherever a second passes without one, from time 0 up
    to `end` (0: the last event's time). A rest lasts 0 ticks."""
    if end == 0:
        end = last_time(events)
    padded: list[Event] = []
    previous = 0
    for event in events:
        if event.control:
            raise ValueError("rests are added before controls are interleaved")
        while event.time > previous + REST_EVERY:
            previous += REST_EVERY
            padded.append(Event(previous, 0, REST_NOTE))
        padded.append(event)
        previous = event.time
    while end > previous + REST_EVERY:
        previous += REST_EVERY
        padded.append(Event(previous, 0, REST_NOTE))
    return padded


def without_rests(events: Sequence[Event]) -> list[Event]:
    return [event for event in events if not event.is_rest]


def anticipate(
    events: Sequence[Event], controls: Sequence[Event], delta: int = DELTA
) -> tuple[list[Event], list[Event]]:
    """Events with controls interleaved: a control goes in before the first event that comes
    after one at or past its time - delta (before any event, when its time is at most delta).
    Returns the sequence and the controls still waiting (time > last event's + delta)."""
    if not controls:
        return list(events), []
    sequence: list[Event] = []
    waiting = [control.as_control() for control in controls]
    now = 0
    for event in events:
        if event.control:
            raise ValueError("anticipate takes events and controls apart")
        while waiting and due(waiting[0], now, delta):
            sequence.append(waiting.pop(0))
        sequence.append(event)
        now = event.time
    return sequence, waiting


def due(control: Event, now: int, delta: int = DELTA) -> bool:
    """Whether a control enters the sequence once the events have reached time `now`."""
    return now >= control.time - delta


def by_time(events: Sequence[Event]) -> list[Event]:
    """Sorted by time; events at one time keep their order (a stable sort)."""
    return sorted(events, key=lambda event: event.time)


def between(events: Sequence[Event], start: int, end: float = math.inf) -> list[Event]:
    """The events whose time lies in [start, end] (both ends included, as the reference)."""
    return [event for event in events if start <= event.time <= end]


def last_time(events: Sequence[Event]) -> int:
    """The latest onset of the events and controls; 0 for none."""
    return max((event.time for event in events), default=0)


def first_time(events: Sequence[Event]) -> int:
    """The earliest onset of the events and controls; 0 for none."""
    return min((event.time for event in events), default=0)


def shifted(events: Sequence[Event], ticks: int) -> list[Event]:
    """The events moved in time by `ticks` (negative: earlier); none may move before 0."""
    moved = [event._replace(time=event.time + ticks) for event in events]
    if moved and first_time(moved) < 0:
        raise ValueError(f"shifting by {ticks} ticks moves an event before time 0")
    return moved
