"""Magenta's drum_kit encoding, computed for a whole batch at a time.

note_seq wraps MultiDrumOneHotEncoding (a step's nine-bit class set is its one-hot index,
512 values) in a LookbackEventSequenceEncoderDecoder with no lookbacks: the input is the
one-hot step plus a 6-bit counter of the next step's position, and the label is the step
itself. Lookbacks are not supported: note_seq would compare the steps' raw pitch sets
there, not their classes, so they could not be computed from classes alone; no Magenta
drum config uses them.

As for melodies, a running state per row replaces note_seq's re-reading of the whole
history, so generation costs O(1) per step. The state offers the interface that
`melody_rnn.sampling.extend_batch` drives, so the sampler, network and steppers are shared.
Drum events are step values: bit c set when class c is hit, 0 for an empty step.
"""

from __future__ import annotations

import numpy as np

from bridge.models.drums_rnn.config import DrumsRnnConfig
from bridge.music.drums import NUM_DRUM_EVENTS

EMPTY = 0


class DrumEncoder:
    """Turns drum event histories into network inputs, and network classes into events."""

    def __init__(self, config: DrumsRnnConfig):
        self.config = config
        bits = config.binary_counter_bits
        # Row n: the binary counter inputs (+1/-1 per bit) for metric position n.
        self.counters = np.array(
            [[1.0 if (n >> i) & 1 else -1.0 for i in range(bits)] for n in range(2**bits)],
            dtype=np.float32,
        )

    @property
    def num_classes(self) -> int:
        return NUM_DRUM_EVENTS

    @property
    def input_size(self) -> int:
        return NUM_DRUM_EVENTS + self.config.binary_counter_bits

    def class_events(self, rows: int) -> np.ndarray:
        """The event every class would append, for each row: class c is step value c."""
        return np.broadcast_to(np.arange(NUM_DRUM_EVENTS), (rows, NUM_DRUM_EVENTS))

    def encode(self, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training pairs as Magenta makes them: inputs at 0..T-2 predict labels at 1..T-1."""
        events = np.asarray(events, dtype=np.int64)
        return self.start(events[None, :]).all_inputs[0, :-1], events[1:]

    def start(self, primers: np.ndarray, capacity: int | None = None) -> DrumEncoderState:
        """Begin encoding a batch of equal-length primers (rows x steps)."""
        return DrumEncoderState(self, primers, capacity)


class DrumEncoderState:
    """Histories of a batch of drum tracks being extended, and their inputs."""

    def __init__(self, encoder: DrumEncoder, primers: np.ndarray, capacity: int | None):
        primers = np.asarray(primers, dtype=np.int64)
        rows, length = primers.shape
        if length == 0:
            raise ValueError("a drum track needs at least one step to be encoded")
        self.encoder = encoder
        self.history = np.full((rows, max(capacity or 0, length)), EMPTY, dtype=np.int64)
        self.length = 0
        self.all_inputs = np.stack([self._append(primers[:, t]) for t in range(length)], axis=1)

    def advance(self, events: np.ndarray) -> np.ndarray:
        """Append one event per row; return the inputs for that new position [rows, inputs]."""
        return self._append(np.asarray(events, dtype=np.int64))

    def select(self, rows: np.ndarray) -> None:
        """Keep (and duplicate) the given rows, as beam search reorders its branches."""
        self.history = self.history[rows]

    def melodies(self) -> np.ndarray:
        """The event histories [rows, steps] (the sampler's name for its results)."""
        return self.history[:, : self.length]

    def class_events(self) -> np.ndarray:
        return self.encoder.class_events(self.history.shape[0])

    def _append(self, events: np.ndarray) -> np.ndarray:
        if self.length == self.history.shape[1]:
            self.history = np.concatenate([self.history, np.full_like(self.history, EMPTY)], 1)
        self.history[:, self.length] = events
        self.length += 1
        counters = self.encoder.counters
        out = np.zeros((len(events), self.encoder.input_size), dtype=np.float32)
        out[np.arange(len(events)), events] = 1.0
        # The counter gives the metric position of the *next* event.
        out[:, NUM_DRUM_EVENTS:] = counters[self.length % len(counters)]
        return out
