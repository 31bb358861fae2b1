"""Magenta's PerformanceRNN encoding, computed for a whole batch at a time.

Both ported configs use note_seq's OneHotEventSequenceEncoderDecoder around a
PerformanceOneHotEncoding: the input at each position is the one-hot event and the label is
the event's index. Events are stored as those indices (bridge.music.performance), so the
shared one-hot encoder serves.
"""

from __future__ import annotations

from bridge.models.events_rnn.encoding import OneHotEncoder
from bridge.models.performance_rnn.config import PerformanceRnnConfig


class PerformanceEncoder(OneHotEncoder):
    """Turns performance event histories into network inputs, and classes into events."""

    def __init__(self, config: PerformanceRnnConfig):
        super().__init__(config.num_classes)
        self.config = config
