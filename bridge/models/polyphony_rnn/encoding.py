"""Magenta's polyphony encoding, computed for a whole batch at a time.

PolyphonyRNN uses note_seq's OneHotEventSequenceEncoderDecoder around magenta's
PolyphonyOneHotEncoding: the input at a position is the one-hot class of its event, the
label is the class of the next event. Events are stored as those classes already
(bridge.music.polyphony), so the shared one-hot encoder serves.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from bridge.models.events_rnn.encoding import OneHotEncoder
from bridge.models.events_rnn.texture import EventEffects
from bridge.models.polyphony_rnn.config import PolyphonyRnnConfig
from bridge.music.polyphony import (
    CONTINUED_NOTE,
    NEW_NOTE,
    NUM_POLYPHONIC_EVENTS,
    PITCHES,
    STEP_END,
)


class PolyphonyEncoder(OneHotEncoder):
    """Turns polyphonic event histories into network inputs, and classes into events."""

    def __init__(self, config: PolyphonyRnnConfig):
        super().__init__(NUM_POLYPHONIC_EVENTS)
        self.config = config

    @staticmethod
    def effects() -> EventEffects:
        """A new note starts and sounds, a continued one sounds and carries on, each at its
        pitch; STEP_END moves on a step (texture.py)."""
        starts, sounds, advances, carries = np.zeros((4, NUM_POLYPHONIC_EVENTS))
        starts[NEW_NOTE:CONTINUED_NOTE] = 1
        sounds[NEW_NOTE:] = 1
        advances[STEP_END] = 1
        carries[CONTINUED_NOTE:] = 1
        pitches = np.full(NUM_POLYPHONIC_EVENTS, -1)
        pitches[NEW_NOTE:CONTINUED_NOTE] = pitches[CONTINUED_NOTE:] = np.arange(PITCHES)
        return EventEffects.of(starts, sounds, advances, carries, pitches)


def allowed_events(pitches: Collection[int]) -> np.ndarray:
    """A mask over polyphonic events (sampling.Extension) that lets notes start or go on only
    at these pitches; the step, start and end events are always allowed."""
    allowed = np.zeros(NUM_POLYPHONIC_EVENTS, dtype=bool)
    allowed[:NEW_NOTE] = True
    for pitch in pitches:
        if 0 <= pitch < PITCHES:
            allowed[NEW_NOTE + pitch] = allowed[CONTINUED_NOTE + pitch] = True
    return allowed
