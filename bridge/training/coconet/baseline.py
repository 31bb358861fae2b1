"""Baselines for Coconet's held-out NLL: each voice alone, as a unigram or a Markov chain.

Both are fitted on the training chorales, per voice, over 47 states (the 46 pitches of
36-81 and a rest), with add-one smoothing (the chain's transitions are smoothed towards the
unigram with the weight of one count). They ignore the other voices, so the gap to
Coconet is what hearing the harmony is worth.

- `order=0`: the voice's pitch frequencies, whatever the context.
- `order=1`: a first-order Markov chain (a bigram over 16ths), conditioned exactly on what
  the mask leaves of the same voice: for a masked step, the nearest known step before it
  (a steps away) and after it (b steps away) give p(x) proportional to
  T^a[before, x] * T^b[x, after]; a side with nothing known contributes the unigram (before)
  or nothing (after). Held notes make this strong: a 16th mostly repeats its neighbour.

Predictions are renormalised over the 46 pitches: a rest has no pitch to predict, and
scores no loss for any model (magenta's convention).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bridge.models.coconet.config import JSB_MIN_PITCH, JSB_VOICES
from bridge.training.coconet.batches import Batch

PITCHES = 46
REST = PITCHES  # the state index of a rest
STATES = PITCHES + 1


@dataclass(frozen=True)
class VoiceMarkov:
    """Per-voice unigrams [voice, state] and transitions [voice, state, state]."""

    order: int
    unigram: np.ndarray
    transitions: np.ndarray

    @classmethod
    def fit(cls, pieces: tuple[np.ndarray, ...], order: int) -> VoiceMarkov:
        if order not in (0, 1):
            raise ValueError(f"order {order}: the baselines are of order 0 and 1")
        counts = np.zeros((JSB_VOICES, STATES))
        pairs = np.zeros((JSB_VOICES, STATES, STATES))
        for piece in pieces:
            states = _states(piece)
            for voice in range(JSB_VOICES):
                np.add.at(counts[voice], states[:, voice], 1)
                np.add.at(pairs[voice], (states[:-1, voice], states[1:, voice]), 1)
        unigram = (counts + 1) / (counts + 1).sum(axis=1, keepdims=True)
        transitions = (pairs + unigram[:, None, :]) / (pairs.sum(axis=2, keepdims=True) + 1)
        return cls(order, unigram, transitions)

    def __call__(self, batch: Batch) -> np.ndarray:
        """Log-probabilities over pitch [batch, time, pitch, voice] for every position."""
        rows, steps, _, voices = batch.rolls.shape
        out = np.empty((rows, steps, PITCHES, voices))
        powers = self._powers(steps) if self.order == 1 else None
        for row in range(rows):
            states = _roll_states(batch.rolls[row])
            known = (batch.masks[row, :, 0, :] == 0) & (np.arange(steps) < batch.lengths[row])[
                :, None
            ]
            for voice in range(voices):
                if powers is None:
                    probs = np.broadcast_to(self.unigram[voice], (steps, STATES))
                else:
                    probs = self._chain(powers[voice], voice, states[:, voice], known[:, voice])
                pitched = probs[:, :PITCHES]
                out[row, :, :, voice] = np.log(pitched / pitched.sum(axis=1, keepdims=True))
        return out

    def sample(self, steps: int, rng: np.random.Generator) -> np.ndarray:
        """[steps, voice] pitches (NaN: rest), each voice drawn alone: from its unigram at
        every step (order 0), or along its chain from a unigram draw (order 1)."""
        states = np.empty((steps, JSB_VOICES), int)
        for voice in range(JSB_VOICES):
            state = rng.choice(STATES, p=self.unigram[voice])
            for step in range(steps):
                states[step, voice] = state
                row = self.transitions[voice, state] if self.order else self.unigram[voice]
                state = rng.choice(STATES, p=row)
        return np.where(states == REST, np.nan, states + JSB_MIN_PITCH).astype(np.float32)

    def _powers(self, steps: int) -> np.ndarray:
        """T^k for k = 0..steps, per voice: [voice, k, state, state]."""
        powers = np.empty((JSB_VOICES, steps + 1, STATES, STATES))
        for voice in range(JSB_VOICES):
            powers[voice, 0] = np.eye(STATES)
            for k in range(1, steps + 1):
                powers[voice, k] = powers[voice, k - 1] @ self.transitions[voice]
        return powers

    def _chain(
        self, powers: np.ndarray, voice: int, states: np.ndarray, known: np.ndarray
    ) -> np.ndarray:
        """p(x_t | nearest known before, nearest known after) for every step t."""
        steps = len(states)
        index = np.arange(steps)
        before = np.maximum.accumulate(np.where(known, index, -1))
        before = np.concatenate([[-1], before[:-1]])  # strictly before t
        after = np.minimum.accumulate(np.where(known, index, steps)[::-1])[::-1]
        after = np.concatenate([after[1:], [steps]])  # strictly after t
        left = np.where(
            (before >= 0)[:, None],
            powers[index - before, states[np.maximum(before, 0)]],
            self.unigram[voice],
        )
        right = np.where(
            (after < steps)[:, None],
            powers[after - index, :, states[np.minimum(after, steps - 1)]],
            1.0,
        )
        joint = left * right
        return joint / joint.sum(axis=1, keepdims=True)


def _states(piece: np.ndarray) -> np.ndarray:
    """[time, voice] pitches -> states (pitch - 36, or REST)."""
    return np.where(np.isnan(piece), REST, np.nan_to_num(piece) - JSB_MIN_PITCH).astype(int)


def _roll_states(roll: np.ndarray) -> np.ndarray:
    """[time, pitch, voice] roll -> [time, voice] states."""
    return np.where(roll.sum(axis=1) > 0, roll.argmax(axis=1), REST)
