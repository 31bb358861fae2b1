"""Magenta `.mag` bundles of any events-RNN family, as a PyTorch network.

Every EventSequenceRnnModel family (MelodyRNN, DrumsRNN, PolyphonyRNN, PerformanceRNN) builds
the same events_rnn_graph, so one mapping serves them all: a bundle's TensorFlow variables
are renamed and re-laid-out into the PyTorch network (gate order i, j, f, o -> i, f, g, o,
forget bias folded in, kernels transposed). A `.mag` stores only a generator id; the
family's table of configs says what it means.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol, Self, TypeVar

import numpy as np
import torch

from bridge.models.checkpoints.bundle import read_bundle
from bridge.models.checkpoints.tf_v1 import CheckpointError
from bridge.models.events_rnn.encoding import EventEncoder
from bridge.models.events_rnn.network import EventsRnnNetwork

FORGET_BIAS = 1.0  # BasicLSTMCell's default, added at run time in TensorFlow


class EventsRnnConfig(Protocol):
    """What the loader needs of a family's config."""

    @property
    def attn_length(self) -> int: ...

    def with_layers(self, layer_sizes: tuple[int, ...]) -> Self: ...


ConfigT = TypeVar("ConfigT", bound=EventsRnnConfig)


def load_bundle(
    path: str | Path,
    configs: Mapping[str, ConfigT],
    family: str,
    encoder_type: Callable[[ConfigT], EventEncoder],
) -> tuple[ConfigT, EventsRnnNetwork]:
    """Rebuild a Magenta bundle of one of `configs` (a `family`'s, by generator id)."""
    path = Path(path)
    if path.suffix != ".mag":
        raise CheckpointError(f"{path}: expected a Magenta .mag bundle")
    bundle = read_bundle(path)
    if bundle.generator_id not in configs:
        raise CheckpointError(
            f"{path}: generator {bundle.generator_id!r} is not a supported {family} config "
            f"(expected one of {', '.join(sorted(configs))})"
        )
    config = configs[bundle.generator_id]
    encoder = encoder_type(config)
    network = network_from_tensors(
        bundle.tensors, path, encoder.input_size, encoder.num_classes, config.attn_length
    )
    return config.with_layers(tuple(layer.hidden_size for layer in network.layers)), network


def network_from_tensors(
    tensors: dict[str, np.ndarray],
    path: str | Path,
    input_size: int,
    num_classes: int,
    attn_length: int,
) -> EventsRnnNetwork:
    """The variables of Magenta's events_rnn_graph as a PyTorch network.

    Only the encoder's sizes and the attention length differ between families; layer sizes
    are read from the kernels' shapes.
    """
    kernels = sorted(
        (name for name in tensors if name.endswith("basic_lstm_cell/kernel")),
        key=lambda name: int(name.split("cell_")[1].split("/")[0]),
    )
    if not kernels:
        raise CheckpointError(f"{path}: no LSTM kernels found in the bundle's checkpoint")
    layer_sizes = tuple(tensors[name].shape[1] // 4 for name in kernels)
    network = EventsRnnNetwork(input_size, num_classes, layer_sizes, attn_length)
    state = {}
    for index, name in enumerate(kernels):
        prefix = f"layers.{index}."
        kernel, bias = tensors[name], tensors[name[: -len("kernel")] + "bias"]
        layer_input = kernel.shape[0] - layer_sizes[index]
        kernel = _reorder_gates(kernel.T)
        bias = _reorder_gates(bias)
        bias[layer_sizes[index] : 2 * layer_sizes[index]] += FORGET_BIAS
        state[prefix + "weight_ih_l0"] = kernel[:, :layer_input]
        state[prefix + "weight_hh_l0"] = kernel[:, layer_input:]
        state[prefix + "bias_ih_l0"] = bias
        state[prefix + "bias_hh_l0"] = np.zeros_like(bias)
    if attn_length:
        state.update(_attention_weights(tensors, path))
    state["output.weight"] = _find(tensors, "fully_connected/weights", path).T
    state["output.bias"] = _find(tensors, "fully_connected/biases", path)
    load_state(network, state, path)
    return network


def _attention_weights(tensors: dict[str, np.ndarray], path: str | Path) -> dict[str, np.ndarray]:
    wrapper = next(
        (
            n.split("attention_cell_wrapper")[0] + "attention_cell_wrapper/"
            for n in tensors
            if "attention_cell_wrapper" in n
        ),
        None,
    )
    if wrapper is None:
        raise CheckpointError(
            f"{path}: the config uses attention but the bundle has no attention variables"
        )
    get = lambda name: _find(tensors, wrapper + name, path)  # noqa: E731
    size = get("attention/attn_v").shape[0]
    return {
        "attention.input_projection.weight": get("kernel").T,
        "attention.input_projection.bias": get("bias"),
        "attention.query.weight": get("attention/kernel").T,
        "attention.query.bias": get("attention/bias"),
        "attention.key.weight": get("attention/attn_w").reshape(size, size).T,
        "attention.score": get("attention/attn_v"),
        "attention.output_projection.weight": get("attn_output_projection/kernel").T,
        "attention.output_projection.bias": get("attn_output_projection/bias"),
    }


def _find(tensors: dict[str, np.ndarray], suffix: str, path: str | Path) -> np.ndarray:
    matches = [name for name in tensors if name.endswith(suffix)]
    if len(matches) != 1:
        raise CheckpointError(
            f"{path}: expected one variable ending in {suffix!r}, found {matches}"
        )
    return tensors[matches[0]]


def _reorder_gates(weights: np.ndarray) -> np.ndarray:
    """TensorFlow's gate order (i, j, f, o) -> PyTorch's (i, f, g, o); j and g are the same gate."""
    i, j, f, o = np.split(weights, 4, axis=0)
    return np.concatenate([i, f, j, o], axis=0).copy()


def load_state(network: EventsRnnNetwork, state: dict[str, np.ndarray], path: str | Path) -> None:
    expected = network.state_dict()
    for name, value in state.items():
        if name not in expected or tuple(expected[name].shape) != value.shape:
            raise CheckpointError(
                f"{path}: variable for {name} has shape {value.shape}, "
                f"the network expects {tuple(expected.get(name, torch.empty(0)).shape)}"
            )
    missing = set(expected) - set(state)
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {sorted(missing)}")
    network.load_state_dict(
        {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in state.items()}
    )
