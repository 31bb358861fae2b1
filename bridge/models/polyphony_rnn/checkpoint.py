"""Loading PolyphonyRNN weights from Magenta `.mag` bundles.

PolyphonyRNN is built by the same events_rnn_graph as MelodyRNN, so its variables map onto
the same PyTorch network; only the encoder's sizes differ.
"""

from __future__ import annotations

from pathlib import Path

from bridge.models.checkpoints.bundle import read_bundle
from bridge.models.checkpoints.tf_v1 import CheckpointError
from bridge.models.melody_rnn.checkpoint import network_from_tensors
from bridge.models.melody_rnn.network import MelodyRnnNetwork
from bridge.models.polyphony_rnn.config import CONFIGS, PolyphonyRnnConfig
from bridge.models.polyphony_rnn.encoding import PolyphonyEncoder


def load_bundle(path: str | Path) -> tuple[PolyphonyRnnConfig, MelodyRnnNetwork]:
    """Rebuild a Magenta PolyphonyRNN bundle as a PyTorch network."""
    path = Path(path)
    if path.suffix != ".mag":
        raise CheckpointError(f"{path}: expected a Magenta .mag bundle")
    bundle = read_bundle(path)
    if bundle.generator_id not in CONFIGS:
        raise CheckpointError(
            f"{path}: generator {bundle.generator_id!r} is not a PolyphonyRNN config "
            f"(expected one of {', '.join(sorted(CONFIGS))})"
        )
    config = CONFIGS[bundle.generator_id]
    encoder = PolyphonyEncoder(config)
    network = network_from_tensors(
        bundle.tensors, path, encoder.input_size, encoder.num_classes, config.attn_length
    )
    return config.with_layers(tuple(layer.hidden_size for layer in network.layers)), network
