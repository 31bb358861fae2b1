"""Training a MusicVAE natively, as Magenta's music_vae_train does.

The loss is Magenta's: the reconstruction loss summed over a sequence's steps (cross-entropy
for categorical decoders; for the groove decoder, the hits' log loss plus the velocities' and
offsets' squared errors) plus `beta` times the KL divergence from the prior above the free
bits, with `beta = max_beta * (1 - beta_rate ** step)` annealed up. Adam's rate decays
exponentially to a floor, gradients are clipped by global norm (a step whose norm is absurd
is skipped), every LSTM layer's inputs get dropout at the config's keep probability, and
configs with scheduled sampling feed the decoder its own samples with the inverse-sigmoid
probability `1 - k / (k + exp(step / k))`. The hyperparameters are Magenta's per config
(`MAGENTA_HPARAMS`); a short run on a CPU may anneal faster (`beta_rate`), which the model
card then says.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bridge.models.music_vae.config import MusicVaeConfig, config_named
from bridge.models.music_vae.native import load_native, save_native
from bridge.models.music_vae.network import (
    LstmDecoder,
    MusicVaeNetwork,
    NetworkSizes,
    build_network,
)
from bridge.training.loop import Evaluation, Run, StepLog, adam, finish_run, run_training
from bridge.training.music_vae.corpus import Slices
from bridge.training.music_vae.evaluation import evaluate_music_vae
from bridge.training.music_vae.loss import (
    decoder_outputs,
    kl_divergence,
    reconstruction_loss,
    sampling_probability,
)
from bridge.training.tracking import NO_TRACKING, Tracker

SMALL = NetworkSizes(encoder=(512,), decoder=(256, 256), z=256)


@dataclass(frozen=True)
class VaeHparams:
    """A config's training hyperparameters, named as in Magenta's HParams."""

    sizes: NetworkSizes
    free_bits: float = 0.0
    max_beta: float = 1.0
    beta_rate: float = 0.0
    sampling_rate: float = 0.0  # inverse-sigmoid schedule's k; 0: always teacher forcing
    dropout_keep_prob: float = 1.0
    learning_rate: float = 1e-3
    decay_rate: float = 0.9999
    min_learning_rate: float = 1e-5
    grad_clip: float = 1.0
    grad_norm_clip_to_zero: float = 10_000.0


MAGENTA_HPARAMS: dict[str, VaeHparams] = {
    "cat-mel_2bar_small": VaeHparams(SMALL, 0.0, 0.2, 0.99999, 1000.0),
    "cat-drums_2bar_small": VaeHparams(SMALL, 48.0, 0.2, 0.0, 1000.0),
    "groovae_2bar_humanize": VaeHparams(SMALL, 48.0, 0.2, dropout_keep_prob=0.3),
    "groovae_2bar_tap_fixed_velocity": VaeHparams(SMALL, 48.0, 0.2, dropout_keep_prob=0.3),
}


@dataclass(frozen=True)
class VaeTrainingOptions:
    config: str = "cat-mel_2bar_small"
    steps: int = 3000
    batch_size: int = 64
    beta_rate: float | None = None  # None: Magenta's; lower anneals faster (short runs)
    free_bits: float | None = None  # None: Magenta's; more keeps a fast-annealed code in use
    sizes: NetworkSizes | None = None  # None: Magenta's for the config
    transpose: int = 5  # melodies: random transposition within +-this many semitones
    eval_every: int = 250
    seed: int = 0

    def hparams(self) -> VaeHparams:
        if self.config not in MAGENTA_HPARAMS:
            raise ValueError(
                f"training knows the MusicVAE configs {', '.join(MAGENTA_HPARAMS)}, "
                f"not {self.config!r}"
            )
        hparams = MAGENTA_HPARAMS[self.config]
        if self.beta_rate is not None:
            hparams = replace(hparams, beta_rate=self.beta_rate)
        if self.free_bits is not None:
            hparams = replace(hparams, free_bits=self.free_bits)
        return replace(hparams, sizes=self.sizes) if self.sizes else hparams


def train_music_vae(
    train: Slices,
    valid: Slices,
    out_dir: Path,
    options: VaeTrainingOptions = VaeTrainingOptions(),
    export_name: str | None = None,
    tracker: Tracker = NO_TRACKING,
) -> dict[str, Any]:
    """Train from scratch (or resume from `out_dir/checkpoint.pt`), keep the model with the
    best held-out loss, and export it in the native format if `export_name` is given.
    `tracker` gets the training losses every step, the validation scores at each evaluation
    and the exported files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(options.seed)
    config, hparams = config_named(options.config), options.hparams()
    network = _training_network(config, hparams)
    optimizer = adam(network, hparams.learning_rate)
    run = Run.resume(out_dir, network, optimizer)
    rng = np.random.default_rng(options.seed + run.step)
    trainer = _MusicVaeTrainer(config, hparams, network, optimizer, train, valid, options, rng)
    run_training(run, trainer, options.steps, options.eval_every, config.name, tracker)
    summary = {
        "config": config.name,
        "hparams": asdict(hparams),
        "options": asdict(options),
        "steps": run.step,
        "best_valid_loss": run.best,
        "train_windows": len(train),
        "valid_windows": len(valid),
        "history": run.history,
    }
    finish_run(run, trainer, summary, export_name, tracker)
    return summary


def _training_network(config: MusicVaeConfig, hparams: VaeHparams) -> MusicVaeNetwork:
    """A fresh network with dropout on every LSTM layer's inputs at the config's keep
    probability; only flat (LSTM) decoders train. The check builds a network of its own
    before the one returned, as it always has, so a seed gives the same initial weights."""
    if not isinstance(build_network(config, hparams.sizes).decoder, LstmDecoder):
        raise ValueError(f"training {config.name}'s hierarchical decoder is not supported")
    network = build_network(config, hparams.sizes)
    decoder: LstmDecoder = network.decoder  # type: ignore[assignment]
    dropout = 1.0 - hparams.dropout_keep_prob
    network.encoder.input_dropout = decoder.cells.input_dropout = dropout
    return network


@dataclass
class _MusicVaeTrainer:
    """The MusicVAE part of the shared loop: Magenta's step (annealed KL above the free bits,
    scheduled sampling, decayed rate, absurd gradients skipped), its evaluation and exports."""

    config: MusicVaeConfig
    hparams: VaeHparams
    network: MusicVaeNetwork
    optimizer: torch.optim.Optimizer
    train: Slices
    valid: Slices
    options: VaeTrainingOptions
    rng: np.random.Generator

    def train_step(self, step: int) -> StepLog:
        """One step on random windows (melodies randomly transposed)."""
        hparams, options, optimizer = self.hparams, self.options, self.optimizer
        decoder: LstmDecoder = self.network.decoder  # type: ignore[assignment]
        rows = self.rng.integers(0, len(self.train), options.batch_size)
        shifts = self.rng.integers(-options.transpose, options.transpose + 1, len(rows))
        inputs, targets = self.train.tensors(rows, shifts if options.transpose else None)
        lengths = torch.full((len(rows),), inputs.shape[1])
        mu, sigma = self.network.encoder(inputs, lengths)
        z = mu + sigma * torch.randn_like(sigma)
        probability = sampling_probability(step, hparams.sampling_rate)
        logits = decoder_outputs(decoder, z, targets, probability)
        r_loss = reconstruction_loss(decoder, logits, targets).mean()
        kl = kl_divergence(mu, sigma)
        beta = hparams.max_beta * (1.0 - hparams.beta_rate**step)
        free_nats = hparams.free_bits * math.log(2.0)
        loss = r_loss + beta * torch.clamp(kl - free_nats, min=0.0).mean()
        rate = (
            hparams.learning_rate - hparams.min_learning_rate
        ) * hparams.decay_rate**step + hparams.min_learning_rate
        for group in optimizer.param_groups:
            group["lr"] = rate
        optimizer.zero_grad()
        loss.backward()
        norm = nn.utils.clip_grad_norm_(self.network.parameters(), hparams.grad_clip)
        if float(norm) < hparams.grad_norm_clip_to_zero:
            optimizer.step()
        kl_bits = float(kl.detach().mean()) / math.log(2.0)
        train_metrics = {"train_r_loss": r_loss.item(), "train_kl_bits": kl_bits, "beta": beta}
        return StepLog(
            tracked={**train_metrics, "learning_rate": rate},
            history={**train_metrics, "sampling_probability": probability},
            postfix={
                "r": f"{r_loss.item():.2f}",
                "kl_bits": f"{kl_bits:.1f}",
                "beta": f"{beta:.3f}",
            },
        )

    def evaluate(self) -> Evaluation:
        """Held-out scores; the best model has the lowest reconstruction loss plus KL (nats)."""
        metrics = evaluate_music_vae(self.network, self.valid)
        message = (
            f"valid r_loss {metrics['r_loss']:.3f}, kl {metrics['kl_bits']:.1f} "
            f"bits, accuracy {metrics['accuracy']:.3f}, greedy {metrics['greedy_accuracy']:.3f}"
        )
        return Evaluation(metrics, metrics["r_loss"] + metrics["kl_bits"] * math.log(2.0), message)

    def save_best(self, path: Path) -> None:
        """Full precision, so an export or a later fine-tune starts from exact weights."""
        save_native(self.config, self.hparams.sizes, self.network, path, half=False)

    def export(self, best: Path, model: Path, training: dict[str, Any]) -> None:
        """Half precision (the native default): what the daemon loads, at half the size."""
        _, sizes, best_network = load_native(best)
        save_native(self.config, sizes, best_network, model, extra={"training": training})
