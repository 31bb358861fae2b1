"""Held-out metrics for events RNNs of any family, comparable with the n-gram baseline.

Two views are reported. Magenta's own: negative log-likelihood and accuracy of the
encoder's labels (a MelodyRNN's lookback encodings give a repeat of one or two bars back
its own class). And an event view that any model over the family's events can be scored
on: the probability of the true next event is the sum over every class that would produce
it. For the one-hot families (drums, polyphony, performance) a class is its event, so
both views agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bridge.models.catalog import ModelSpec
from bridge.models.events_rnn.encoding import EventEncoder
from bridge.models.events_rnn.network import EventsRnnNetwork
from bridge.training.ngram import NGramModel, Vocabulary


@torch.inference_mode()
def evaluate_events_rnn(
    network: EventsRnnNetwork,
    encoder: EventEncoder,
    sequences: Sequence[np.ndarray],
    batch_size: int = 64,
) -> dict[str, float]:
    """Teacher-forced metrics over whole sequences (each scored from its second event on)."""
    was_training = network.training
    network.eval()
    device = network.output.weight.device
    totals = dict.fromkeys(("label_nll", "label_correct", "event_nll", "event_correct"), 0.0)
    steps = 0
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    for start in range(0, len(order), batch_size):
        batch = [np.asarray(sequences[i]) for i in order[start : start + batch_size]]
        batch = [s for s in batch if len(s) >= 2]
        if not batch:
            continue
        encoded = [encoder.encode(s) for s in batch]
        width = max(len(labels) for _, labels in encoded)
        inputs = np.zeros((len(batch), width, encoder.input_size), dtype=np.float32)
        for row, (x, _) in enumerate(encoded):
            inputs[row, : len(x)] = x
        logits, _ = network(torch.from_numpy(inputs).to(device))
        log_probs = torch.log_softmax(logits, dim=-1).cpu().numpy()
        for row, (events, (_, labels)) in enumerate(zip(batch, encoded, strict=True)):
            lp = log_probs[row, : len(labels)]
            positions = np.arange(len(labels))
            totals["label_nll"] -= lp[positions, labels].sum()
            totals["label_correct"] += (lp.argmax(axis=1) == labels).sum()
            class_events = encoder.scored_class_events(events)
            truth = events[1:][:, None]
            event_probs = np.where(class_events == truth, np.exp(lp), 0.0).sum(axis=1)
            totals["event_nll"] -= np.log(np.maximum(event_probs, 1e-12)).sum()
            guesses = class_events[positions, lp.argmax(axis=1)]
            totals["event_correct"] += (guesses == events[1:]).sum()
            steps += len(labels)
    network.train(was_training)
    steps = max(steps, 1)
    return {
        "nll_per_step": float(totals["label_nll"] / steps),
        "accuracy": float(totals["label_correct"] / steps),
        "event_nll_per_step": float(totals["event_nll"] / steps),
        "event_accuracy": float(totals["event_correct"] / steps),
        "steps": float(steps),
    }


def compare_with_ngrams(
    network: EventsRnnNetwork,
    encoder: EventEncoder,
    vocabulary: Vocabulary,
    train: Sequence[np.ndarray],
    test: Sequence[np.ndarray],
    orders: Sequence[int] = (3, 5),
) -> dict[str, dict[str, float]]:
    """The model's held-out metrics beside n-gram baselines (over the family's `vocabulary`)
    fitted on the same training set."""
    results = {"model": evaluate_events_rnn(network, encoder, test)}
    for order in orders:
        baseline = NGramModel.fit(train, order, vocabulary=vocabulary)
        results[f"{order}-gram"] = baseline.evaluate(test)
    return results


def held_out_scores(
    spec: ModelSpec, test: Path, train: Path | None, orders: Sequence[int]
) -> dict[str, Any]:
    """An event RNN's NLL and accuracy on `test`, beside n-grams fitted on `train` if given."""
    from bridge.training.events_rnn.trainable import family_named

    trainable = family_named(spec.family)
    config, network = trainable.checkpoints.load_checkpoint(spec.path)
    encoder = trainable.checkpoints.encoder_type(config)
    held_out = trainable.read_sequences(test, config, held_out=True)
    if train is None:
        return {"model": evaluate_events_rnn(network, encoder, held_out)}
    training = trainable.read_sequences(train, config)
    return compare_with_ngrams(
        network, encoder, trainable.vocabulary(config), training, held_out, orders
    )
