"""An n-gram baseline over any family's events, for the held-out numbers on model cards.

Interpolated Kneser-Ney smoothing (Chen & Goodman 1999, one absolute discount per
order, D = n1 / (n1 + 2 n2)), bottoming out in the uniform distribution, so every
event has a probability and each distribution sums to 1.  Contexts are padded on the
left with a start symbol, so the first predictions know they open a melody.

It scores the positions an events RNN scores (every event from the second on, given
those before) over a ``Vocabulary`` of events: for melodies the one of Magenta's
``MelodyOneHotEncoding`` (no event, note off, then ``min_note`` .. ``max_note - 1``), for
the one-hot families (drums, polyphony, performance) their classes, so its NLL and
accuracy sit beside the network's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NO_EVENT = -2  # Magenta's MELODY_NO_EVENT
NOTE_OFF = -1  # Magenta's MELODY_NOTE_OFF


@dataclass(frozen=True)
class Vocabulary:
    """The events an n-gram model predicts, in distribution order.

    The first is the family's default event (Magenta's no-event label: a melody's
    no-event, a drum track's empty step), which ``evaluate`` splits accuracy on.
    """

    events: tuple[int, ...]
    description: str  # for errors: what the events may be

    def __post_init__(self) -> None:
        if len(set(self.events)) != len(self.events) or not self.events:
            raise ValueError("a vocabulary needs at least one event, each listed once")

    def __len__(self) -> int:
        return len(self.events)

    def indices(self, events: np.ndarray) -> np.ndarray:
        """Events -> their positions in the vocabulary."""
        events = np.asarray(events, dtype=np.int64)
        order = np.argsort(self.events)
        ordered = np.asarray(self.events, dtype=np.int64)[order]
        at = np.minimum(np.searchsorted(ordered, events), len(ordered) - 1)
        if np.any(ordered[at] != events):
            raise ValueError(f"events must be {self.description}")
        return order[at]


def melody_vocabulary(min_note: int = 48, max_note: int = 84) -> Vocabulary:
    """MelodyOneHotEncoding's events: no event, note off, then each pitch of the range."""
    return Vocabulary(
        (NO_EVENT, NOTE_OFF, *range(min_note, max_note)),
        f"-2, -1 or pitches in [{min_note}, {max_note})",
    )


def class_vocabulary(num_classes: int, default: int = 0) -> Vocabulary:
    """The events of a one-hot family, stored as their class, its default event first
    (Magenta's `default_event`: drums' empty step 0, polyphony's STEP_END)."""
    others = (c for c in range(num_classes) if c != default)
    return Vocabulary((default, *others), f"classes 0-{num_classes - 1}")


@dataclass(frozen=True)
class _Level:
    """Counts for contexts of one length: id -> (event indices, counts) and a discount."""

    table: dict[int, tuple[np.ndarray, np.ndarray]]
    discount: float


class NGramModel:
    """Order-n interpolated Kneser-Ney model over a vocabulary of events."""

    def __init__(self, order: int, vocabulary: Vocabulary, levels: list[_Level]) -> None:
        self.order = order
        self._vocabulary = vocabulary
        self._levels = levels  # index k: contexts of the k most recent events
        self._size = len(vocabulary)
        self._start = self._size  # the padding symbol, never predicted

    @property
    def vocabulary(self) -> np.ndarray:
        """Events in distribution order (for melodies: no event, note off, each pitch)."""
        return np.array(self._vocabulary.events)

    @classmethod
    def fit(
        cls,
        sequences: Sequence[np.ndarray],
        order: int = 3,
        *,
        min_note: int = 48,
        max_note: int = 84,
        vocabulary: Vocabulary | None = None,
    ) -> NGramModel:
        """Count every n-gram ending at position 1 or later of each sequence.

        Without a ``vocabulary`` the sequences are melodies of ``min_note`` .. ``max_note - 1``.
        """
        vocabulary = vocabulary or melody_vocabulary(min_note, max_note)
        size = len(vocabulary)
        # An n-gram is one int64 key: the context in base size + 1, then the event.
        if order < 1 or (size + 1) ** (order - 1) * size >= 2**63:
            raise ValueError(f"order {order} is out of range for {size} events")
        contexts, targets = _windows(sequences, order, vocabulary)
        keys, counts = np.unique(contexts * size + targets, return_counts=True)
        levels = [_level(keys, counts, size)]
        for length in range(order - 2, -1, -1):
            # Kneser-Ney: lower orders count the distinct contexts an n-gram follows.
            shorter = (keys // size) % (size + 1) ** length * size + keys % size
            keys, counts = np.unique(shorter, return_counts=True)
            levels.insert(0, _level(keys, counts, size))
        return cls(order, vocabulary, levels)

    def predict_distribution(self, context: Sequence[int]) -> np.ndarray:
        """Probabilities of each vocabulary event after ``context`` (earlier events)."""
        return self._distribution(self.order - 1, self._context_id(context), {})

    def sample_next(
        self, context: Sequence[int], rng: np.random.Generator, exclude: Sequence[int] = ()
    ) -> int:
        """One event drawn after ``context`` from the predicted distribution, never one of
        ``exclude`` (the rest renormalised): the baseline's generation, so its samples can be
        scored beside a model's."""
        probabilities = self.predict_distribution(context).copy()
        if len(exclude):
            probabilities[self._vocabulary.indices(np.asarray(exclude))] = 0.0
        cumulative = np.cumsum(probabilities)
        index = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
        return self._vocabulary.events[min(index, self._size - 1)]

    def log_prob(self, context: Sequence[int], event: int) -> float:
        """Natural log-probability of ``event`` following ``context``."""
        index = self._vocabulary.indices(np.array([event]))[0]
        return float(np.log(self.predict_distribution(context)[index]))

    def evaluate(self, sequences: Sequence[np.ndarray]) -> dict[str, float]:
        """Mean NLL per predicted event and accuracies, scored like an events RNN.

        ``event_accuracy`` and ``no_event_accuracy`` split accuracy by whether the true
        event is the vocabulary's first (a melody's no-event, a drum track's empty step)
        or another, as Magenta's own eval metrics do.
        """
        contexts, targets = _windows(sequences, self.order, self._vocabulary)
        if len(targets) == 0:
            raise ValueError("no events to predict: every sequence needs at least 2 events")
        unique, inverse = np.unique(contexts, return_inverse=True)
        cache: dict[tuple[int, int], np.ndarray] = {}
        table = np.stack([self._distribution(self.order - 1, int(c), cache) for c in unique])
        log_probs = np.log(table[inverse, targets])
        correct = table.argmax(axis=1)[inverse] == targets
        is_event = targets != 0
        nll = float(-log_probs.mean())
        return {
            "nll_per_step": nll,
            "perplexity": float(np.exp(nll)),
            "accuracy": _mean(correct),
            "event_accuracy": _mean(correct[is_event]),
            "no_event_accuracy": _mean(correct[~is_event]),
            "steps": float(len(targets)),
        }

    def _context_id(self, context: Sequence[int]) -> int:
        history = list(context)[max(0, len(context) - self.order + 1) :]
        recent = self._vocabulary.indices(np.array(history, dtype=np.int64))
        padded = [self._start] * (self.order - 1 - len(recent)) + recent.tolist()
        return sum(symbol * (self._size + 1) ** age for age, symbol in enumerate(reversed(padded)))

    def _distribution(
        self, length: int, context: int, cache: dict[tuple[int, int], np.ndarray]
    ) -> np.ndarray:
        """P(. | the ``length`` most recent symbols of ``context``), memoized in ``cache``."""
        context %= (self._size + 1) ** length
        if (length, context) in cache:
            return cache[length, context]
        if length == 0:
            lower = np.full(self._size, 1.0 / self._size)
        else:
            lower = self._distribution(length - 1, context, cache)
        level = self._levels[length]
        entry = level.table.get(context)
        if entry is None:
            result = lower
        else:
            events, counts = entry
            total = counts.sum()
            result = lower * (level.discount * len(events) / total)
            result[events] += np.maximum(counts - level.discount, 0.0) / total
        cache[length, context] = result
        return result


def _mean(values: np.ndarray) -> float:
    """Mean, or NaN when there is nothing to average (say, no note events)."""
    return float(values.mean()) if len(values) else float("nan")


def _windows(
    sequences: Sequence[np.ndarray], order: int, vocabulary: Vocabulary
) -> tuple[np.ndarray, np.ndarray]:
    """Context ids (most recent symbol lowest) and targets for positions 1.. of each sequence."""
    size = len(vocabulary)
    contexts, targets = [], []
    for sequence in sequences:
        symbols = vocabulary.indices(sequence)
        if len(symbols) < 2:
            continue
        padded = np.concatenate([np.full(order - 1, size), symbols])
        ids = np.zeros(len(symbols) - 1, dtype=np.int64)
        for age in range(order - 1):  # symbol t-1-age has weight base**age
            ids += padded[order - 1 - age : order - 1 - age + len(ids)] * (size + 1) ** age
        contexts.append(ids)
        targets.append(symbols[1:])
    if not targets:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(contexts), np.concatenate(targets)


def _level(keys: np.ndarray, counts: np.ndarray, size: int) -> _Level:
    """Group sorted (context * size + event) keys by context; discount from counts of counts."""
    n1, n2 = np.count_nonzero(counts == 1), np.count_nonzero(counts == 2)
    discount = n1 / (n1 + 2 * n2) if n1 else 0.5
    contexts = keys // size
    starts = np.flatnonzero(np.r_[True, contexts[1:] != contexts[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    table = {
        int(contexts[a]): (keys[a:b] % size, counts[a:b].astype(np.float64))
        for a, b in zip(starts, ends, strict=True)
    }
    return _Level(table, discount)
