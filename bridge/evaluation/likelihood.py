"""Teacher-forced scores on held-out data, for any native model the daemon can load.

Events RNNs: NLL per step and accuracy (Magenta's label view and the event view,
`bridge.training.evaluation`) beside n-gram baselines fitted on the training data. MusicVAEs
and GrooVAEs: KL from the prior, reconstruction loss and accuracy
(`bridge.training.music_vae_evaluation`) beside the majority class. Models on the magenta
backend are not scored here: their own worker exposes melody probabilities only, and the same
`.mag` loads natively, where the parity tests show it gives magenta's probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bridge.models.catalog import ModelSpec


def likelihood(
    spec: ModelSpec, test: Path, train: Path | None = None, orders: Sequence[int] = (3, 5)
) -> dict[str, Any]:
    """Held-out scores of the model `spec` names on `test` (a folder or `.npz` corpus), with
    baselines fitted on `train` (none without it: `compare` scores its baseline once)."""
    if spec.backend != "native":
        raise ValueError(f"model {spec.name!r} runs in magenta; teacher forcing needs a native one")
    if spec.family == "music_vae":
        return music_vae_likelihood(spec.path, spec.config or "", test, train)
    from bridge.training.evaluation import compare_with_ngrams, evaluate_events_rnn
    from bridge.training.families import family_named

    family = family_named(spec.family)
    config, network = family.checkpoints.load_checkpoint(spec.path)
    encoder = family.checkpoints.encoder_type(config)
    held_out = family.read_sequences(test, config, held_out=True)
    if train is None:
        return {"model": evaluate_events_rnn(network, encoder, held_out)}
    training = family.read_sequences(train, config)
    return compare_with_ngrams(
        network, encoder, family.vocabulary(config), training, held_out, orders
    )


def music_vae_likelihood(
    path: Path, config_name: str, test: Path, train: Path | None = None
) -> dict[str, Any]:
    """A MusicVAE's held-out scores beside the majority class's accuracy (categorical data)."""
    from bridge.models.music_vae.model import MusicVae
    from bridge.models.music_vae.network import LstmDecoder
    from bridge.training.music_vae_corpus import read_slices
    from bridge.training.music_vae_evaluation import evaluate_music_vae, majority_accuracy

    model = MusicVae.load(path, config_name, "cpu")
    decoder = model.network.decoder
    windows = read_slices(test, model.config.name)
    results: dict[str, Any] = {"model": str(path), "config": model.config.name}
    results["test_windows"] = len(windows)
    results.update(evaluate_music_vae(model.network, windows))
    if train is not None and isinstance(decoder, LstmDecoder) and decoder.kind == "categorical":
        results["majority_accuracy"] = majority_accuracy(
            read_slices(train, model.config.name), windows
        )
    return results
