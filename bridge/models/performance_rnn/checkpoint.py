"""Loading PerformanceRNN weights from Magenta `.mag` bundles.

Magenta builds PerformanceRNN with the same events_rnn_graph as MelodyRNN (stacked
BasicLSTMCells, no attention in these configs), so its variables map onto the same PyTorch
network; only the encoder's sizes differ.
"""

from __future__ import annotations

from pathlib import Path

from bridge.models.checkpoints.bundle import read_bundle
from bridge.models.checkpoints.tf_v1 import CheckpointError
from bridge.models.melody_rnn.checkpoint import network_from_tensors
from bridge.models.melody_rnn.network import MelodyRnnNetwork
from bridge.models.performance_rnn.config import CONFIGS, PerformanceRnnConfig
from bridge.models.performance_rnn.encoding import PerformanceEncoder


def load_bundle(path: str | Path) -> tuple[PerformanceRnnConfig, MelodyRnnNetwork]:
    """Rebuild a Magenta PerformanceRNN bundle as a PyTorch network."""
    path = Path(path)
    if path.suffix != ".mag":
        raise CheckpointError(f"{path}: expected a Magenta .mag bundle")
    bundle = read_bundle(path)
    if bundle.generator_id not in CONFIGS:
        raise CheckpointError(
            f"{path}: generator {bundle.generator_id!r} is not a supported PerformanceRNN "
            f"config (expected one of {', '.join(sorted(CONFIGS))})"
        )
    config = CONFIGS[bundle.generator_id]
    encoder = PerformanceEncoder(config)
    network = network_from_tensors(
        bundle.tensors, path, encoder.input_size, encoder.num_classes, attn_length=0
    )
    return config.with_layers(tuple(layer.hidden_size for layer in network.layers)), network
