"""Which notes of a piece become controls: the three ways the reference splits a piece when
it makes training sequences (spans of time, random notes, whole instruments). The same
splits pose the tasks at generation time: a span to fill is a span of controls' absence,
an accompaniment's melody is an instrument given as controls.

The random splits draw from a numpy RandomState in the reference's order (one exponential
per span, one uniform per note), so a seed gives the reference's split again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from bridge.models.transformer.events import Event
from bridge.models.transformer.vocab import DELTA, TIME_RESOLUTION

RANDOM_RATES = 10  # split_random's rate is in tenths


def split_spans(
    events: Sequence[Event], rate: float, rng: np.random.RandomState
) -> tuple[list[Event], list[Event]]:
    """(events, controls): spans of DELTA ticks become controls, each starting at an event,
    the gaps between them exponential with `rate` spans a second."""
    kept: list[Event] = []
    controls: list[Event] = []
    in_span, span_end, next_span = True, 0, 0
    for event in events:
        if in_span and event.time >= span_end:
            in_span = False
            next_span = event.time + int(TIME_RESOLUTION * rng.exponential(1.0 / rate))
        if not in_span and event.time >= next_span:
            in_span = True
            span_end = event.time + DELTA
        (controls if in_span else kept).append(event.as_control(in_span))
    return kept, controls


def split_random(
    events: Sequence[Event], rate: int, rng: np.random.RandomState
) -> tuple[list[Event], list[Event]]:
    """(events, controls): each note is a control with probability rate / 10."""
    kept: list[Event] = []
    controls: list[Event] = []
    for event in events:
        control = bool(rng.random_sample() < rate / RANDOM_RATES)
        (controls if control else kept).append(event.as_control(control))
    return kept, controls


def split_instruments(
    events: Sequence[Event], instruments: Collection[int]
) -> tuple[list[Event], list[Event]]:
    """(events, controls): the notes of `instruments` become controls."""
    kept: list[Event] = []
    controls: list[Event] = []
    for event in events:
        control = event.instrument in instruments
        (controls if control else kept).append(event.as_control(control))
    return kept, controls
