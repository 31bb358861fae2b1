"""Training an events RNN natively: encoded sequences in, a native safetensors model out.

One loop for every family training knows (`families.FAMILIES`: MelodyRNN, DrumsRNN,
PolyphonyRNN), as Magenta trains them all with events_rnn_train. The recipe is Magenta's
(Adam at 1e-3, dropout 0.5 on every layer's output, gradient norm clipping at the config's
value, cross-entropy over the encoder's labels). Sequences are encoded once on their full history
and then cut into windows, so every window sees exactly the inputs the model sees at
generation time. Checkpoints hold only tensors and numbers and are read back with
`weights_only=True`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from bridge.models.events_rnn.encoding import EventEncoder
from bridge.training.evaluation import evaluate_events_rnn
from bridge.training.families import family_of_config
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
    optimizer = torch.optim.Adam(
        [p for p in network.parameters() if p.requires_grad], lr=options.learning_rate
    )
    clip_norm = options.clip_norm or config.clip_norm
    checkpoint_path = out_dir / "checkpoint.pt"
    step, history, best = 0, [], math.inf
    if checkpoint_path.exists():
        saved = torch.load(checkpoint_path, weights_only=True, map_location=device)
        network.load_state_dict(saved["network"])
        optimizer.load_state_dict(saved["optimizer"])
        step, best = int(saved["step"]), float(saved["best"])
        history_path = out_dir / "history.json"
        history = json.loads(history_path.read_text()) if history_path.exists() else []
        print(f"resuming from step {step}")
    rng = np.random.default_rng(options.seed + step)
    corpus = EncodedCorpus(train, encoder)
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    network.train()
    started = time.perf_counter()
    progress = tqdm(total=options.steps, initial=step, desc=f"training {config.name}", unit="step")
    while step < options.steps:
        inputs, labels, mask = (
            t.to(device) for t in corpus.batch(rng, options.batch_size, options.window)
        )
        rate = learning_rate_at(step, options)
        for group in optimizer.param_groups:
            group["lr"] = rate
        logits, _ = network(inputs)
        losses = loss_fn(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        loss = (losses * mask.reshape(-1)).sum() / mask.sum()
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(network.parameters(), clip_norm)
        optimizer.step()
        step += 1
        progress.update(1)
        progress.set_postfix(loss=f"{loss.item():.3f}")
        tracker.log_metrics({"train_loss": loss.item(), "learning_rate": rate}, step)
        if step % options.eval_every == 0 or step == options.steps:
            metrics = evaluate_events_rnn(network, encoder, valid)
            tracker.log_metrics({f"valid_{k}": v for k, v in metrics.items()}, step)
            history.append(
                {
                    "step": step,
                    "train_loss": loss.item(),
                    **metrics,
                    "seconds": time.perf_counter() - started,
                }
            )
            progress.write(
                f"step {step}: valid nll/step {metrics['nll_per_step']:.4f}, "
                f"accuracy {metrics['accuracy']:.3f}"
            )
            if metrics["nll_per_step"] < best:
                best = metrics["nll_per_step"]
                family.save_native(config, network, out_dir / "best", half=False)
            torch.save(
                {
                    "network": network.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "step": step,
                    "best": best,
                },
                checkpoint_path,
            )
            (out_dir / "history.json").write_text(json.dumps(history, indent=1))
    progress.close()
    summary = {
        "family": family.name,
        "config": asdict(config),
        "options": asdict(options),
        "steps": step,
        "best_valid_nll_per_step": best,
        "train_sequences": len(corpus),
        "valid_sequences": len(valid),
        "history": history,
    }
    model = out_dir / "best"
    if export_name:
        _, best_network = family.load_native(out_dir / "best.safetensors")
        model = Path(export_name)
        family.save_native(
            config,
            best_network,
            model,
            half=True,
            extra={"training": {k: v for k, v in summary.items() if k != "history"}},
        )
    for artifact in (model.with_suffix(".safetensors"), model.with_suffix(".json")):
        tracker.log_artifact(artifact)
    tracker.log_artifact(out_dir / "history.json")
    return summary
