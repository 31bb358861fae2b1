"""Magenta's PerformanceRNN encoding, computed for a whole batch at a time.

Both ported configs use note_seq's OneHotEventSequenceEncoderDecoder around a
PerformanceOneHotEncoding: the input at each position is the one-hot event and the label is
the event's index. Events are stored as those indices (bridge.music.performance), so every
class stands for itself. The running state offers the interface that
`melody_rnn.sampling.extend_batch` drives, so the sampler, network and steppers are shared.
"""

from __future__ import annotations

import numpy as np

from bridge.models.performance_rnn.config import PerformanceRnnConfig


class PerformanceEncoder:
    """Turns performance event histories into network inputs, and classes into events."""

    def __init__(self, config: PerformanceRnnConfig):
        self.config = config

    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    @property
    def input_size(self) -> int:
        return self.config.num_classes

    def class_events(self, rows: int) -> np.ndarray:
        """The event every class would append, for each row: class c is event c."""
        return np.broadcast_to(np.arange(self.num_classes), (rows, self.num_classes))

    def encode(self, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training pairs as Magenta makes them: inputs at 0..T-2 predict labels at 1..T-1."""
        events = np.asarray(events, dtype=np.int64)
        return self.start(events[None, :]).all_inputs[0, :-1], events[1:]

    def start(self, primers: np.ndarray, capacity: int | None = None) -> PerformanceEncoderState:
        """Begin encoding a batch of equal-length primers (rows x events)."""
        return PerformanceEncoderState(self, primers, capacity)


class PerformanceEncoderState:
    """Histories of a batch of performances being extended, and their inputs."""

    def __init__(self, encoder: PerformanceEncoder, primers: np.ndarray, capacity: int | None):
        primers = np.asarray(primers, dtype=np.int64)
        rows, length = primers.shape
        if length == 0:
            raise ValueError("a performance needs at least one event to be encoded")
        self.encoder = encoder
        self.history = np.zeros((rows, max(capacity or 0, length)), dtype=np.int64)
        self.history[:, :length] = primers
        self.length = length
        self.all_inputs = self._one_hot(primers)

    def advance(self, events: np.ndarray) -> np.ndarray:
        """Append one event per row; return the inputs for that new position [rows, inputs]."""
        events = np.asarray(events, dtype=np.int64)
        if self.length == self.history.shape[1]:
            self.history = np.concatenate([self.history, np.zeros_like(self.history)], axis=1)
        self.history[:, self.length] = events
        self.length += 1
        return self._one_hot(events)

    def select(self, rows: np.ndarray) -> None:
        """Keep (and duplicate) the given rows, as beam search reorders its branches."""
        self.history = self.history[rows]

    def melodies(self) -> np.ndarray:
        """The event histories [rows, events] (the sampler's name for its results)."""
        return self.history[:, : self.length]

    def class_events(self) -> np.ndarray:
        return self.encoder.class_events(self.history.shape[0])

    def _one_hot(self, events: np.ndarray) -> np.ndarray:
        out = np.zeros((*events.shape, self.encoder.input_size), dtype=np.float32)
        np.put_along_axis(out, events[..., None], 1.0, axis=-1)
        return out
