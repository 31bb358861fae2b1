"""Training a Coconet natively, as magenta's coconet_train does.

coconet_train's recipe: crops of `crop_piece_len` steps under orderless masks, the network
fed the masks flipped (`mask_indicates_context`), lib_graph's rescaled loss over every
position (`loss.py`), Adam at lib_hparams' rate (2**-4), weights initialised He-normal and
batch-norm scales at 0.1, batch normalisation from batch moments (`batch_norm.py`), the
population statistics re-estimated from training batches before each validation, and the
rate halved when the validation loss has not improved for `patience` validations. Its
validation is the loss on a fixed-seed pass; here it is the orderless per-note NLL of the
validation windows (`evaluation.py`), which also picks the best network. A cosine decay of
the rate (`final_lr_fraction` < 1) is offered for short runs; magenta keeps it constant.
Resuming, checkpoints, tracking and the export are the shared loop's (`loop.py`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bridge.models.coconet.config import CoconetConfig
from bridge.models.coconet.native import load_native, save_native
from bridge.models.coconet.network import CoconetNetwork
from bridge.training.coconet.batch_norm import estimate_population, training_logits
from bridge.training.coconet.batches import (
    MASKOUT_METHODS,
    Batch,
    held_out_batches,
    training_batch,
)
from bridge.training.coconet.corpus import Chorales
from bridge.training.coconet.evaluation import network_predictor, score
from bridge.training.coconet.loss import coconet_loss
from bridge.training.loop import Evaluation, Run, StepLog, adam, finish_run, run_training
from bridge.training.tracking import NO_TRACKING, Tracker

MAGENTA_LEARNING_RATE = 2**-4  # lib_hparams' default, which coconet_train keeps
VALID_SEED = 123  # coconet_train fixes numpy's seed to 123 for validation


@dataclass(frozen=True)
class CoconetTrainingOptions:
    """The network's size and coconet_train's flags; the defaults are magenta's, but for
    the size (a CPU's: magenta's is straight-64-128)."""

    architecture: str = "straight"
    num_layers: int = 16
    num_filters: int = 64
    num_dilation_blocks: int = 3  # the dilated architecture's (lib_hparams' default)
    crop_piece_len: int = 64
    batch_size: int = 20  # coconet_train's
    maskout_method: str = "orderless"
    mask_only: bool = False  # coconet_train's optimize_mask_only
    rescale_loss: bool = True
    learning_rate: float = MAGENTA_LEARNING_RATE
    final_lr_fraction: float = 1.0  # < 1: cosine decay to this fraction by the last step
    patience: int = 5  # validations without improvement before the rate is halved
    transpose: int = 0  # magenta transposes nothing
    steps: int = 1000
    eval_every: int = 100
    eval_window: int = 64  # steps per validation window (magenta's default crop)
    valid_draws: int = 2  # orderless masks per validation window
    population_batches: int = 8  # training batches averaged for batch-norm statistics
    half: bool = True  # export in fp16
    seed: int = 0

    def __post_init__(self) -> None:
        if self.maskout_method not in MASKOUT_METHODS:
            raise ValueError(f"mask method {self.maskout_method!r} is not one of {MASKOUT_METHODS}")
        for name in ("steps", "eval_every", "batch_size", "crop_piece_len", "eval_window"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.learning_rate <= 0 or not 0 < self.final_lr_fraction <= 1:
            raise ValueError("the learning rate must be positive and its final fraction in (0, 1]")
        self.config()  # the architecture's own checks

    def config(self) -> CoconetConfig:
        """The model's hparams: lib_hparams' defaults with coconet_train's mask flag."""
        return CoconetConfig(
            architecture=self.architecture,
            num_layers=self.num_layers,
            num_filters=self.num_filters,
            num_dilation_blocks=self.num_dilation_blocks,
            crop_piece_len=self.crop_piece_len,
            mask_indicates_context=True,
            dataset="Jsb16thSeparated",
        )


def learning_rate_at(step: int, options: CoconetTrainingOptions, halvings: int) -> float:
    """The base rate, cosine-decayed towards `final_lr_fraction`, halved `halvings` times."""
    progress = min(step / max(options.steps, 1), 1.0)
    fraction = options.final_lr_fraction
    cosine = fraction + (1 - fraction) * 0.5 * (1 + math.cos(math.pi * progress))
    return options.learning_rate * cosine * 0.5**halvings


def plateau(scores: Sequence[float], patience: int) -> tuple[int, int, float]:
    """coconet_train's Tracker over validation scores: (halvings so far, validations since
    the last improvement or halving, best score). A resumed run replays its history."""
    halvings, age, best = 0, 0, math.inf
    for value in scores:
        if value < best:
            best, age = value, 0
            continue
        age += 1
        if age > patience:
            halvings, age = halvings + 1, 0
    return halvings, age, best


@torch.no_grad()
def initialize(network: CoconetNetwork, generator: torch.Generator) -> None:
    """lib_graph's initialisers: He-normal (truncated at 2 deviations) convolutions, batch
    norm scale 0.1 and shift 0, biases 0."""
    for module in network.modules():
        if isinstance(module, nn.Conv2d):
            fan_in = module.weight.shape[1] * module.weight.shape[2] * module.weight.shape[3]
            if module.groups > 1:  # a depthwise kernel: keras counts its input channels too
                fan_in *= module.groups
            std = math.sqrt(2.0 / fan_in) / 0.87962566103423978
            nn.init.trunc_normal_(module.weight, 0.0, std, -2 * std, 2 * std, generator=generator)
            if module.bias is not None:
                module.bias.zero_()
    for layer in network.layers:
        if layer.batch_norm:
            layer.gamma.fill_(0.1)
            layer.beta.zero_()
        else:
            layer.bias.zero_()


def train_coconet(
    train: Chorales,
    valid: Chorales,
    out_dir: Path,
    options: CoconetTrainingOptions = CoconetTrainingOptions(),
    device: str = "cpu",
    export_name: str | None = None,
    tracker: Tracker = NO_TRACKING,
) -> dict[str, Any]:
    """Train from scratch (or resume from `out_dir/checkpoint.pt`), keep the network with
    the best validation NLL, and export it natively if `export_name` is given."""
    out_dir.mkdir(parents=True, exist_ok=True)
    config = options.config()
    network = CoconetNetwork(config)
    initialize(network, torch.Generator().manual_seed(options.seed))
    network.to(device)
    optimizer = adam(network, options.learning_rate)
    run = Run.resume(out_dir, network, optimizer, map_location=device)
    halvings, age, best = plateau([entry["nll"] for entry in run.history], options.patience)
    trainer = _CoconetTrainer(
        config,
        options,
        network,
        optimizer,
        train.pieces,
        held_out_batches(
            valid.pieces, config, options.eval_window, options.valid_draws, VALID_SEED
        ),
        np.random.default_rng(options.seed + run.step),
        device,
        halvings,
        age,
        best,
    )
    started = time.perf_counter()
    run_training(run, trainer, options.steps, options.eval_every, config.name, tracker)
    summary = {
        "config": config.name,
        "options": asdict(options),
        "steps": run.step,
        "best_valid_nll": run.best,
        "train_chorales": len(train),
        "valid_chorales": len(valid),
        "threads": torch.get_num_threads(),
        "seconds_this_call": round(time.perf_counter() - started, 1),
        "history": run.history,
    }
    finish_run(run, trainer, summary, export_name, tracker)
    return summary


@dataclass
class _CoconetTrainer:
    """Coconet's part of the shared loop: magenta's step, the NLL validation, the export."""

    config: CoconetConfig
    options: CoconetTrainingOptions
    network: CoconetNetwork
    optimizer: torch.optim.Optimizer
    train: tuple[np.ndarray, ...]
    valid: list[Batch]
    rng: np.random.Generator
    device: str
    halvings: int = 0  # the plateau rule's state (`plateau`)
    age: int = 0
    best: float = math.inf

    def _tensors(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return tuple(
            torch.as_tensor(a, device=self.device)
            for a in (batch.rolls, batch.masks, batch.lengths)
        )

    def _batch(self) -> Batch:
        """Random crops under fresh training masks, as the options say."""
        options = self.options
        return training_batch(
            self.train,
            self.config,
            options.batch_size,
            self.rng,
            options.maskout_method,
            options.transpose,
        )

    def train_step(self, step: int) -> StepLog:
        """One Adam step on random crops under fresh masks."""
        options = self.options
        rolls, masks, lengths = self._tensors(self._batch())
        logits = training_logits(self.network, rolls, masks)
        losses = coconet_loss(
            logits, rolls, masks, lengths, options.rescale_loss, options.mask_only
        )
        rate = learning_rate_at(step, options, self.halvings)
        for group in self.optimizer.param_groups:
            group["lr"] = rate
        self.optimizer.zero_grad()
        losses.loss.backward()
        self.optimizer.step()
        metrics = {
            "train_loss": losses.loss.item(),
            "train_loss_mask": losses.mask.item(),
            "train_loss_unmask": losses.unmask.item(),
        }
        return StepLog(
            tracked={**metrics, "learning_rate": rate},
            history={**metrics, "learning_rate": rate},
            postfix={"loss": f"{losses.loss.item():.3f}", "mask": f"{losses.mask.item():.3f}"},
        )

    def evaluate(self) -> Evaluation:
        """Re-estimate the population statistics, then the validation NLL per note; the
        rate is halved after `patience` validations without improvement."""
        options = self.options
        population = (self._tensors(self._batch())[:2] for _ in range(options.population_batches))
        estimate_population(self.network, population)
        metrics = score(network_predictor(self.network), self.valid)
        improved = metrics["nll"] < self.best
        self.best = min(self.best, metrics["nll"])
        self.age = 0 if improved else self.age + 1
        if self.age > options.patience:
            self.halvings, self.age = self.halvings + 1, 0
        metrics["halvings"] = float(self.halvings)
        message = f"valid NLL per note {metrics['nll']:.4f}, accuracy {metrics['accuracy']:.3f}"
        return Evaluation(metrics, metrics["nll"], message)

    def save_best(self, path: Path) -> None:
        """Full precision, population statistics included."""
        save_native(self.config, self.network, path, half=False)

    def export(self, best: Path, model: Path, training: dict[str, Any]) -> None:
        """The best network in fp16 (`half`) or fp32, with the run's summary."""
        config, network = load_native(best)
        save_native(config, network, model, half=self.options.half, extra={"training": training})
