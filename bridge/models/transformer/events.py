"""Events <-> tokens: one note (or rest) as the triple of tokens the model reads and writes.

An Event's times are whole ticks (vocab.TIME_RESOLUTION a second) from the piece's start.
Absolute times may pass vocab.MAX_TIME: a long piece's tokens are the plain sums, as the
reference keeps them, and only the window the network sees is shifted into range
(arrival.window). A control is a note given to the model to anticipate; its tokens sit in
the control block, so the network can tell what it must write from what it is told.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from bridge.models.transformer.vocab import (
    CONTROL_OFFSET,
    DURATION_OFFSET,
    MAX_DURATION,
    NOTE_OFFSET,
    REST_NOTE,
    SPECIAL_OFFSET,
    TIME_OFFSET,
    instrument_of,
    pitch_of,
)


class Event(NamedTuple):
    """A note (instrument x pitch index) or a rest (vocab.REST_NOTE), in ticks."""

    time: int
    duration: int
    note: int
    control: bool = False

    @property
    def is_rest(self) -> bool:
        return self.note == REST_NOTE

    @property
    def instrument(self) -> int:
        """General MIDI program 0-127, or vocab.DRUMS; vocab.INSTRUMENTS for a rest."""
        return instrument_of(self.note)

    @property
    def pitch(self) -> int:
        return pitch_of(self.note)

    def as_control(self, control: bool = True) -> Event:
        return self._replace(control=control)

    def tokens(self) -> tuple[int, int, int]:
        """Time, duration and note tokens, in the control block for a control."""
        block = CONTROL_OFFSET if self.control else 0
        return (
            block + TIME_OFFSET + self.time,
            block + DURATION_OFFSET + self.duration,
            block + NOTE_OFFSET + self.note,
        )


def to_tokens(events: Iterable[Event]) -> list[int]:
    """The flat token sequence of events (and controls), three tokens each, in order."""
    return [token for event in events for token in event.tokens()]


def from_tokens(tokens: Sequence[int]) -> list[Event]:
    """Events from a flat sequence of triples; a triple whose note token lies in the control
    block is a control. Special tokens (separator, task tokens) are refused: strip them first."""
    if len(tokens) % 3:
        raise ValueError(f"{len(tokens)} tokens are not whole triples (time, duration, note)")
    events = []
    for index in range(0, len(tokens), 3):
        time, duration, note = tokens[index : index + 3]
        if max(time, duration, note) >= SPECIAL_OFFSET or min(time, duration, note) < 0:
            raise ValueError(f"triple {index // 3} {(time, duration, note)} is not a note")
        block = CONTROL_OFFSET if note >= CONTROL_OFFSET else 0
        event = Event(
            time - block - TIME_OFFSET,
            duration - block - DURATION_OFFSET,
            note - block - NOTE_OFFSET,
            block > 0,
        )
        if (
            event.time < 0
            or not 0 <= event.duration < MAX_DURATION
            or not 0 <= event.note <= REST_NOTE
            or (event.is_rest and event.control)
        ):
            raise ValueError(f"triple {index // 3} {(time, duration, note)} mixes token kinds")
        events.append(event)
    return events
