"""Magenta's polyphony encoding, computed for a whole batch at a time.

PolyphonyRNN uses note_seq's OneHotEventSequenceEncoderDecoder around magenta's
PolyphonyOneHotEncoding: the input at a position is the one-hot class of its event, the
label is the class of the next event. Events are stored as those classes already
(bridge.music.polyphony), so encoding is a one-hot and every class decodes to itself.

The state offers the interface that `melody_rnn.sampling.extend_batch` drives, so the
sampler, network and steppers are MelodyRNN's.
"""

from __future__ import annotations

import numpy as np

from bridge.models.polyphony_rnn.config import PolyphonyRnnConfig
from bridge.music.polyphony import NUM_POLYPHONIC_EVENTS, STEP_END


class PolyphonyEncoder:
    """Turns polyphonic event histories into network inputs, and classes into events."""

    def __init__(self, config: PolyphonyRnnConfig):
        self.config = config

    @property
    def num_classes(self) -> int:
        return NUM_POLYPHONIC_EVENTS

    @property
    def input_size(self) -> int:
        return NUM_POLYPHONIC_EVENTS

    def class_events(self, rows: int) -> np.ndarray:
        """The event every class would append, for each row: class c is event c."""
        return np.broadcast_to(np.arange(NUM_POLYPHONIC_EVENTS), (rows, NUM_POLYPHONIC_EVENTS))

    def encode(self, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training pairs as Magenta makes them: inputs at 0..T-2 predict labels at 1..T-1."""
        events = np.asarray(events, dtype=np.int64)
        return self.start(events[None, :]).all_inputs[0, :-1], events[1:]

    def start(self, primers: np.ndarray, capacity: int | None = None) -> PolyphonyEncoderState:
        """Begin encoding a batch of equal-length primers (rows x events)."""
        return PolyphonyEncoderState(self, primers, capacity)


class PolyphonyEncoderState:
    """Histories of a batch of polyphonic sequences being extended, and their inputs."""

    def __init__(self, encoder: PolyphonyEncoder, primers: np.ndarray, capacity: int | None):
        primers = np.asarray(primers, dtype=np.int64)
        rows, length = primers.shape
        if length == 0:
            raise ValueError("a polyphonic sequence needs at least one event to be encoded")
        self.encoder = encoder
        self.history = np.full((rows, max(capacity or 0, length)), STEP_END, dtype=np.int64)
        self.length = length
        self.history[:, :length] = primers
        self.all_inputs = np.zeros((rows, length, encoder.input_size), dtype=np.float32)
        self.all_inputs[np.arange(rows)[:, None], np.arange(length), primers] = 1.0

    def advance(self, events: np.ndarray) -> np.ndarray:
        """Append one event per row; return the inputs for that new position [rows, inputs]."""
        events = np.asarray(events, dtype=np.int64)
        if self.length == self.history.shape[1]:
            self.history = np.concatenate([self.history, np.full_like(self.history, STEP_END)], 1)
        self.history[:, self.length] = events
        self.length += 1
        out = np.zeros((len(events), self.encoder.input_size), dtype=np.float32)
        out[np.arange(len(events)), events] = 1.0
        return out

    def select(self, rows: np.ndarray) -> None:
        """Keep (and duplicate) the given rows, as beam search reorders its branches."""
        self.history = self.history[rows]

    def melodies(self) -> np.ndarray:
        """The event histories [rows, events] (the sampler's name for its results)."""
        return self.history[:, : self.length]

    def class_events(self) -> np.ndarray:
        return self.encoder.class_events(self.history.shape[0])
