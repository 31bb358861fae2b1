"""Teacher-forced scores on held-out data, for any native model the daemon can load: the
training side of the family table, keyed by the names the families' own packages give them.

Event RNNs: NLL per step and accuracy (Magenta's label view and the event view) beside n-gram
baselines fitted on the training data. MusicVAEs and GrooVAEs: KL from the prior,
reconstruction loss and accuracy beside the majority class. Coconets: orderless NLL per note,
accuracy and the harmonization NLL beside per-voice Markov chains. Models on the magenta
backend are not scored here: their worker exposes melody probabilities only, and the same
`.mag` loads natively, where the parity tests show it gives magenta's probabilities.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bridge.models.catalog import ModelSpec
from bridge.models.coconet.native import FAMILY as COCONET
from bridge.models.music_vae.native import FAMILY as MUSIC_VAE
from bridge.training.coconet import evaluation as coconet
from bridge.training.events_rnn import evaluation as events_rnn
from bridge.training.events_rnn.trainable import TRAINABLE
from bridge.training.music_vae import evaluation as music_vae

Scorer = Callable[[ModelSpec, Path, Path | None, Sequence[int]], dict[str, Any]]

SCORERS: dict[str, Scorer] = {
    **dict.fromkeys(TRAINABLE, events_rnn.held_out_scores),
    MUSIC_VAE: music_vae.held_out_scores,
    COCONET: coconet.held_out_scores,
}


def held_out_scores(
    spec: ModelSpec, test: Path, train: Path | None = None, orders: Sequence[int] = (3, 5)
) -> dict[str, Any]:
    """Teacher-forced scores of the model `spec` names on `test` (a folder or `.npz` corpus),
    with baselines fitted on `train` (none without it: `compare` scores its baseline once)."""
    if spec.backend != "native":
        raise ValueError(f"model {spec.name!r} runs in magenta; teacher forcing needs a native one")
    if spec.family not in SCORERS:
        raise ValueError(f"{spec.family} models cannot be scored on held-out data yet")
    return SCORERS[spec.family](spec, test, train, orders)
