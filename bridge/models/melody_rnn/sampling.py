"""Extending melodies with a MelodyRNN: temperature sampling and Magenta's beam search.

All variations, beams and branches of a request run as rows of one batch, so N
variations cost about as much as one on a GPU and far less than N on a CPU. The beam
search follows magenta.common.beam_search: the beam starts as copies of the primer, each
iteration branches every entry `branch_factor` times, samples `steps_per_iteration`
steps, and keeps the `beam_size` most likely entries; the first iteration takes the
remainder steps so the total comes out exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bridge.models.melody_rnn.encoding import MelodyEncoder
from bridge.models.melody_rnn.steppers import Stepper


@dataclass(frozen=True)
class SamplingOptions:
    """How to choose among the model's predictions."""

    temperature: float = 1.0
    beam_size: int = 1
    branch_factor: int = 1
    steps_per_iteration: int = 1
    seed: int | None = None

    def __post_init__(self) -> None:
        if not (self.temperature > 0 and np.isfinite(self.temperature)):
            raise ValueError(f"temperature must be a positive number, got {self.temperature}")
        for name in ("beam_size", "branch_factor", "steps_per_iteration"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")


def extend_melodies(
    stepper: Stepper,
    encoder: MelodyEncoder,
    primer: np.ndarray,
    num_steps: int,
    variations: int,
    options: SamplingOptions,
    allowed_events: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Continue one encoded-range primer by `num_steps` events, `variations` times.

    `allowed_events` is a boolean mask over events -2..127 (index = event + 2); classes
    that would produce a disallowed event get zero probability. Returns
    [variations, len(primer) + num_steps] event arrays. `progress(done, total)` is called
    after every step; an exception it raises (a cancel, a timeout) stops the generation.
    """
    rng = np.random.default_rng(options.seed)
    beam, branch = options.beam_size, options.branch_factor

    state = encoder.start(np.asarray(primer)[None, :], capacity=len(primer) + num_steps)
    logits, rnn_state = stepper.run(state.all_inputs)
    if num_steps <= 0:
        return state.melodies().repeat(variations, axis=0)

    def keep(rows: np.ndarray) -> None:
        nonlocal rnn_state, logits, scores
        state.select(rows)
        rnn_state, logits, scores = stepper.select(rnn_state, rows), logits[rows], scores[rows]

    scores = np.zeros(1)
    keep(np.zeros(variations * beam, dtype=np.int64))
    first = (num_steps - 1) % options.steps_per_iteration + 1
    iterations = [first] + [options.steps_per_iteration] * (
        (num_steps - first) // options.steps_per_iteration
    )
    steps_left = num_steps
    for index, iteration_steps in enumerate(iterations):
        if index > 0 and beam * branch > 1:
            keep(_best_rows(scores, variations, beam))
        if branch > 1:
            keep(np.repeat(np.arange(len(scores)), branch))
        for _ in range(iteration_steps):
            class_events = state.class_events()
            chosen, log_probs = _sample(
                logits / options.temperature, class_events, allowed_events, rng
            )
            scores = scores + log_probs
            inputs = state.advance(class_events[np.arange(len(chosen)), chosen])
            steps_left -= 1
            if progress is not None:
                progress(num_steps - steps_left, num_steps)
            if steps_left:
                logits, rnn_state = stepper.step(inputs, rnn_state)
    return state.melodies()[_best_rows(scores, variations, 1)]


def _sample(
    logits: np.ndarray,
    class_events: np.ndarray,
    allowed_events: np.ndarray | None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """One class per row from softmax(logits), and its log-probability.

    Classes whose event is not allowed get probability zero. Drawing is by inverse CDF on
    one uniform number per row, so a seed fixes the result whatever the device.
    """
    logits = logits.astype(np.float64)
    if allowed_events is not None:
        logits = np.where(allowed_events[class_events + 2], logits, -np.inf)
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    cumulative = weights.cumsum(axis=1)
    total = cumulative[:, -1]
    draws = rng.random(len(weights)) * total
    chosen = np.minimum((cumulative <= draws[:, None]).sum(axis=1), weights.shape[1] - 1)
    return chosen, np.log(weights[np.arange(len(chosen)), chosen] / total)


def _best_rows(scores: np.ndarray, groups: int, keep: int) -> np.ndarray:
    """Indices of the `keep` highest-scoring rows within each variation's group of rows."""
    per_group = scores.reshape(groups, -1)
    top = np.argsort(-per_group, axis=1, kind="stable")[:, :keep]
    return (top + np.arange(groups)[:, None] * per_group.shape[1]).reshape(-1)
