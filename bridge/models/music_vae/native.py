"""MusicVAE networks in the native format: the state dict in safetensors (fp16 or fp32)
beside a JSON file naming the config and the sizes, as the events-RNN families store theirs,
so a model trained here loads without TensorFlow and without unpickling anything."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.checkpoints.module_state import load_state
from bridge.models.events_rnn.checkpoint import read_native_meta
from bridge.models.music_vae.config import MusicVaeConfig, config_named
from bridge.models.music_vae.network import MusicVaeNetwork, NetworkSizes, build_network

FAMILY = "music_vae"


def save_native(
    config: MusicVaeConfig,
    sizes: NetworkSizes,
    network: MusicVaeNetwork,
    path: str | Path,
    half: bool = True,
    extra: dict[str, Any] | None = None,
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
    meta = {
        "family": FAMILY,
        "config": config.name,
        "sizes": asdict(sizes),
        "dtype": str(dtype).split(".")[1],
        **(extra or {}),
    }
    weights.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    return weights


def load_native(path: str | Path) -> tuple[MusicVaeConfig, NetworkSizes, MusicVaeNetwork]:
    """Read a network written by `save_native` (given its .safetensors or .json path)."""
    weights = Path(path).with_suffix(".safetensors")
    meta = read_native_meta(weights)
    if meta.get("family") != FAMILY:
        raise CheckpointError(f"{weights}: a {meta.get('family')} model, not a MusicVAE")
    try:
        config = config_named(meta["config"])
        sizes = NetworkSizes(**{k: _sizes_field(v) for k, v in meta["sizes"].items()})
        network = build_network(config, sizes)
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"cannot read the MusicVAE config of {weights}: {error}") from error
    try:
        state = load_file(str(weights))
    except Exception as error:  # safetensors raises its own error types
        raise CheckpointError(f"cannot read weights {weights}: {error}") from error
    load_state(network, {k: v.float().numpy() for k, v in state.items()}, weights)
    return config, sizes, network


def _sizes_field(value: Any) -> Any:
    return tuple(int(v) for v in value) if isinstance(value, list) else int(value)
