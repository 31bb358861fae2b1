"""Magenta's drum_kit encoding, computed for a whole batch at a time.

note_seq wraps MultiDrumOneHotEncoding (a step's nine-bit class set is its one-hot index,
512 values) in LookbackEventSequenceEncoderDecoder. Its inputs and labels are reproduced
exactly; as for melodies, a running state per row replaces note_seq's re-reading of the
whole history, so generation costs O(1) per step. The state offers the interface that
`melody_rnn.sampling.extend_batch` drives, so the sampler, network and steppers are shared.

Drum events are step values: bit c set when class c is hit, 0 for an empty step (note_seq's
default event, frozenset()).
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
        self.lookbacks = np.asarray(config.lookback_distances, dtype=np.int64)
        bits = config.binary_counter_bits
        # Row n: the binary counter inputs (+1/-1 per bit) for metric position n.
        self.counters = np.array(
            [[1.0 if (n >> i) & 1 else -1.0 for i in range(bits)] for n in range(2**bits)]
        )

    @property
    def num_classes(self) -> int:
        return NUM_DRUM_EVENTS + len(self.lookbacks)

    @property
    def input_size(self) -> int:
        n_lookback = len(self.lookbacks)
        return NUM_DRUM_EVENTS * (1 + n_lookback) + self.config.binary_counter_bits + n_lookback

    def class_events(self, history: np.ndarray, length: int) -> np.ndarray:
        """For each row, the event every class would append: shape [rows, num_classes].

        Lookback classes repeat the event that far back, or give an empty step when the
        track is not that long yet, as note_seq's class_index_to_event does.
        """
        out = np.empty((history.shape[0], self.num_classes), dtype=np.int64)
        out[:, :NUM_DRUM_EVENTS] = np.arange(NUM_DRUM_EVENTS)
        for i, d in enumerate(self.lookbacks, start=NUM_DRUM_EVENTS):
            out[:, i] = history[:, length - d] if length >= d else EMPTY
        return out

    def labels(self, events: np.ndarray) -> np.ndarray:
        """Magenta's label for every position of one track (events_to_label)."""
        events = np.asarray(events, dtype=np.int64)
        labels = events.copy()
        if not len(self.lookbacks):
            return labels
        positions = np.arange(len(events))
        for i in range(len(self.lookbacks) - 1, -1, -1):
            d = self.lookbacks[i]
            back = np.where(positions >= d, np.roll(events, d), -1)
            repeat = (events == back) & (labels < NUM_DRUM_EVENTS)
            labels = np.where(repeat, NUM_DRUM_EVENTS + i, labels)
        # Magenta quirk: early empty steps are labelled as the longest lookback repeat.
        early_empty = (positions < self.lookbacks[-1]) & (events == EMPTY)
        return np.where(early_empty, NUM_DRUM_EVENTS + len(self.lookbacks) - 1, labels)

    def encode(self, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training pairs as Magenta makes them: inputs at 0..T-2 predict labels at 1..T-1."""
        inputs = self.start(np.asarray(events)[None, :]).all_inputs[0]
        return inputs[:-1], self.labels(events)[1:]

    def start(self, primers: np.ndarray, capacity: int | None = None) -> DrumEncoderState:
        """Begin encoding a batch of equal-length primers (rows x steps)."""
        return DrumEncoderState(self, primers, capacity)


class DrumEncoderState:
    """Histories of a batch of drum tracks being extended, and their latest inputs."""

    def __init__(self, encoder: DrumEncoder, primers: np.ndarray, capacity: int | None):
        primers = np.asarray(primers, dtype=np.int64)
        rows, length = primers.shape
        if length == 0:
            raise ValueError("a drum track needs at least one step to be encoded")
        self.encoder = encoder
        self.history = np.full((rows, max(capacity or 0, length)), EMPTY, dtype=np.int64)
        self.length = 0
        steps = [self._append(primers[:, t]) for t in range(length)]
        self.all_inputs = np.stack(steps, axis=1)

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
        return self.encoder.class_events(self.history, self.length)

    def _append(self, events: np.ndarray) -> np.ndarray:
        if self.length == self.history.shape[1]:
            self.history = np.concatenate([self.history, np.full_like(self.history, EMPTY)], 1)
        position = self.length
        self.history[:, position] = events
        self.length += 1
        encoder, rows = self.encoder, np.arange(len(events))
        out = np.zeros((len(events), encoder.input_size), dtype=np.float32)
        out[rows, events] = 1.0
        offset = NUM_DRUM_EVENTS
        for d in encoder.lookbacks:
            back = position - d + 1
            ahead = self.history[:, back] if back >= 0 else np.full(len(events), EMPTY)
            out[rows, offset + ahead] = 1.0
            offset += NUM_DRUM_EVENTS
        bits = len(encoder.counters[0])
        # The counter gives the metric position of the *next* event.
        out[:, offset : offset + bits] = encoder.counters[self.length % len(encoder.counters)]
        offset += bits
        for i, d in enumerate(encoder.lookbacks):
            if position >= d:
                out[:, offset + i] = self.history[:, position - d] == events
        return out
