"""The native model format every family shares: the network's state dict in safetensors
(fp16 or fp32) beside a JSON file that names the family and whatever rebuilds the network,
so loading never unpickles anything and one reader serves every family."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.checkpoints.module_state import load_state


def save_native(module: nn.Module, path: str | Path, meta: dict[str, Any], half: bool) -> Path:
    """Write `<path>.safetensors` and `<path>.json` (`meta` plus the dtype); returns the
    weights path."""
    weights = Path(path).with_suffix(".safetensors")
    weights.parent.mkdir(parents=True, exist_ok=True)
    dtype = torch.float16 if half else torch.float32
    save_file(
        {k: v.detach().to("cpu", dtype).contiguous() for k, v in module.state_dict().items()},
        str(weights),
    )
    weights.chmod(0o644)  # safetensors writes through a private temp file
    meta = {**meta, "dtype": str(dtype).split(".")[1]}
    weights.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    return weights


def read_native_meta(path: str | Path) -> dict[str, Any]:
    """The JSON beside a native model's weights: its family, config and training summary."""
    meta_path = Path(path).with_suffix(".json")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as error:
        raise CheckpointError(f"cannot read model config {meta_path}: {error}") from error
    if not isinstance(meta, dict):
        raise CheckpointError(f"cannot read model config {meta_path}: not a JSON object")
    return meta


def load_native_weights(module: nn.Module, path: str | Path) -> None:
    """Fill `module` from `<path>.safetensors`, refusing weights that do not fit it."""
    weights = Path(path).with_suffix(".safetensors")
    try:
        state = load_file(str(weights))
    except Exception as error:  # safetensors raises its own error types
        raise CheckpointError(f"cannot read weights {weights}: {error}") from error
    load_state(module, {k: v.float().numpy() for k, v in state.items()}, weights)
