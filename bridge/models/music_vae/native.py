"""MusicVAE networks in the native format (bridge.models.checkpoints.native), their JSON
naming the config and the sizes, so a model trained here loads without TensorFlow."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.checkpoints.module_state import unallocated
from bridge.models.checkpoints.native import load_native_weights, read_native_meta
from bridge.models.checkpoints.native import save_native as write_native
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
    meta = {"family": FAMILY, "config": config.name, "sizes": asdict(sizes), **(extra or {})}
    return write_native(network, path, meta, half)


def load_native(path: str | Path) -> tuple[MusicVaeConfig, NetworkSizes, MusicVaeNetwork]:
    """Read a network written by `save_native` (given its .safetensors or .json path)."""
    weights = Path(path).with_suffix(".safetensors")
    meta = read_native_meta(weights)
    if meta.get("family") != FAMILY:
        raise CheckpointError(f"{weights}: a {meta.get('family')} model, not a MusicVAE")
    try:
        config = config_named(meta["config"])
        sizes = NetworkSizes(**{k: _sizes_field(v) for k, v in meta["sizes"].items()})
        network = unallocated(lambda: build_network(config, sizes))
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"cannot read the MusicVAE config of {weights}: {error}") from error
    load_native_weights(network, weights)
    return config, sizes, network


def _sizes_field(value: Any) -> Any:
    return tuple(int(v) for v in value) if isinstance(value, list) else int(value)
