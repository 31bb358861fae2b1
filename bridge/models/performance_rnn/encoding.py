"""Magenta's PerformanceRNN encoding, computed for a whole batch at a time.

Both ported configs use note_seq's OneHotEventSequenceEncoderDecoder around a
PerformanceOneHotEncoding: the input at each position is the one-hot event and the label is
the event's index. Events are stored as those indices (bridge.music.performance), so the
shared one-hot encoder serves.
"""

from __future__ import annotations

import numpy as np

from bridge.models.events_rnn.encoding import OneHotEncoder
from bridge.models.events_rnn.texture import EventEffects
from bridge.models.performance_rnn.config import PerformanceRnnConfig
from bridge.music.performance import MAX_SHIFT_STEPS, NOTE_OFF, NOTE_ON, NUM_PITCHES, TIME_SHIFT


class PerformanceEncoder(OneHotEncoder):
    """Turns performance event histories into network inputs, and classes into events."""

    def __init__(self, config: PerformanceRnnConfig):
        super().__init__(config.num_classes)
        self.config = config

    def effects(self) -> EventEffects:
        """NOTE_ON starts a note, TIME_SHIFT s moves on s 10 ms steps (texture.py). A pitch
        starts or stops once per instant: a note started twice there, or stopped as it
        starts, would be no note. Notes sounding together are not counted: a performance
        holds them across time shifts."""
        starts, advances = np.zeros((2, self.num_classes))
        starts[NOTE_ON : NOTE_ON + NUM_PITCHES] = 1
        shifts = np.arange(1, MAX_SHIFT_STEPS + 1)
        advances[TIME_SHIFT + shifts] = shifts
        pitches = np.full(self.num_classes, -1)
        pitches[NOTE_ON : NOTE_ON + NUM_PITCHES] = np.arange(NUM_PITCHES)
        pitches[NOTE_OFF : NOTE_OFF + NUM_PITCHES] = np.arange(NUM_PITCHES)
        return EventEffects.of(starts, np.zeros(self.num_classes), advances, pitches=pitches)
