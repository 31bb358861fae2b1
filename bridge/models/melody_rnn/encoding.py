"""Magenta's melody event encodings, computed for a whole batch at a time.

Three encoder-decoders exist in Magenta (note_seq): a plain one-hot encoding
(basic_rnn), the lookback encoding (lookback_rnn) and the key-melody encoding
(attention_rnn). Their inputs and labels are reproduced exactly, but instead of
re-reading the whole history at every step as note_seq does, each encoder keeps a
small running state per row so that generation costs O(1) per step.

Melody events: NO_EVENT (-2) holds the previous state, NOTE_OFF (-1) ends a note,
and 0-127 starts a note of that pitch.
"""

from __future__ import annotations

import numpy as np

from bridge.models.events_rnn.encoding import EventHistory
from bridge.models.events_rnn.texture import EventEffects
from bridge.models.melody_rnn.config import STEPS_PER_BAR, MelodyRnnConfig

NO_EVENT = -2
NOTE_OFF = -1
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
# KEY_MEMBERSHIP[pitch_class, key] = 1 where the major key contains the pitch class.
KEY_MEMBERSHIP = np.array(
    [[1.0 if (pc - key) % 12 in MAJOR_SCALE else 0.0 for key in range(12)] for pc in range(12)]
)


class MelodyEncoder:
    """Turns melody event histories into network inputs, and network classes into events."""

    event_offset = 2  # melody events run from -2 (no event) and -1 (note off) to 127

    def __init__(self, config: MelodyRnnConfig):
        self.config = config
        self.lookbacks = np.asarray(config.lookback_distances, dtype=np.int64)
        self._direct_events = self.direct_events()
        bits = config.binary_counter_bits
        # Row n: the binary counter inputs (+1/-1 per bit) for metric position n.
        self.counters = np.array(
            [[1.0 if (n >> i) & 1 else -1.0 for i in range(bits)] for n in range(2**bits)]
        )

    @staticmethod
    def effects(holding: bool = False) -> EventEffects:
        """Each event is one step; a pitch starts a note there, and when the primer ends
        `holding` a note, NO_EVENT carries it on (texture.py)."""
        notes = np.r_[0, 0, np.ones(128)]
        carries = np.zeros(130)
        carries[NO_EVENT + 2] = holding
        return EventEffects.of(notes, notes, np.ones(130), carries)

    # -- sizes -----------------------------------------------------------------
    @property
    def num_direct_classes(self) -> int:
        """Classes that name an event directly (no lookback repeat)."""
        return self.config.note_range + 2

    @property
    def num_classes(self) -> int:
        if self.config.encoding == "one_hot":
            return self.num_direct_classes
        return self.num_direct_classes + len(self.lookbacks)

    @property
    def input_size(self) -> int:
        cfg, n_lookback = self.config, len(self.lookbacks)
        if cfg.encoding == "one_hot":
            return self.num_direct_classes
        if cfg.encoding == "lookback":
            return self.num_direct_classes * (1 + n_lookback) + cfg.binary_counter_bits + n_lookback
        return cfg.note_range + 2 + 1 + 1 + n_lookback + cfg.binary_counter_bits + 1 + 12 + 12

    # -- direct event <-> class ------------------------------------------------
    def direct_class(self, events: np.ndarray) -> np.ndarray:
        """The class that names each event directly (Magenta's one-hot index)."""
        events = np.asarray(events, dtype=np.int64)
        rel = events - self.config.min_note
        if self.config.encoding == "key_melody":
            return np.where(events >= 0, rel, self.config.note_range + (events == NOTE_OFF))
        return np.where(events >= 0, rel + 2, events + 2)

    def direct_events(self) -> np.ndarray:
        """The event each direct class stands for, indexed by class."""
        pitches = np.arange(self.config.min_note, self.config.max_note)
        if self.config.encoding == "key_melody":
            return np.concatenate([pitches, [NO_EVENT, NOTE_OFF]])
        return np.concatenate([[NO_EVENT, NOTE_OFF], pitches])

    # -- decoding --------------------------------------------------------------
    def class_events(self, history: np.ndarray, length: int) -> np.ndarray:
        """For each row, the event every class would append: shape [rows, num_classes].

        Lookback classes repeat the event one or two bars back, or give NO_EVENT when the
        melody is not that long yet, as Magenta's class_index_to_event does.
        """
        direct = self._direct_events
        out = np.empty((history.shape[0], self.num_classes), dtype=np.int64)
        out[:, : len(direct)] = direct
        if self.config.encoding != "one_hot":
            for i, d in enumerate(self.lookbacks, start=len(direct)):
                out[:, i] = history[:, length - d] if length >= d else NO_EVENT
        return out

    # -- training labels -------------------------------------------------------
    def labels(self, events: np.ndarray) -> np.ndarray:
        """Magenta's label for every position of one melody (events_to_label)."""
        events = np.asarray(events, dtype=np.int64)
        labels = self.direct_class(events)
        if self.config.encoding == "one_hot":
            return labels
        positions = np.arange(len(events))
        base = self.num_direct_classes
        for i in range(len(self.lookbacks) - 1, -1, -1):
            d = self.lookbacks[i]
            back = np.where(positions >= d, np.roll(events, d), np.iinfo(np.int64).min)
            repeat = (events == back) & (labels < base)
            labels = np.where(repeat, base + i, labels)
        # Magenta quirk: early silence is labelled as the longest lookback repeat.
        early_silence = (positions < self.lookbacks[-1]) & (events == NO_EVENT)
        return np.where(early_silence, base + len(self.lookbacks) - 1, labels)

    def encode(self, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training pairs as Magenta makes them: inputs at 0..T-2 predict labels at 1..T-1."""
        inputs = self.start(np.asarray(events)[None, :]).all_inputs[0]
        return inputs[:-1], self.labels(events)[1:]

    def scored_class_events(self, events: np.ndarray) -> np.ndarray:
        """[T-1, classes]: the event each class predicts at every position `encode` labels.

        Lookback classes repeat the event one or two bars before the predicted position, so
        the probability of an event is the sum over every class that would produce it.
        """
        events = np.asarray(events, dtype=np.int64)
        length = len(events) - 1
        direct = np.broadcast_to(self._direct_events, (length, self.num_direct_classes))
        if self.config.encoding == "one_hot":
            return direct
        history_len = np.arange(1, length + 1)  # events seen when predicting position p + 1
        repeats = []
        for d in self.lookbacks:
            source = history_len - d
            repeats.append(np.where(source >= 0, events[np.maximum(source, 0)], NO_EVENT))
        return np.concatenate([direct, np.stack(repeats, axis=1)], axis=1)

    def start(self, primers: np.ndarray, capacity: int | None = None) -> EncoderState:
        """Begin encoding a batch of equal-length primers (rows x steps)."""
        return EncoderState(self, primers, capacity)


class EncoderState(EventHistory):
    """Histories and running features for a batch of melodies being extended."""

    def __init__(self, encoder: MelodyEncoder, primers: np.ndarray, capacity: int | None):
        super().__init__(primers, capacity)
        primers = np.asarray(primers, dtype=np.int64)
        rows, length = primers.shape
        self.encoder = encoder
        # Running key-melody features (unused by the other encodings).
        self.current_note = np.full(rows, -1, dtype=np.int64)
        self.is_attack = np.zeros(rows, dtype=bool)
        self.ascending = np.zeros(rows)
        self.last_notes = [[] for _ in range(rows)]
        self.note_histogram = np.zeros((rows, 12))
        self.key_flags = np.ones((rows, 24))  # total and recent key estimates; all tie at first
        steps = [self._append(primers[:, t]) for t in range(length)]
        self.all_inputs = np.stack(steps, axis=1).astype(np.float32)

    @property
    def rows(self) -> int:
        return self.history.shape[0]

    def advance(self, events: np.ndarray) -> np.ndarray:
        """Append one event per row; return the inputs for that new position [rows, inputs]."""
        return self._append(np.asarray(events, dtype=np.int64)).astype(np.float32)

    def select(self, rows: np.ndarray) -> None:
        """Keep (and duplicate) the given rows, as beam search reorders its branches."""
        super().select(rows)
        self.current_note = self.current_note[rows]
        self.is_attack = self.is_attack[rows]
        self.ascending = self.ascending[rows]
        self.last_notes = [list(self.last_notes[r]) for r in rows]
        self.note_histogram = self.note_histogram[rows]
        self.key_flags = self.key_flags[rows]

    def class_events(self) -> np.ndarray:
        return self.encoder.class_events(self.history, self.length)

    # -- internals ---------------------------------------------------------------
    def _append(self, events: np.ndarray) -> np.ndarray:
        self.record(events)
        kind = self.encoder.config.encoding
        if kind == "one_hot":
            return self._one_hot(events)
        if kind == "lookback":
            return self._lookback_inputs(events)
        return self._key_melody_inputs(events)

    def _one_hot(self, events: np.ndarray) -> np.ndarray:
        out = np.zeros((len(events), self.encoder.num_direct_classes))
        out[np.arange(len(events)), self.encoder.direct_class(events)] = 1.0
        return out

    def _binary_counter(self) -> np.ndarray:
        """Counter bits for the metric position of the *next* event."""
        return self.encoder.counters[self.length % len(self.encoder.counters)]

    def _repeat_flags(self, events: np.ndarray) -> np.ndarray:
        position = self.length - 1
        flags = [
            (self.history[:, position - d] == events) if position >= d else np.zeros(len(events))
            for d in self.encoder.lookbacks
        ]
        return np.stack(flags, axis=1).astype(float)

    def _lookback_inputs(self, events: np.ndarray) -> np.ndarray:
        position, rows = self.length - 1, len(events)
        parts = [self._one_hot(events)]
        for d in self.encoder.lookbacks:
            back = position - d + 1
            ahead = self.history[:, back] if back >= 0 else np.full(rows, NO_EVENT)
            parts.append(self._one_hot(ahead))
        counter = np.tile(self._binary_counter(), (rows, 1))
        return np.concatenate([*parts, counter, self._repeat_flags(events)], axis=1)

    def _key_melody_inputs(self, events: np.ndarray) -> np.ndarray:
        cfg, rows, n_lookback = self.encoder.config, len(events), len(self.encoder.lookbacks)
        self._update_key_melody_state(events)
        out = np.zeros((rows, self.encoder.input_size))
        playing = self.current_note > 0  # Magenta tests the pitch for truth
        row_index = np.arange(rows)
        out[row_index, np.where(playing, self.current_note - cfg.min_note, cfg.note_range + 1)] = 1
        out[:, cfg.note_range] = playing
        at = cfg.note_range + 2
        out[:, at] = self.is_attack
        out[:, at + 1] = self.ascending
        at += 2
        out[:, at : at + n_lookback] = self._repeat_flags(events)
        at += n_lookback
        out[:, at : at + cfg.binary_counter_bits] = self._binary_counter()
        at += cfg.binary_counter_bits
        out[:, at] = 1.0 if self.length % STEPS_PER_BAR == 0 else 0.0
        out[:, at + 1 :] = self.key_flags
        return out

    def _update_key_melody_state(self, events: np.ndarray) -> None:
        self.is_attack[events == NO_EVENT] = False
        self.current_note[events == NOTE_OFF] = -1
        for row in np.flatnonzero(events >= 0):
            note = int(events[row])
            self.is_attack[row] = True
            self.current_note[row] = note
            notes = self.last_notes[row]
            if notes and note != notes[-1]:
                self.ascending[row] = 1.0 if note > notes[-1] else -1.0
            if note in notes:
                notes.remove(note)
            notes.append(note)
            del notes[:-3]
            self.note_histogram[row, note % 12] += 1
            # Key estimates only change on a note-on, so they are recomputed only then.
            recent = np.zeros(12)
            for recent_note in notes:
                recent[recent_note % 12] += 1
            self.key_flags[row, :12] = _argmax_flags(self.note_histogram[row] @ KEY_MEMBERSHIP)
            self.key_flags[row, 12:] = _argmax_flags(recent @ KEY_MEMBERSHIP)


def _argmax_flags(histogram: np.ndarray) -> np.ndarray:
    """1.0 for every key tied at the maximum, as Magenta marks them."""
    return (histogram == histogram.max()).astype(float)
