"""The training loop every native trainer shares, as Magenta's trainers share one TF loop.

A run resumes from `checkpoint.pt` in its folder, steps under a progress bar, evaluates every
so many steps (and at the last), keeps the network with the best held-out score as `best`,
checkpoints, logs to the tracker, and finally exports the best network and logs it. A family
supplies only what differs (`Trainer`): one optimizer step, its held-out evaluation, and how
its networks are saved and exported. Checkpoints hold only tensors and numbers and are read
back with `weights_only=True`.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn
from tqdm import tqdm

from bridge.training.tracking import Tracker

CHECKPOINT = "checkpoint.pt"
HISTORY = "history.json"
BEST = "best"  # the best network so far, saved by the family at full precision


@dataclass(frozen=True)
class StepLog:
    """What one step reports: `tracked` to the tracker every step, `history` into the run's
    history at evaluations, `postfix` on the progress bar."""

    tracked: dict[str, float]
    history: dict[str, float]
    postfix: dict[str, str]


@dataclass(frozen=True)
class Evaluation:
    """Held-out metrics, the score that picks the best network (lower is better) and the
    line printed after the step number."""

    metrics: dict[str, float]
    score: float
    message: str


class Trainer(Protocol):
    """A family's part of a training run; `run_training` and `finish_run` do the rest."""

    def train_step(self, step: int) -> StepLog:
        """One optimizer step; `step` counts the steps done before it (schedules use it)."""

    def evaluate(self) -> Evaluation:
        """Held-out metrics of the network as it is now."""

    def save_best(self, path: Path) -> None:
        """Save the network as it is now as the best so far, at full precision."""

    def export(self, best: Path, model: Path, training: dict[str, Any]) -> None:
        """Export the network saved at `best` as `model`, with `training` in its metadata."""


def adam(network: nn.Module, learning_rate: float) -> torch.optim.Adam:
    """Adam over the trainable parameters: frozen ones (fixed embeddings) stay out."""
    return torch.optim.Adam([p for p in network.parameters() if p.requires_grad], lr=learning_rate)


@dataclass
class Run:
    """A run folder and what its checkpoint keeps, so a restarted run goes on where it
    stopped: the network, the optimizer, the steps done, the best score and the history."""

    out_dir: Path
    network: nn.Module
    optimizer: torch.optim.Optimizer
    step: int = 0
    best: float = math.inf
    history: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def resume(
        cls,
        out_dir: Path,
        network: nn.Module,
        optimizer: torch.optim.Optimizer,
        map_location: str | None = None,
    ) -> Run:
        """A new run in `out_dir`, or the one its checkpoint holds (loaded into `network`
        and `optimizer`)."""
        run = cls(out_dir, network, optimizer)
        checkpoint_path, history_path = out_dir / CHECKPOINT, out_dir / HISTORY
        if checkpoint_path.exists():
            saved = torch.load(checkpoint_path, weights_only=True, map_location=map_location)
            network.load_state_dict(saved["network"])
            optimizer.load_state_dict(saved["optimizer"])
            run.step, run.best = int(saved["step"]), float(saved["best"])
            run.history = json.loads(history_path.read_text()) if history_path.exists() else []
            print(f"resuming from step {run.step}")
        return run

    def save(self) -> None:
        """Write the checkpoint and the history (read by people and plots, hence JSON)."""
        state = {"network": self.network.state_dict(), "optimizer": self.optimizer.state_dict()}
        torch.save({**state, "step": self.step, "best": self.best}, self.out_dir / CHECKPOINT)
        (self.out_dir / HISTORY).write_text(json.dumps(self.history, indent=1))


def run_training(
    run: Run, trainer: Trainer, steps: int, eval_every: int, name: str, tracker: Tracker
) -> None:
    """Step `trainer` until the run has done `steps`, evaluating every `eval_every` steps
    and at the last one. Training mode is set before every step, since an evaluation may
    leave the network in eval mode."""
    started = time.perf_counter()
    progress = tqdm(total=steps, initial=run.step, desc=f"training {name}", unit="step")
    while run.step < steps:
        run.network.train()
        log = trainer.train_step(run.step)
        run.step += 1
        progress.update(1)
        progress.set_postfix(**log.postfix)
        tracker.log_metrics(log.tracked, run.step)
        if run.step % eval_every == 0 or run.step == steps:
            _evaluate(run, trainer, log, started, progress, tracker)
    progress.close()


def _evaluate(
    run: Run, trainer: Trainer, log: StepLog, started: float, progress: tqdm, tracker: Tracker
) -> None:
    """Score the network on held-out data, record and print it, keep the network if it is
    the best so far, and checkpoint (only here, so a checkpoint always has its history)."""
    evaluation = trainer.evaluate()
    tracker.log_metrics({f"valid_{k}": v for k, v in evaluation.metrics.items()}, run.step)
    seconds = time.perf_counter() - started
    run.history.append({"step": run.step, **log.history, **evaluation.metrics, "seconds": seconds})
    progress.write(f"step {run.step}: {evaluation.message}")
    if evaluation.score < run.best:
        run.best = evaluation.score
        trainer.save_best(run.out_dir / BEST)
    run.save()


def finish_run(
    run: Run,
    trainer: Trainer,
    summary: dict[str, Any],
    export_name: str | None,
    tracker: Tracker,
) -> None:
    """Export the best network as `export_name` if given (the summary, less its history, in
    its metadata: a model card's numbers travel with the model), then log the model (the
    export, else the run's best) and the history as the run's artifacts."""
    model = run.out_dir / BEST
    if export_name:
        model = Path(export_name)
        training = {k: v for k, v in summary.items() if k != "history"}
        trainer.export(run.out_dir / f"{BEST}.safetensors", model, training)
    for artifact in (
        model.with_suffix(".safetensors"),
        model.with_suffix(".json"),
        run.out_dir / HISTORY,
    ):
        tracker.log_artifact(artifact)
