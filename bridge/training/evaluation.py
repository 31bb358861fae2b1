"""Held-out metrics for MelodyRNNs, comparable with the n-gram baseline.

Two views are reported. Magenta's own: negative log-likelihood and accuracy of the
encoder's labels (where a repeat of one or two bars back has its own class). And an
event view that any model over melody events can be scored on: the probability of the
true next event is the sum over every class that would produce it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from bridge.models.events_rnn.network import EventsRnnNetwork
from bridge.models.melody_rnn.encoding import NO_EVENT, MelodyEncoder


@torch.inference_mode()
def evaluate_melody_rnn(
    network: EventsRnnNetwork,
    encoder: MelodyEncoder,
    melodies: Sequence[np.ndarray],
    batch_size: int = 64,
) -> dict[str, float]:
    """Teacher-forced metrics over whole melodies (each scored from its second event on)."""
    was_training = network.training
    network.eval()
    device = network.output.weight.device
    totals = dict.fromkeys(("label_nll", "label_correct", "event_nll", "event_correct"), 0.0)
    steps = 0
    order = sorted(range(len(melodies)), key=lambda i: len(melodies[i]))
    for start in range(0, len(order), batch_size):
        batch = [np.asarray(melodies[i]) for i in order[start : start + batch_size]]
        batch = [m for m in batch if len(m) >= 2]
        if not batch:
            continue
        encoded = [encoder.encode(m) for m in batch]
        width = max(len(labels) for _, labels in encoded)
        inputs = np.zeros((len(batch), width, encoder.input_size), dtype=np.float32)
        for row, (x, _) in enumerate(encoded):
            inputs[row, : len(x)] = x
        logits, _ = network(torch.from_numpy(inputs).to(device))
        log_probs = torch.log_softmax(logits, dim=-1).cpu().numpy()
        for row, (melody, (_, labels)) in enumerate(zip(batch, encoded, strict=True)):
            lp = log_probs[row, : len(labels)]
            positions = np.arange(len(labels))
            totals["label_nll"] -= lp[positions, labels].sum()
            totals["label_correct"] += (lp.argmax(axis=1) == labels).sum()
            events = _class_events_per_position(encoder, melody)
            truth = melody[1:][:, None]
            event_probs = np.where(events == truth, np.exp(lp), 0.0).sum(axis=1)
            totals["event_nll"] -= np.log(np.maximum(event_probs, 1e-12)).sum()
            totals["event_correct"] += (events[positions, lp.argmax(axis=1)] == melody[1:]).sum()
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


def _class_events_per_position(encoder: MelodyEncoder, melody: np.ndarray) -> np.ndarray:
    """[T-1, classes]: the event each class predicts at every scored position."""
    length = len(melody) - 1
    direct = np.broadcast_to(encoder.direct_events(), (length, encoder.num_direct_classes))
    if encoder.config.encoding == "one_hot":
        return direct
    history_len = np.arange(1, length + 1)  # events seen when predicting position p + 1
    repeats = []
    for d in encoder.lookbacks:
        source = history_len - d
        repeats.append(np.where(source >= 0, melody[np.maximum(source, 0)], NO_EVENT))
    return np.concatenate([direct, np.stack(repeats, axis=1)], axis=1)


def compare_with_ngrams(
    network: EventsRnnNetwork,
    encoder: MelodyEncoder,
    train: Sequence[np.ndarray],
    test: Sequence[np.ndarray],
    orders: Sequence[int] = (3, 5),
) -> dict[str, dict[str, float]]:
    """The model's held-out metrics beside n-gram baselines fitted on the same training set."""
    from bridge.training.ngram import NGramModel

    config = encoder.config
    results = {"model": evaluate_melody_rnn(network, encoder, test)}
    for order in orders:
        baseline = NGramModel.fit(train, order, min_note=config.min_note, max_note=config.max_note)
        results[f"{order}-gram"] = baseline.evaluate(test)
    return results
