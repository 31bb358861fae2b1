"""Extending event sequences: temperature sampling and Magenta's beam search, over any stepper.

All variations, beams and branches of a request run as rows of one batch, so N
variations cost about as much as one on a GPU and far less than N on a CPU. The beam
search follows magenta.common.beam_search: the beam starts as copies of the primer, each
iteration branches every entry `branch_factor` times, samples `steps_per_iteration`
steps, and keeps the `beam_size` most likely entries; the first iteration takes the
remainder steps so the total comes out exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bridge.models.events_rnn.encoding import EventEncoder
from bridge.models.events_rnn.steppers import Stepper
from bridge.models.events_rnn.texture import TextureRule, TextureState


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


@dataclass(frozen=True)
class Extension:
    """One request within a batch: how many variations, how to sample, what is allowed.

    `allowed_events` is a boolean mask over the family's events (index: event + the
    encoder's `event_offset`); classes that would produce a disallowed event get zero
    probability. None: every event is allowed. `texture` adds density and polyphony, which
    depend on what each row has drawn (see texture.py).
    """

    variations: int
    options: SamplingOptions
    allowed_events: np.ndarray | None = None
    texture: TextureRule | None = None


def extend_melodies(
    stepper: Stepper,
    encoder: EventEncoder,
    primer: np.ndarray,
    num_steps: int,
    variations: int,
    options: SamplingOptions,
    allowed_events: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Continue one encoded-range primer by `num_steps` events, `variations` times.

    Returns [variations, len(primer) + num_steps] event arrays (see `extend_batch`).
    """
    extension = Extension(variations, options, allowed_events)
    return extend_batch(
        stepper, encoder, np.asarray(primer)[None, :], num_steps, [extension], progress
    )[0]


def extend_batch(
    stepper: Stepper,
    encoder: EventEncoder,
    primers: np.ndarray,
    num_steps: int,
    extensions: Sequence[Extension],
    progress: Callable[[int, int], None] | None = None,
) -> list[np.ndarray]:
    """Continue several equal-length primers [requests, steps] in one batch of rows.

    Requests may differ in variations, temperature, seed and constraints, but share the
    beam search settings. Each request draws from its own seeded generator, in the same
    order as it would alone, so batching does not change a seeded result (up to float
    rounding in the network). `progress(done, total)` is called after every step; an
    exception it raises (a cancel, a timeout) stops the generation. Returns one
    [variations, steps + num_steps] array per request.
    """
    first = _shared_beam_settings(extensions)
    rngs = [np.random.default_rng(e.options.seed) for e in extensions]
    temperatures = np.array([e.options.temperature for e in extensions])
    masks, offset = _event_masks(extensions), encoder.event_offset
    beam, branch = first.beam_size, first.branch_factor
    groups = sum(e.variations for e in extensions)

    state = encoder.start(np.asarray(primers), capacity=primers.shape[1] + num_steps)
    logits, rnn_state = stepper.run(state.all_inputs)
    owner = np.arange(len(extensions))  # which request each row belongs to
    texture = _texture_state(extensions, np.asarray(primers), offset)

    def keep(rows: np.ndarray) -> None:
        nonlocal rnn_state, logits, scores, owner
        state.select(rows)
        if texture is not None:
            texture.select(rows)
        rnn_state, logits = stepper.select(rnn_state, rows), logits[rows]
        scores, owner = scores[rows], owner[rows]

    scores = np.zeros(len(extensions))
    keep(np.repeat(np.arange(len(extensions)), [e.variations * beam for e in extensions]))
    done = 0
    for index, iteration_steps in enumerate(_iterations(num_steps, first.steps_per_iteration)):
        if index > 0 and beam * branch > 1:
            keep(_best_rows(scores, groups, beam))
        if branch > 1:
            keep(np.repeat(np.arange(len(scores)), branch))
        for _ in range(iteration_steps):
            class_events = state.class_events()
            allowed = (
                np.ones(class_events.shape, dtype=bool)
                if masks is None
                else np.take_along_axis(masks[owner], class_events + offset, axis=1)
            )
            if texture is not None:
                allowed = texture.allowed(class_events, allowed)
            draws = np.concatenate(
                [rng.random(np.count_nonzero(owner == i)) for i, rng in enumerate(rngs)]
            )
            chosen, log_probs = _sample(logits / temperatures[owner, None], allowed, draws)
            scores = scores + log_probs
            events = class_events[np.arange(len(chosen)), chosen]
            inputs = state.advance(events)
            if texture is not None:
                texture.advance(events)
            done += 1
            if progress is not None:
                progress(done, num_steps)
            if done < num_steps:
                logits, rnn_state = stepper.step(inputs, rnn_state)
    best = _best_rows(scores, groups, 1)
    melodies, rows_owner = state.melodies()[best], owner[best]
    return [melodies[rows_owner == i] for i in range(len(extensions))]


def _shared_beam_settings(extensions: Sequence[Extension]) -> SamplingOptions:
    """The first request's options, once every request is known to share its beam search
    settings: rows of one beam search cannot branch or prune on different schedules."""
    first = extensions[0].options
    if any(
        (e.options.beam_size, e.options.branch_factor, e.options.steps_per_iteration)
        != (first.beam_size, first.branch_factor, first.steps_per_iteration)
        for e in extensions
    ):
        raise ValueError("requests batched together must share their beam search settings")
    return first


def _event_masks(extensions: Sequence[Extension]) -> np.ndarray | None:
    """Allowed events per request [requests, events] (all allowed where a request has no
    constraint), or None when no request constrains: the loop then skips masking."""
    given = [e.allowed_events for e in extensions if e.allowed_events is not None]
    if not given:
        return None
    masks = np.ones((len(extensions), len(given[0])), dtype=bool)
    for mask, extension in zip(masks, extensions, strict=True):
        if extension.allowed_events is not None:
            mask[:] = extension.allowed_events
    return masks


def _texture_state(
    extensions: Sequence[Extension], primers: np.ndarray, offset: int
) -> TextureState | None:
    """Each request's texture counters, one row per request, with its primer counted; None
    when no request asks for one."""
    if all(e.texture is None for e in extensions):
        return None
    texture = TextureState([e.texture for e in extensions], offset)
    texture.replay(primers)
    return texture


def _iterations(num_steps: int, steps_per_iteration: int) -> list[int]:
    """Steps per beam search iteration: the first takes the remainder, as Magenta's does, so
    the total is exactly `num_steps`."""
    if num_steps <= 0:
        return []
    first_steps = (num_steps - 1) % steps_per_iteration + 1
    return [first_steps] + [steps_per_iteration] * (
        (num_steps - first_steps) // steps_per_iteration
    )


def _sample(
    logits: np.ndarray, allowed: np.ndarray, draws: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One class per row from softmax(logits), and its log-probability.

    Classes not `allowed` [rows, classes] get probability zero. Drawing is by inverse CDF
    on one uniform number per row (`draws`), so a seed fixes the result on any device.
    """
    logits = np.where(allowed, logits.astype(np.float64), -np.inf)
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    cumulative = weights.cumsum(axis=1)
    total = cumulative[:, -1]
    draws = draws * total
    chosen = np.minimum((cumulative <= draws[:, None]).sum(axis=1), weights.shape[1] - 1)
    return chosen, np.log(weights[np.arange(len(chosen)), chosen] / total)


def _best_rows(scores: np.ndarray, groups: int, keep: int) -> np.ndarray:
    """Indices of the `keep` highest-scoring rows within each variation's group of rows."""
    per_group = scores.reshape(groups, -1)
    top = np.argsort(-per_group, axis=1, kind="stable")[:, :keep]
    return (top + np.arange(groups)[:, None] * per_group.shape[1]).reshape(-1)
