"""Filling a PyTorch module from named arrays, refusing any that do not fit it exactly.

A loader builds its module `unallocated` (on PyTorch's meta device: shapes, no memory, no
random initialisation) and `load_state` assigns the checkpoint's arrays as its parameters, so
loading a large model spends no time initialising weights it then overwrites."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from torch import nn

from bridge.models.checkpoints.errors import CheckpointError

ModuleT = TypeVar("ModuleT", bound=nn.Module)


def unallocated(build: Callable[[], ModuleT]) -> ModuleT:
    """The module `build` makes, on the meta device: for `load_state` to fill."""
    with torch.device("meta"):
        return build()


def load_state(module: nn.Module, state: Mapping[str, np.ndarray], source: str | Path) -> None:
    """Every parameter of `module` from `state` (float32, assigned: the module may be
    `unallocated`), or a CheckpointError naming the first one that is missing, unexpected or
    of the wrong shape."""
    expected = module.state_dict()
    for name, value in state.items():
        if name not in expected or tuple(expected[name].shape) != value.shape:
            shape = tuple(expected[name].shape) if name in expected else "no such parameter"
            raise CheckpointError(f"{source}: {name} has shape {value.shape}, expected {shape}")
    missing = sorted(set(expected) - set(state))
    if missing:
        raise CheckpointError(f"{source}: the checkpoint lacks {missing}")
    module.load_state_dict(
        {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in state.items()},
        assign=True,
    )
