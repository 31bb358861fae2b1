"""Held-out scores of a MusicVAE: what the model cards report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from bridge.models.catalog import ModelSpec
from bridge.models.music_vae.network import Draws, LstmDecoder, MusicVaeNetwork
from bridge.training.music_vae.corpus import Slices
from bridge.training.music_vae.loss import decoder_outputs, kl_divergence, reconstruction_loss


@torch.inference_mode()
def evaluate_music_vae(
    network: MusicVaeNetwork, data: Slices, batch_size: int = 256
) -> dict[str, float]:
    """Held-out scores: KL of the posterior (bits), reconstruction loss and accuracy under
    teacher forcing from the posterior mean, and the accuracy of a greedy decode of the mean
    (what a user gets back from encode-then-decode). Accuracy is per step for categorical
    decoders and per drum and step (hit or not) for grooves; hits being rare, grooves also
    get the F1 score of the greedy decode's hits, and of its steps with any hit (drumify's
    promise: drums where the rhythm plays)."""
    network.eval()
    decoder = network.decoder
    totals = {"kl_bits": 0.0, "r_loss": 0.0, "accuracy": 0.0, "greedy_accuracy": 0.0}
    counts = np.zeros((2, 3))  # hits, steps with a hit: true positives, false ones, misses
    for inputs, targets in data.batches(batch_size):
        lengths = torch.full((len(inputs),), inputs.shape[1])
        mu, sigma = network.encoder(inputs, lengths)
        logits = decoder_outputs(decoder, mu, targets, 0.0)
        greedy = decoder.sample(mu, targets.shape[1], Draws.single(len(mu), 1e-6, None, mu.device))
        totals["kl_bits"] += float(kl_divergence(mu, sigma).sum()) / math.log(2.0)
        totals["r_loss"] += float(reconstruction_loss(decoder, logits, targets).sum())
        totals["accuracy"] += _accuracy(decoder, logits, targets, from_logits=True) * len(inputs)
        totals["greedy_accuracy"] += _accuracy(decoder, greedy, targets) * len(inputs)
        if decoder.kind == "groove":
            played, wanted = greedy[..., :9] > 0.5, targets[..., :9] > 0.5
            counts[0] += _confusion(played, wanted)
            counts[1] += _confusion(played.any(-1), wanted.any(-1))
    scores = {name: value / len(data) for name, value in totals.items()}
    if decoder.kind == "groove":
        scores["greedy_hit_f1"], scores["greedy_step_f1"] = (_f1(*row) for row in counts)
    return scores


def _confusion(played: Tensor, wanted: Tensor) -> np.ndarray:
    return np.array([(played & wanted).sum(), (played & ~wanted).sum(), (~played & wanted).sum()])


def _f1(true: float, false: float, missed: float) -> float:
    return 2 * true / (2 * true + false + missed) if true else 0.0


def _accuracy(
    decoder: LstmDecoder, outputs: Tensor, targets: Tensor, from_logits: bool = False
) -> float:
    if decoder.kind == "categorical":
        return float((outputs.argmax(-1) == targets.argmax(-1)).float().mean())
    hits = outputs[..., :9] > 0 if from_logits else outputs[..., :9] > 0.5
    return float((hits == (targets[..., :9] > 0.5)).float().mean())


def majority_accuracy(train: Slices, test: Slices) -> float:
    """Accuracy of always answering train's most common class (categorical data): the
    level a decoder that ignores its code and its past would reach."""
    counts = np.bincount(_classes(train), minlength=train.config.output_depth)
    return float(np.mean(_classes(test) == counts.argmax()))


def _classes(data: Slices) -> np.ndarray:
    return np.concatenate(
        [targets.argmax(-1).reshape(-1).numpy() for _, targets in data.batches(1024)]
    )


def held_out_scores(
    spec: ModelSpec, test: Path, train: Path | None, orders: Sequence[int] = ()
) -> dict[str, Any]:
    """A MusicVAE's held-out scores beside the majority class's accuracy (categorical data);
    `orders` are for n-grams, which a MusicVAE is not compared with."""
    from bridge.models.music_vae.model import MusicVae
    from bridge.models.music_vae.network import LstmDecoder
    from bridge.training.music_vae.corpus import read_slices

    model = MusicVae.load(spec.path, spec.config or "", "cpu")
    decoder = model.network.decoder
    windows = read_slices(test, model.config.name)
    results: dict[str, Any] = {"model": str(spec.path), "config": model.config.name}
    results["test_windows"] = len(windows)
    results.update(evaluate_music_vae(model.network, windows))
    if train is not None and isinstance(decoder, LstmDecoder) and decoder.kind == "categorical":
        results["majority_accuracy"] = majority_accuracy(
            read_slices(train, model.config.name), windows
        )
    return results
