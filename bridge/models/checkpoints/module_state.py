"""Filling a PyTorch module from named arrays, refusing any that do not fit it exactly."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bridge.models.checkpoints.errors import CheckpointError


def load_state(module: nn.Module, state: Mapping[str, np.ndarray], source: str | Path) -> None:
    """Every parameter of `module` from `state` (float32), or a CheckpointError naming the
    first one that is missing, unexpected or of the wrong shape."""
    expected = module.state_dict()
    for name, value in state.items():
        if name not in expected or tuple(expected[name].shape) != value.shape:
            shape = tuple(expected[name].shape) if name in expected else "no such parameter"
            raise CheckpointError(f"{source}: {name} has shape {value.shape}, expected {shape}")
    missing = sorted(set(expected) - set(state))
    if missing:
        raise CheckpointError(f"{source}: the checkpoint lacks {missing}")
    module.load_state_dict(
        {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in state.items()}
    )
