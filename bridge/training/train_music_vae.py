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

import json
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from bridge.models.music_vae.config import config_named
from bridge.models.music_vae.native import load_native, save_native
from bridge.models.music_vae.network import LstmDecoder, NetworkSizes, build_network
from bridge.training.music_vae_corpus import Slices
from bridge.training.music_vae_evaluation import evaluate_music_vae
from bridge.training.music_vae_loss import (
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
    if not isinstance(build_network(config, hparams.sizes).decoder, LstmDecoder):
        raise ValueError(f"training {config.name}'s hierarchical decoder is not supported")
    network = build_network(config, hparams.sizes)
    decoder: LstmDecoder = network.decoder  # type: ignore[assignment]
    dropout = 1.0 - hparams.dropout_keep_prob
    network.encoder.input_dropout = decoder.cells.input_dropout = dropout
    optimizer = torch.optim.Adam(
        [p for p in network.parameters() if p.requires_grad], lr=hparams.learning_rate
    )
    checkpoint_path, history_path = out_dir / "checkpoint.pt", out_dir / "history.json"
    step, best, history = 0, math.inf, []
    if checkpoint_path.exists():
        saved = torch.load(checkpoint_path, weights_only=True)
        network.load_state_dict(saved["network"])
        optimizer.load_state_dict(saved["optimizer"])
        step, best = int(saved["step"]), float(saved["best"])
        history = json.loads(history_path.read_text()) if history_path.exists() else []
        print(f"resuming from step {step}")
    rng = np.random.default_rng(options.seed + step)
    free_nats = hparams.free_bits * math.log(2.0)
    started = time.perf_counter()
    progress = tqdm(total=options.steps, initial=step, desc=f"training {config.name}", unit="step")
    while step < options.steps:
        network.train()
        rows = rng.integers(0, len(train), options.batch_size)
        shifts = rng.integers(-options.transpose, options.transpose + 1, len(rows))
        inputs, targets = train.tensors(rows, shifts if options.transpose else None)
        lengths = torch.full((len(rows),), inputs.shape[1])
        mu, sigma = network.encoder(inputs, lengths)
        z = mu + sigma * torch.randn_like(sigma)
        probability = sampling_probability(step, hparams.sampling_rate)
        logits = decoder_outputs(decoder, z, targets, probability)
        r_loss = reconstruction_loss(decoder, logits, targets).mean()
        kl = kl_divergence(mu, sigma)
        beta = hparams.max_beta * (1.0 - hparams.beta_rate**step)
        loss = r_loss + beta * torch.clamp(kl - free_nats, min=0.0).mean()
        rate = (
            hparams.learning_rate - hparams.min_learning_rate
        ) * hparams.decay_rate**step + hparams.min_learning_rate
        for group in optimizer.param_groups:
            group["lr"] = rate
        optimizer.zero_grad()
        loss.backward()
        norm = nn.utils.clip_grad_norm_(network.parameters(), hparams.grad_clip)
        if float(norm) < hparams.grad_norm_clip_to_zero:
            optimizer.step()
        step += 1
        progress.update(1)
        kl_bits = float(kl.detach().mean()) / math.log(2.0)
        progress.set_postfix(r=f"{r_loss.item():.2f}", kl_bits=f"{kl_bits:.1f}", beta=f"{beta:.3f}")
        train_metrics = {"train_r_loss": r_loss.item(), "train_kl_bits": kl_bits, "beta": beta}
        tracker.log_metrics({**train_metrics, "learning_rate": rate}, step)
        if step % options.eval_every == 0 or step == options.steps:
            metrics = evaluate_music_vae(network, valid)
            tracker.log_metrics({f"valid_{k}": v for k, v in metrics.items()}, step)
            held_out_loss = metrics["r_loss"] + metrics["kl_bits"] * math.log(2.0)
            history.append(
                {
                    "step": step,
                    "train_r_loss": r_loss.item(),
                    "train_kl_bits": kl_bits,
                    "beta": beta,
                    "sampling_probability": probability,
                    **metrics,
                    "seconds": time.perf_counter() - started,
                }
            )
            progress.write(
                f"step {step}: valid r_loss {metrics['r_loss']:.3f}, kl {metrics['kl_bits']:.1f} "
                f"bits, accuracy {metrics['accuracy']:.3f}, greedy {metrics['greedy_accuracy']:.3f}"
            )
            if held_out_loss < best:
                best = held_out_loss
                save_native(config, hparams.sizes, network, out_dir / "best", half=False)
            state = {"network": network.state_dict(), "optimizer": optimizer.state_dict()}
            torch.save({**state, "step": step, "best": best}, checkpoint_path)
            history_path.write_text(json.dumps(history, indent=1))
    progress.close()
    summary = {
        "config": config.name,
        "hparams": asdict(hparams),
        "options": asdict(options),
        "steps": step,
        "best_valid_loss": best,
        "train_windows": len(train),
        "valid_windows": len(valid),
        "history": history,
    }
    model = out_dir / "best"
    if export_name:
        _, sizes, best_network = load_native(out_dir / "best.safetensors")
        training = {k: v for k, v in summary.items() if k != "history"}
        model = Path(export_name)
        save_native(config, sizes, best_network, model, extra={"training": training})
    for artifact in (model.with_suffix(".safetensors"), model.with_suffix(".json"), history_path):
        tracker.log_artifact(artifact)
    return summary
