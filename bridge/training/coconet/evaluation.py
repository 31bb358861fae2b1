"""Held-out scores of a Coconet: negative log-likelihood per note, orderless.

Magenta's lib_evaluation scores a whole piece under one random ordering of its
(step, voice) variables ("note" unit: one voice at one 16th step), predicting each from
the ones before it, one model evaluation per variable, and reports the mean over
variables (a rest counts, with zero loss). That is thousands of evaluations of the whole
piece per chorale, beyond a CPU here. What is measured instead is the same quantity in
expectation, the orderless-NADE estimate that Coconet's training loss is built on: for an
ordering drawn at random, the variable at position d is uniform among the D - d + 1 not yet
seen, given a uniformly drawn context of d - 1. So a mask of a uniformly drawn size 1..D at
random places (lib_mask's orderless mask), scored by the mean cross-entropy over its masked
variables, is an unbiased estimate of the per-note NLL (a log-likelihood under orderings,
not the log of an average of probabilities over them, as magenta's ensemble of 5 is).

Pieces are cut into windows of the model's crop length (64 steps), the NLL being that of a
window given nothing outside it; each window is scored under `draws` masks from a fixed
seed, and windows weigh by their variables, as magenta's unit mean does. The
harmonization score is deterministic: every voice but the soprano masked over the whole
window, each masked note's NLL given the soprano alone (not a joint likelihood). Any
`Predictor` is scored on the same batches, so the baselines' numbers are comparable
(`held_out_report`). `harmonize_openings` samples what part-writing statistics are
measured on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bridge.models.catalog import ModelSpec
from bridge.models.coconet.model import Coconet
from bridge.models.coconet.network import CoconetNetwork
from bridge.models.coconet.pianoroll import decode, encode
from bridge.training.coconet.baseline import VoiceMarkov
from bridge.training.coconet.batches import Batch, held_out_batches
from bridge.training.coconet.corpus import Chorales, load_chorales, read_midi_folder

# (rolls, masks, lengths) -> log-probabilities over pitch [batch, time, pitch, voice]
Predictor = Callable[[Batch], np.ndarray]


def network_predictor(network: CoconetNetwork, batch_size: int = 32) -> Predictor:
    """The network's log-softmax over pitch, with its population statistics (eval mode)."""

    @torch.inference_mode()
    def predict(batch: Batch) -> np.ndarray:
        network.eval()
        device = next(network.parameters()).device
        rows = []
        for start in range(0, len(batch.rolls), batch_size):
            rolls = torch.as_tensor(batch.rolls[start : start + batch_size], device=device)
            masks = torch.as_tensor(batch.masks[start : start + batch_size], device=device)
            logits = network(rolls, masks).float()
            rows.append(torch.log_softmax(logits, dim=2).cpu().numpy())
        return np.concatenate(rows)

    return predict


def score(predict: Predictor, batches: Sequence[Batch]) -> dict[str, float]:
    """Per-note NLL (nats) over the masked variables, each row's mean weighted by its
    variables (length x voices), and the accuracy of the most likely pitch over masked
    notes that sound."""
    weighted = weights = correct = sounding = 0.0
    for batch in batches:
        log_probs = predict(batch)
        inside = np.arange(batch.rolls.shape[1])[None, :] < batch.lengths[:, None]
        masked = (batch.masks[:, :, 0, :] > 0) & inside[:, :, None]  # [batch, time, voice]
        nll = -(log_probs * batch.rolls).sum(axis=2)  # zero where a voice rests
        variables = batch.lengths * batch.rolls.shape[3]
        per_row = (nll * masked).sum(axis=(1, 2)) / np.maximum(masked.sum(axis=(1, 2)), 1)
        weighted += float((per_row * variables).sum())
        weights += float(variables.sum())
        notes = masked & (batch.rolls.sum(axis=2) > 0)
        hits = log_probs.argmax(axis=2) == batch.rolls.argmax(axis=2)
        correct += float((hits & notes).sum())
        sounding += float(notes.sum())
    return {"nll": weighted / max(weights, 1.0), "accuracy": correct / max(sounding, 1.0)}


def harmonization_batches(windows: Sequence[Batch]) -> list[Batch]:
    """The same windows with every voice but the soprano masked throughout."""
    batches = []
    for batch in windows:
        masks = np.zeros_like(batch.masks)
        masks[..., 1:] = 1.0
        batches.append(Batch(batch.rolls, masks, batch.lengths))
    return batches


def held_out_report(
    network: CoconetNetwork,
    train: tuple[np.ndarray, ...] | None,
    test: tuple[np.ndarray, ...],
    draws: int = 8,
    seed: int = 0,
    window: int = 64,
) -> dict[str, dict[str, float]]:
    """The network and the two baselines (fitted on `train`; none without it) on the same
    test windows and masks: orderless NLL per note and accuracy, and the harmonization NLL."""
    config = network.config
    orderless = held_out_batches(test, config, window, draws, seed)
    harmonization = harmonization_batches(held_out_batches(test, config, window, 1, seed))
    predictors: dict[str, Predictor] = {"model": network_predictor(network)}
    if train is not None:
        predictors["markov"] = VoiceMarkov.fit(train, 1)
        predictors["unigram"] = VoiceMarkov.fit(train, 0)
    report = {}
    for name, predict in predictors.items():
        scores = score(predict, orderless)
        scores["harmonization_nll"] = score(predict, harmonization)["nll"]
        report[name] = scores
    return report


def held_out_scores(
    spec: ModelSpec, test: Path, train: Path | None, orders: Sequence[int] = ()
) -> dict[str, Any]:
    """`evaluate`'s and `compare`'s scores of a Coconet: `held_out_report` on the chorales of
    `test`, the baselines fitted on those of `train` if given. Each is a corpus `.npz`
    (its test or train split) or a folder of four-track MIDI files (its `test/` or `train/`
    folder if it has one). The baselines are per-voice Markov chains; `orders` do not apply."""
    model = Coconet.load(spec.path, spec.device)
    training = None if train is None else chorales_of(train, "train").pieces
    return held_out_report(model.network, training, chorales_of(test, "test").pieces)


def chorales_of(path: Path, split: str) -> Chorales:
    """The `split` of a corpus `.npz`, or the four-track MIDI files of a folder (of its
    `split` folder when it has one)."""
    if path.is_file():
        splits = load_chorales(path)
        if split not in splits:
            raise ValueError(f"{path} has no {split} split (it has {', '.join(sorted(splits))})")
        return splits[split]
    folder = path / split if (path / split).is_dir() else path
    chorales, _ = read_midi_folder(folder)
    if not chorales.pieces:
        raise ValueError(f"{folder} holds no four-track chorale (MIDI, soprano first)")
    return chorales


def harmonize_openings(
    model: Coconet, pieces: tuple[np.ndarray, ...], steps: int, seed: int, temperature: float
) -> list[np.ndarray]:
    """Alto, tenor and bass sampled (Gibbs, the model's default schedule) under the first
    `steps` of each piece's soprano, as the harmonize tool does: [steps, 4] pitches each.
    Pieces whose soprano rests in that span are left out."""
    openings = [p[:steps] for p in pieces if len(p) >= steps and not np.isnan(p[:steps, 0]).any()]
    rolls = np.stack([encode(p, model.config.min_pitch, model.config.max_pitch) for p in openings])
    return list(
        decode(model.harmonize(rolls, temperature=temperature, seed=seed), model.config.min_pitch)
    )
