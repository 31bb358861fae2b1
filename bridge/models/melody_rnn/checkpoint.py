"""Loading MelodyRNN weights: Magenta `.mag` bundles and the native safetensors format.

Bundles are read as every events-RNN family's are (`events_rnn.checkpoint`). The
native format is the network's own state dict in safetensors (fp16 or fp32) beside a
JSON file with the configuration, so loading never unpickles anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from bridge.models.checkpoints.tf_v1 import CheckpointError
from bridge.models.events_rnn import checkpoint as events_rnn_checkpoint
from bridge.models.events_rnn.network import EventsRnnNetwork
from bridge.models.melody_rnn.config import CONFIGS, MelodyRnnConfig
from bridge.models.melody_rnn.encoding import MelodyEncoder


def build_network(config: MelodyRnnConfig) -> EventsRnnNetwork:
    encoder = MelodyEncoder(config)
    return EventsRnnNetwork(
        encoder.input_size, encoder.num_classes, config.layer_sizes, config.attn_length
    )


def load_bundle(path: str | Path) -> tuple[MelodyRnnConfig, EventsRnnNetwork]:
    """Rebuild a Magenta MelodyRNN bundle as a PyTorch network."""
    return events_rnn_checkpoint.load_bundle(path, CONFIGS, "MelodyRNN", MelodyEncoder)


def save_native(
    config: MelodyRnnConfig,
    network: EventsRnnNetwork,
    path: str | Path,
    half: bool = True,
    extra: dict | None = None,
) -> Path:
    """Write `<path>.safetensors` and `<path>.json`; returns the weights path."""
    weights = Path(path).with_suffix(".safetensors")
    weights.parent.mkdir(parents=True, exist_ok=True)
    dtype = torch.float16 if half else torch.float32
    save_file(
        {k: v.detach().to("cpu", dtype).contiguous() for k, v in network.state_dict().items()},
        str(weights),
    )
    weights.chmod(0o644)  # safetensors writes through a private temp file
    meta = {"family": "melody_rnn", "config": config.to_dict(), "dtype": str(dtype).split(".")[1]}
    meta.update(extra or {})
    weights.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    return weights


def load_native(path: str | Path) -> tuple[MelodyRnnConfig, EventsRnnNetwork]:
    """Read a network saved by `save_native` (given the .safetensors or .json path)."""
    weights = Path(path).with_suffix(".safetensors")
    meta_path = weights.with_suffix(".json")
    try:
        meta = json.loads(meta_path.read_text())
        config = MelodyRnnConfig.from_dict(meta["config"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"cannot read model config {meta_path}: {error}") from error
    network = build_network(config)
    try:
        state = load_file(str(weights))
    except (OSError, Exception) as error:  # safetensors raises its own error types
        raise CheckpointError(f"cannot read weights {weights}: {error}") from error
    events_rnn_checkpoint.load_state(
        network, {k: v.float().numpy() for k, v in state.items()}, weights
    )
    return config, network


def load_checkpoint(path: str | Path) -> tuple[MelodyRnnConfig, EventsRnnNetwork]:
    """Load either format, by file extension."""
    path = Path(path)
    if path.suffix == ".mag":
        return load_bundle(path)
    if path.suffix in (".safetensors", ".json"):
        return load_native(path)
    raise CheckpointError(f"{path}: expected a Magenta .mag bundle or a .safetensors file")
