"""Coconet's Gibbs sampling (magenta's lib_tfsampling and lib_sampling), in PyTorch.

`coconet_sample` samples in the TensorFlow graph by default (`--tfsample`): one model
evaluation first fills every masked position at once, then `time x voices` Gibbs steps
each redraw a random block of the masked positions (each (step, voice) with probability
`yao_probability`, annealed from 0.9 down to 0.1 over the first 70% of the steps) from the
model's predictions given everything else. That is the default here. lib_sampling's numpy
GibbsSampler, which its strategies use without `--tfsample`, skips the first fill and takes
as many steps as there are masked variables (`initial_fill=False`).

Two departures, both on purpose: the context is kept exactly (lib_tfsampling's first fill
replaces the whole roll with a sample, so the known voices can change; lib_sampling keeps
them, and so does this), and the random numbers come from a seeded generator on the model's
device, one uniform per (row, step, voice) for each mask and each draw, in lib_sampling's
order. `numpy_uniforms` draws them as magenta's numpy sampler does, so a seed gives magenta's
own result (tests/models/coconet/test_coconet_parity.py replays it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

Uniforms = Callable[[tuple[int, ...]], torch.Tensor]  # shape -> uniforms in [0, 1)
Progress = Callable[[int, int], None]  # (model evaluations done, in all)
Logits = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (rolls, masks) -> logits


def torch_uniforms(seed: int | None, device: torch.device) -> Uniforms:
    """Uniforms from a generator on `device`, seeded (None: from the operating system)."""
    try:
        generator = torch.Generator(device=device)
    except RuntimeError:  # a device without generators of its own
        generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)

    def draw(shape: tuple[int, ...]) -> torch.Tensor:
        return torch.rand(shape, generator=generator, device=generator.device).to(device)

    return draw


def numpy_uniforms(seed: int, device: torch.device) -> Uniforms:
    """Uniforms as lib_sampling draws them after `np.random.seed(seed)`: float64 from
    numpy's legacy Mersenne Twister, shaped [batch, time, 1, voice] there."""
    state = np.random.RandomState(seed)

    def draw(shape: tuple[int, ...]) -> torch.Tensor:
        batch, time, voices = shape
        values = state.random_sample((batch, time, 1, voices)).reshape(shape)
        return torch.from_numpy(values).to(device)

    return draw


def yao_probability(step: int, steps: int, low: float = 0.1, high: float = 0.9) -> float:
    """The share of variables redrawn at `step` of `steps`: Yao et al.'s truncated linear
    annealing with alpha 0.7, as lib_sampling.YaoSchedule and lib_tfsampling compute it."""
    alpha = 0.7
    return max(low, high - (high - low) * step / steps / alpha)


def sample_pitches(
    logits: torch.Tensor,
    temperature: float,
    uniforms: Uniforms,
    allowed: torch.Tensor | None = None,
) -> torch.Tensor:
    """One pitch per (row, step, voice) from the softmax of logits / temperature, one-hot
    [batch, time, pitch, voice]; temperature 0 takes the most likely pitch. `allowed`
    ([pitch] booleans) gives every other pitch probability zero (a key lock).

    Inverse-CDF sampling with one uniform each, as lib_util.sample does (weights
    proportional to p ** (1 / temperature), i.e. to the tempered softmax)."""
    batch, time, pitches, voices = logits.shape
    if allowed is not None:
        logits = logits.masked_fill(~allowed[None, None, :, None], -torch.inf)
    if temperature == 0:
        choice = logits.argmax(dim=2)
    else:
        scaled = (logits - logits.amax(dim=2, keepdim=True)) / temperature
        cumulative = torch.exp(scaled).cumsum(dim=2)
        draws = uniforms((batch, time, voices))[:, :, None, :]
        # lib_util.sample's argmax(u * total < cumulative): the first pitch past the draw,
        # which is how many cumulative weights the draw reaches.
        passed = (cumulative <= draws * cumulative[:, :, -1:, :]).sum(dim=2)
        choice = passed.clamp(max=pitches - 1)
    return F.one_hot(choice, pitches).permute(0, 1, 3, 2).to(logits.dtype)


def gibbs(
    logits_of: Logits,
    pianorolls: torch.Tensor,
    masks: torch.Tensor,
    temperature: float,
    uniforms: Uniforms,
    steps: int | None = None,
    initial_fill: bool = True,
    progress: Progress | None = None,
    allowed: torch.Tensor | None = None,
) -> torch.Tensor:
    """Fill the masked positions of [batch, time, pitch, voice] rolls by Gibbs sampling
    (rows are independent samples); positions outside `masks` are kept as they are, and
    sampled ones take only `allowed` pitches if given (`sample_pitches`)."""
    batch, time, _, voices = pianorolls.shape
    outer = masks[:, :, 0, :] > 0
    if steps is None:
        steps = time * voices if initial_fill else int(outer.sum(dim=(1, 2)).max())
    total = steps + int(initial_fill)
    rolls = pianorolls
    if initial_fill:
        samples = sample_pitches(logits_of(rolls, masks), temperature, uniforms, allowed)
        rolls = torch.where(outer[:, :, None, :], samples, rolls)
        if progress is not None:
            progress(1, total)
    for step in range(steps):
        share = yao_probability(step, steps)
        inner = (uniforms((batch, time, voices)) < share) & outer
        blocks = inner[:, :, None, :].expand_as(rolls)
        logits = logits_of(rolls, blocks.to(rolls.dtype))
        samples = sample_pitches(logits, temperature, uniforms, allowed)
        rolls = torch.where(blocks, samples, rolls)
        if progress is not None:
            progress(step + 1 + int(initial_fill), total)
    return rolls
