"""Training an events RNN natively: encoded sequences in, a native safetensors model out.

One loop for every family training knows (`families.FAMILIES`: MelodyRNN, DrumsRNN,
PolyphonyRNN), as Magenta trains them all with events_rnn_train. The recipe is Magenta's
(Adam at 1e-3, dropout 0.5 on every layer's output, gradient norm clipping at the config's
value, cross-entropy over the encoder's labels). Sequences are encoded once on their full history
and then cut into windows, so every window sees exactly the inputs the model sees at
generation time. Resuming, checkpoints, tracking and the export are the loop all native
trainers share (`loop`); this module supplies the events RNN's step and evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bridge.models.events_rnn.checkpoint import EventsRnnFamily
from bridge.models.events_rnn.encoding import EventEncoder
from bridge.models.events_rnn.network import EventsRnnNetwork
from bridge.training.events_rnn.evaluation import evaluate_events_rnn
from bridge.training.events_rnn.trainable import family_of_config
from bridge.training.loop import Evaluation, Run, StepLog, adam, finish_run, run_training
from bridge.training.tracking import NO_TRACKING, Tracker


@dataclass(frozen=True)
class TrainingOptions:
    config: str = "attention_rnn"  # any config of a trainable family: drum_kit trains drums
    layer_sizes: tuple[int, ...] | None = None  # None: the config's (Magenta's default size)
    attn_length: int | None = None  # None: the config's; 0 drops attention (much faster on CPU)
    steps: int = 2000
    batch_size: int = 64
    window: int = 256
    learning_rate: float = 1e-3
    final_lr_fraction: float = 1.0  # < 1: cosine decay to this fraction of the rate by the end
    dropout: float = 0.5
    clip_norm: float | None = None  # None: Magenta's value for the config (`config.clip_norm`)
    eval_every: int = 250
    seed: int = 0


def learning_rate_at(step: int, options: TrainingOptions) -> float:
    """Cosine decay from the base rate to `final_lr_fraction` of it; a function of the step
    alone, so a resumed run continues the same schedule."""
    progress = min(step / max(options.steps, 1), 1.0)
    fraction = options.final_lr_fraction
    return options.learning_rate * (
        fraction + (1 - fraction) * 0.5 * (1 + math.cos(math.pi * progress))
    )


class EncodedCorpus:
    """Sequences encoded once: int8 inputs (values are -1, 0, 1) and int64 labels."""

    def __init__(self, sequences: Sequence[np.ndarray], encoder: EventEncoder):
        pairs = [encoder.encode(np.asarray(s)) for s in sequences if len(s) >= 2]
        self.inputs = [x.astype(np.int8) for x, _ in pairs]
        self.labels = [y.astype(np.int64) for _, y in pairs]
        if not self.inputs:
            raise ValueError("no sequence with at least two events to train on")

    def __len__(self) -> int:
        return len(self.inputs)

    def batch(self, rng: np.random.Generator, size: int, window: int) -> tuple[torch.Tensor, ...]:
        """A random batch of windows, padded; returns inputs, labels and a validity mask."""
        picks = rng.integers(0, len(self), size)
        spans = []
        for i in picks:
            length = len(self.labels[i])
            start = int(rng.integers(0, length - window + 1)) if length > window else 0
            spans.append((i, start, min(length, start + window)))
        width = max(end - start for _, start, end in spans)
        inputs = np.zeros((size, width, self.inputs[0].shape[1]), dtype=np.float32)
        labels = np.zeros((size, width), dtype=np.int64)
        mask = np.zeros((size, width), dtype=bool)
        for row, (i, start, end) in enumerate(spans):
            inputs[row, : end - start] = self.inputs[i][start:end]
            labels[row, : end - start] = self.labels[i][start:end]
            mask[row, : end - start] = True
        return torch.from_numpy(inputs), torch.from_numpy(labels), torch.from_numpy(mask)


def training_config(options: TrainingOptions) -> Any:
    """The family's config `options` name, with their layer sizes and attention if given."""
    config = family_of_config(options.config).checkpoints.configs[options.config]
    if options.layer_sizes:
        config = config.with_layers(options.layer_sizes)
    if options.attn_length is not None:
        config = replace(config, attn_length=options.attn_length)
    return config


def train_events_rnn(
    train: Sequence[np.ndarray],
    valid: Sequence[np.ndarray],
    out_dir: Path,
    options: TrainingOptions = TrainingOptions(),
    device: str = "cpu",
    export_name: str | None = None,
    tracker: Tracker = NO_TRACKING,
) -> dict[str, Any]:
    """Train (resuming from `out_dir/checkpoint.pt` if present) and export the best model.

    `train` and `valid` hold events of the family of `options.config` (melody events for
    MelodyRNN configs, drum step values for drum_kit). `tracker` gets the training loss and
    rate every step, the validation metrics at each evaluation and the exported files.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(options.seed)
    family = family_of_config(options.config).checkpoints
    config = training_config(options)
    encoder = family.encoder_type(config)
    network = family.build_network(config).to(device)
    network.dropout.p = options.dropout
    optimizer = adam(network, options.learning_rate)
    run = Run.resume(out_dir, network, optimizer, map_location=device)
    trainer = _EventsRnnTrainer(
        family,
        config,
        network,
        optimizer,
        encoder,
        options,
        device,
        clip_norm=options.clip_norm or config.clip_norm,
        rng=np.random.default_rng(options.seed + run.step),
        corpus=EncodedCorpus(train, encoder),
        valid=valid,
    )
    run_training(run, trainer, options.steps, options.eval_every, config.name, tracker)
    summary = {
        "family": family.name,
        "config": asdict(config),
        "options": asdict(options),
        "steps": run.step,
        "best_valid_nll_per_step": run.best,
        "train_sequences": len(trainer.corpus),
        "valid_sequences": len(valid),
        "history": run.history,
    }
    finish_run(run, trainer, summary, export_name, tracker)
    return summary


@dataclass
class _EventsRnnTrainer:
    """The events-RNN part of the shared loop: Magenta's step (cross-entropy over the
    encoder's labels, masked to the windows' real steps), its evaluation and its exports."""

    family: EventsRnnFamily[Any]
    config: Any
    network: EventsRnnNetwork
    optimizer: torch.optim.Optimizer
    encoder: EventEncoder
    options: TrainingOptions
    device: str
    clip_norm: float
    rng: np.random.Generator
    corpus: EncodedCorpus
    valid: Sequence[np.ndarray]
    loss_fn: nn.CrossEntropyLoss = field(
        default_factory=lambda: nn.CrossEntropyLoss(reduction="none")
    )

    def train_step(self, step: int) -> StepLog:
        """One step on a random batch of windows at the scheduled rate."""
        options, optimizer = self.options, self.optimizer
        inputs, labels, mask = (
            t.to(self.device)
            for t in self.corpus.batch(self.rng, options.batch_size, options.window)
        )
        rate = learning_rate_at(step, options)
        for group in optimizer.param_groups:
            group["lr"] = rate
        logits, _ = self.network(inputs)
        losses = self.loss_fn(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        loss = (losses * mask.reshape(-1)).sum() / mask.sum()
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.network.parameters(), self.clip_norm)
        optimizer.step()
        value = loss.item()
        return StepLog(
            tracked={"train_loss": value, "learning_rate": rate},
            history={"train_loss": value},
            postfix={"loss": f"{value:.3f}"},
        )

    def evaluate(self) -> Evaluation:
        """Teacher-forced metrics; the best model is the one with the lowest NLL per step."""
        metrics = evaluate_events_rnn(self.network, self.encoder, self.valid)
        message = (
            f"valid nll/step {metrics['nll_per_step']:.4f}, accuracy {metrics['accuracy']:.3f}"
        )
        return Evaluation(metrics, metrics["nll_per_step"], message)

    def save_best(self, path: Path) -> None:
        """Full precision, so an export or a later fine-tune starts from exact weights."""
        self.family.save_native(self.config, self.network, path, half=False)

    def export(self, best: Path, model: Path, training: dict[str, Any]) -> None:
        """Half precision: what the daemon loads, at half the size."""
        _, best_network = self.family.load_native(best)
        extra = {"training": training}
        self.family.save_native(self.config, best_network, model, half=True, extra=extra)
