"""Magenta's polyphony encoding, computed for a whole batch at a time.

PolyphonyRNN uses note_seq's OneHotEventSequenceEncoderDecoder around magenta's
PolyphonyOneHotEncoding: the input at a position is the one-hot class of its event, the
label is the class of the next event. Events are stored as those classes already
(bridge.music.polyphony), so the shared one-hot encoder serves.
"""

from __future__ import annotations

from bridge.models.events_rnn.encoding import OneHotEncoder
from bridge.models.polyphony_rnn.config import PolyphonyRnnConfig
from bridge.music.polyphony import NUM_POLYPHONIC_EVENTS


class PolyphonyEncoder(OneHotEncoder):
    """Turns polyphonic event histories into network inputs, and classes into events."""

    def __init__(self, config: PolyphonyRnnConfig):
        super().__init__(NUM_POLYPHONIC_EVENTS)
        self.config = config
