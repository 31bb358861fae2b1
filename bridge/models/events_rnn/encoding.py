"""Encoder states that the sampler drives, and note_seq's one-hot event encoding.

Every family's encoder keeps a running state per row instead of re-reading the whole
history at each step as note_seq does, so generation costs O(1) per step. `EventHistory`
is the part of that state all families share (the histories, growing and reordering with
the beam); `OneHotEncoder` is the whole encoder of the families whose input is the one-hot
class of the event, plus an optional binary counter (DrumsRNN, PolyphonyRNN,
PerformanceRNN), with events stored as their class so that every class decodes to itself.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class EncoderState(Protocol):
    """What `sampling.extend_batch` needs of a batch of sequences being extended."""

    all_inputs: np.ndarray  # the primers' inputs [rows, steps, inputs]

    def advance(self, events: np.ndarray) -> np.ndarray:
        """Append one event per row; return the inputs for that new position [rows, inputs]."""

    def select(self, rows: np.ndarray) -> None:
        """Keep (and duplicate) the given rows, as beam search reorders its branches."""

    def melodies(self) -> np.ndarray:
        """The event histories [rows, events]."""

    def class_events(self) -> np.ndarray:
        """For each row, the event every class would append [rows, classes]."""


class EventEncoder(Protocol):
    """What a family's encoder offers the sampler, the network and training."""

    # A mask over events (sampling.Extension) is indexed by event + event_offset: melody
    # events start at -2, the one-hot families' at 0.
    event_offset: int

    @property
    def input_size(self) -> int: ...

    @property
    def num_classes(self) -> int: ...

    def start(self, primers: np.ndarray, capacity: int | None = None) -> EncoderState:
        """Begin encoding a batch of equal-length primers (rows x events)."""

    def encode(self, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training pairs: inputs at 0..T-2 and the labels they predict at 1..T-1."""

    def scored_class_events(self, events: np.ndarray) -> np.ndarray:
        """[T-1, classes]: the event each class stands for at every position `encode` labels."""


class EventHistory:
    """The event histories of a batch of rows, with room for `capacity` events."""

    def __init__(self, primers: np.ndarray, capacity: int | None):
        primers = np.asarray(primers, dtype=np.int64)
        rows, length = primers.shape
        if length == 0:
            raise ValueError("a primer needs at least one event to be encoded")
        self.history = np.zeros((rows, max(capacity or 0, length)), dtype=np.int64)
        self.length = 0

    def record(self, events: np.ndarray) -> None:
        """Append one event per row, doubling the room when it is full."""
        if self.length == self.history.shape[1]:
            self.history = np.concatenate([self.history, np.zeros_like(self.history)], axis=1)
        self.history[:, self.length] = events
        self.length += 1

    def select(self, rows: np.ndarray) -> None:
        """Keep (and duplicate) the given rows, as beam search reorders its branches."""
        self.history = self.history[rows]

    def melodies(self) -> np.ndarray:
        """The event histories [rows, events] (named for the first family to use them)."""
        return self.history[:, : self.length]


class OneHotEncoder:
    """note_seq's one-hot event encoding, optionally followed by a binary counter.

    The input at a position is the one-hot class of its event, then (with counter bits) the
    +1/-1 bits of the *next* event's position; the label is the next event's class.
    """

    event_offset = 0  # events are classes, from 0

    def __init__(self, num_classes: int, binary_counter_bits: int = 0):
        self.num_classes = num_classes
        self.binary_counter_bits = binary_counter_bits
        # Row n: the binary counter inputs (+1/-1 per bit) for metric position n.
        bits = binary_counter_bits
        self.counters = np.array(
            [[1.0 if (n >> i) & 1 else -1.0 for i in range(bits)] for n in range(2**bits)],
            dtype=np.float32,
        )

    @property
    def input_size(self) -> int:
        return self.num_classes + self.binary_counter_bits

    def class_events(self, rows: int) -> np.ndarray:
        """The event every class would append, for each row: class c is event c."""
        return np.broadcast_to(np.arange(self.num_classes), (rows, self.num_classes))

    def encode(self, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training pairs as Magenta makes them: inputs at 0..T-2 predict labels at 1..T-1."""
        events = np.asarray(events, dtype=np.int64)
        return self.start(events[None, :]).all_inputs[0, :-1], events[1:]

    def scored_class_events(self, events: np.ndarray) -> np.ndarray:
        """[T-1, classes]: class c is event c everywhere, so a label is its event."""
        return self.class_events(max(len(events) - 1, 0))

    def start(self, primers: np.ndarray, capacity: int | None = None) -> OneHotEncoderState:
        """Begin encoding a batch of equal-length primers (rows x events)."""
        return OneHotEncoderState(self, primers, capacity)

    def inputs(self, events: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Inputs for `events` [...] at positions that make the sequences `lengths` long."""
        out = np.zeros((*events.shape, self.input_size), dtype=np.float32)
        np.put_along_axis(out, events[..., None], 1.0, axis=-1)
        out[..., self.num_classes :] = self.counters[lengths % len(self.counters)]
        return out


class OneHotEncoderState(EventHistory):
    """Histories of a batch of one-hot encoded sequences being extended, and their inputs."""

    def __init__(self, encoder: OneHotEncoder, primers: np.ndarray, capacity: int | None):
        super().__init__(primers, capacity)
        primers = np.asarray(primers, dtype=np.int64)
        length = primers.shape[1]
        self.encoder = encoder
        self.history[:, :length] = primers
        self.length = length
        self.all_inputs = encoder.inputs(primers, np.arange(1, length + 1))

    def advance(self, events: np.ndarray) -> np.ndarray:
        """Append one event per row; return the inputs for that new position [rows, inputs]."""
        events = np.asarray(events, dtype=np.int64)
        self.record(events)
        return self.encoder.inputs(events, np.array(self.length))

    def class_events(self) -> np.ndarray:
        return self.encoder.class_events(self.history.shape[0])
