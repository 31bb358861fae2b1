"""Extending melodies with a MelodyRNN: temperature sampling and Magenta's beam search.

All variations, beams and branches of a request run as rows of one batch, so N
variations cost about as much as one on a GPU and far less than N on a CPU. The beam
search follows magenta.common.beam_search: the beam starts as copies of the primer, each
iteration branches every entry `branch_factor` times, samples `steps_per_iteration`
steps, and keeps the `beam_size` most likely entries; the first iteration takes the
remainder steps so the total comes out exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from bridge.models.melody_rnn.encoding import MelodyEncoder
from bridge.models.melody_rnn.network import MelodyRnnNetwork


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


@torch.inference_mode()
def extend_melodies(
    network: MelodyRnnNetwork,
    encoder: MelodyEncoder,
    primer: np.ndarray,
    num_steps: int,
    variations: int,
    options: SamplingOptions,
    allowed_events: np.ndarray | None = None,
) -> np.ndarray:
    """Continue one encoded-range primer by `num_steps` events, `variations` times.

    `allowed_events` is a boolean mask over events -2..127 (index = event + 2); classes
    that would produce a disallowed event get zero probability. Returns
    [variations, len(primer) + num_steps] event arrays.
    """
    device = network.output.weight.device
    generator = torch.Generator(device=device)
    generator.manual_seed(options.seed if options.seed is not None else torch.seed())
    beam = options.beam_size
    branch = options.branch_factor

    state = encoder.start(np.asarray(primer)[None, :], capacity=len(primer) + num_steps)
    logits, rnn_state = network(torch.from_numpy(state.all_inputs).to(device))
    if num_steps <= 0:
        return state.melodies().repeat(variations, axis=0)
    rows = np.zeros(variations * beam, dtype=np.int64)
    state.select(rows)
    rnn_state = rnn_state.select(torch.from_numpy(rows).to(device))
    logits = logits[:, -1][torch.from_numpy(rows).to(device)]
    scores = torch.zeros(len(rows), device=device, dtype=torch.float64)

    first = (num_steps - 1) % options.steps_per_iteration + 1
    iterations = [first] + [options.steps_per_iteration] * (
        (num_steps - first) // options.steps_per_iteration
    )
    steps_left = num_steps
    for index, iteration_steps in enumerate(iterations):
        if index > 0 and beam * branch > 1:
            keep = _best_rows(scores, variations, beam)
            state.select(keep.cpu().numpy())
            rnn_state, logits, scores = rnn_state.select(keep), logits[keep], scores[keep]
        if branch > 1:
            rows_t = torch.arange(len(scores), device=device).repeat_interleave(branch)
            state.select(rows_t.cpu().numpy())
            rnn_state, logits, scores = rnn_state.select(rows_t), logits[rows_t], scores[rows_t]
        for _ in range(iteration_steps):
            class_events = state.class_events()
            step_logits = logits / options.temperature
            if allowed_events is not None:
                allowed = torch.from_numpy(allowed_events[class_events + 2]).to(device)
                step_logits = step_logits.masked_fill(~allowed, float("-inf"))
            log_probs = torch.log_softmax(step_logits, dim=-1)
            choice = torch.multinomial(log_probs.exp(), 1, generator=generator)
            scores += log_probs.gather(1, choice)[:, 0].double()
            chosen = choice[:, 0].cpu().numpy()
            inputs = state.advance(class_events[np.arange(len(chosen)), chosen])
            steps_left -= 1
            if steps_left:
                logits, rnn_state = network.step(torch.from_numpy(inputs).to(device), rnn_state)
    best = _best_rows(scores, variations, 1).cpu().numpy()
    return state.melodies()[best]


def _best_rows(scores: torch.Tensor, groups: int, keep: int) -> torch.Tensor:
    """Indices of the `keep` highest-scoring rows within each variation's group of rows."""
    per_group = scores.view(groups, -1)
    top = per_group.topk(keep, dim=1).indices
    offsets = torch.arange(groups, device=scores.device)[:, None] * per_group.shape[1]
    return (top + offsets).reshape(-1)
