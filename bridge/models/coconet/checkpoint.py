"""Coconet's TensorFlow checkpoints -> the native network, without TensorFlow.

A checkpoint folder holds `config` (config.py) and a V2 checkpoint. `lib_graph.load_checkpoint`
restores `<folder>/best_model.ckpt`, the file `coconet_train`'s Tracker saves; when there is
none, the folder's `checkpoint` file (or its only `.index`) names it, as for
`lib_tfsampling`, which restores the latest. Variable names are lib_graph's:
`model/conv<i>/weights` ([time, pitch, in, out]) or, for a separable layer,
`model/conv<i>/separable_conv2d/{depthwise_kernel,pointwise_kernel,bias}`, then
`gamma` and `popmean`, `popvariance` ([1, 1, 1, C]) and `beta` ([C]), or `bias` without batch
norm. Only those are read: the optimizer state a training checkpoint keeps (Adam's slots
under `model/model/...`, `beta1_power`, `learning_rate`) is skipped unread.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.checkpoints.module_state import load_state, unallocated
from bridge.models.checkpoints.tf_v2 import read_v2_checkpoint
from bridge.models.coconet.config import CoconetConfig, read_config
from bridge.models.coconet.network import CoconetNetwork

BEST_PREFIX = "best_model.ckpt"  # what lib_graph.load_checkpoint restores
SCOPE = "model/"

Transform = Callable[[np.ndarray], np.ndarray]


def load_tf_checkpoint(folder: str | Path) -> tuple[CoconetConfig, CoconetNetwork]:
    """The config and the network of a checkpoint folder (official or `coconet_train`'s)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder} is not a Coconet checkpoint folder (config + checkpoint)")
    config = read_config(folder)
    names = variable_map(config)
    best = folder / BEST_PREFIX
    source = best if best.with_name(BEST_PREFIX + ".index").is_file() else folder
    tensors = read_v2_checkpoint(source, keep=lambda name: name.startswith(SCOPE + "conv"))
    missing = sorted(set(names) - set(tensors))
    unused = sorted(set(tensors) - set(names))
    if missing or unused:
        raise CheckpointError(
            f"{source}: does not hold a {config.name} Coconet as {folder / 'config'} "
            f"describes it (missing {missing[:4]}, not used {unused[:4]})"
        )
    state = {key: transform(tensors[name]) for name, (key, transform) in names.items()}
    network = unallocated(lambda: CoconetNetwork(config))
    load_state(network, state, source)
    return config, network.eval()


def variable_map(config: CoconetConfig) -> dict[str, tuple[str, Transform]]:
    """TensorFlow variable name -> (state-dict key, how its array becomes the parameter)."""
    names: dict[str, tuple[str, Transform]] = {}
    for index in range(len(config.layers)):
        scope, key = f"{SCOPE}conv{index}/", f"layers.{index}."
        if config.separable(index):
            names[scope + "separable_conv2d/depthwise_kernel"] = (
                key + "depthwise.weight",
                _depthwise,
            )
            names[scope + "separable_conv2d/pointwise_kernel"] = (key + "pointwise.weight", _kernel)
            names[scope + "separable_conv2d/bias"] = (key + "pointwise.bias", _flat)
        else:
            names[scope + "weights"] = (key + "conv.weight", _kernel)
        norms = ("gamma", "beta", "popmean", "popvariance") if config.batch_norm else ("bias",)
        for name in norms:
            names[scope + name] = (key + name, _flat)
    return names


def _kernel(weights: np.ndarray) -> np.ndarray:
    """[time, pitch, in, out] -> PyTorch's [out, in, time, pitch]."""
    return weights.transpose(3, 2, 0, 1)


def _depthwise(weights: np.ndarray) -> np.ndarray:
    """[time, pitch, in, multiplier] -> [in * multiplier, 1, time, pitch]; TensorFlow's output
    channel `c * multiplier + m` is PyTorch's grouped-convolution channel of the same index."""
    time, pitch, channels, multiplier = weights.shape
    return weights.transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, time, pitch)


def _flat(values: np.ndarray) -> np.ndarray:
    return values.reshape(-1)
