"""MusicVAE's training objective, as magenta's base_model and lstm_models define it: the
reconstruction loss summed over a sequence's steps, the KL divergence from the prior, and
the decoder run with scheduled sampling (its own samples fed back with some probability)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from bridge.models.music_vae.network import LstmDecoder


def sampling_probability(step: int, rate: float) -> float:
    """Magenta's inverse-sigmoid schedule: how often the decoder reads its own sample."""
    if rate <= 0:
        return 0.0
    return 1.0 - rate / (rate + math.exp(min(step / rate, 700.0)))


def reconstruction_loss(decoder: LstmDecoder, logits: Tensor, targets: Tensor) -> Tensor:
    """Per sequence, summed over steps."""
    if decoder.kind == "categorical":
        return nn.functional.cross_entropy(
            logits.transpose(1, 2), targets.argmax(-1), reduction="none"
        ).sum(1)
    hits, velocities, offsets = logits.chunk(3, dim=-1)
    true_hits, true_velocities, true_offsets = targets.chunk(3, dim=-1)
    hits_loss = nn.functional.binary_cross_entropy_with_logits(hits, true_hits, reduction="none")
    velocities_loss = (torch.sigmoid(velocities) - true_velocities) ** 2
    offsets_loss = (torch.tanh(offsets) - true_offsets) ** 2
    return (hits_loss + velocities_loss + offsets_loss).sum((1, 2))


def decoder_outputs(decoder: LstmDecoder, z: Tensor, targets: Tensor, probability: float) -> Tensor:
    """Logits for `targets`, each step reading the previous target or, with `probability`
    per sequence and step, the decoder's own sample (scheduled sampling)."""
    shifted = torch.cat([torch.zeros_like(targets[:, :1]), targets[:, :-1]], dim=1)
    if probability == 0.0:
        return decoder.teacher_forced(z, shifted)
    state, previous, outputs = decoder.initial_state(z), shifted[:, 0], []
    for step in range(targets.shape[1]):
        h, state = decoder.cells.step(torch.cat([previous, z], dim=1), state)
        logits = decoder.output(h)
        outputs.append(logits)
        if step + 1 < targets.shape[1]:
            sampled = _sample(decoder, logits.detach())
            use = torch.rand(len(z), 1, device=z.device) < probability
            previous = torch.where(use, sampled, targets[:, step])
    return torch.stack(outputs, dim=1)


def _sample(decoder: LstmDecoder, logits: Tensor) -> Tensor:
    if decoder.kind == "categorical":
        drawn = torch.multinomial(torch.softmax(logits, -1), 1)[:, 0]
        return nn.functional.one_hot(drawn, decoder.output_depth).to(logits.dtype)
    hits, velocities, offsets = logits.chunk(3, dim=-1)
    return torch.cat(
        [torch.bernoulli(torch.sigmoid(hits)), torch.sigmoid(velocities), torch.tanh(offsets)], 1
    )


def kl_divergence(mu: Tensor, sigma: Tensor) -> Tensor:
    """KL(N(mu, sigma) || N(0, 1)) per sequence, in nats."""
    return 0.5 * (mu**2 + sigma**2 - 1.0 - 2.0 * torch.log(sigma)).sum(-1)
