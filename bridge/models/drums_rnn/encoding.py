"""Magenta's drum_kit encoding, computed for a whole batch at a time.

note_seq wraps MultiDrumOneHotEncoding (a step's nine-bit class set is its one-hot index,
512 values) in a LookbackEventSequenceEncoderDecoder with no lookbacks: the input is the
one-hot step plus a 6-bit counter of the next step's position, and the label is the step
itself, so the shared one-hot encoder serves. Lookbacks are not supported: note_seq would
compare the steps' raw pitch sets there, not their classes, so they could not be computed
from classes alone; no Magenta drum config uses them.

Drum events are step values: bit c set when class c is hit, 0 for an empty step.
"""

from __future__ import annotations

import numpy as np

from bridge.models.drums_rnn.config import DrumsRnnConfig
from bridge.models.events_rnn.encoding import OneHotEncoder
from bridge.models.events_rnn.texture import EventEffects
from bridge.music.drums import NUM_DRUM_EVENTS


class DrumEncoder(OneHotEncoder):
    """Turns drum event histories into network inputs, and network classes into events."""

    def __init__(self, config: DrumsRnnConfig):
        super().__init__(NUM_DRUM_EVENTS, config.binary_counter_bits)
        self.config = config

    @staticmethod
    def effects() -> EventEffects:
        """Each event is one step, hitting as many drums as its bits (texture.py)."""
        hits = np.array([bin(event).count("1") for event in range(NUM_DRUM_EVENTS)])
        return EventEffects.of(hits, hits, np.ones(NUM_DRUM_EVENTS))
