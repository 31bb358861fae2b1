"""Loading MelodyRNN weights: Magenta `.mag` bundles and the native safetensors format.

A bundle's TensorFlow variables are renamed and re-laid-out into the PyTorch network
(gate order i, j, f, o -> i, f, g, o, forget bias folded in, kernels transposed). The
native format is the network's own state dict in safetensors (fp16 or fp32) beside a
JSON file with the configuration, so loading never unpickles anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from bridge.models.checkpoints.bundle import read_bundle
from bridge.models.checkpoints.tf_v1 import CheckpointError
from bridge.models.melody_rnn.config import CONFIGS, MelodyRnnConfig
from bridge.models.melody_rnn.encoding import MelodyEncoder
from bridge.models.melody_rnn.network import MelodyRnnNetwork

FORGET_BIAS = 1.0  # BasicLSTMCell's default, added at run time in TensorFlow


def build_network(config: MelodyRnnConfig) -> MelodyRnnNetwork:
    encoder = MelodyEncoder(config)
    return MelodyRnnNetwork(
        encoder.input_size, encoder.num_classes, config.layer_sizes, config.attn_length
    )


def load_bundle(path: str | Path) -> tuple[MelodyRnnConfig, MelodyRnnNetwork]:
    """Rebuild a Magenta MelodyRNN bundle as a PyTorch network."""
    bundle = read_bundle(path)
    if bundle.generator_id not in CONFIGS:
        raise CheckpointError(
            f"{path}: generator {bundle.generator_id!r} is not a MelodyRNN config "
            f"(expected one of {', '.join(sorted(CONFIGS))})"
        )
    config = CONFIGS[bundle.generator_id]
    encoder = MelodyEncoder(config)
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
) -> MelodyRnnNetwork:
    """The variables of Magenta's events_rnn_graph as a PyTorch network.

    Every EventSequenceRnnModel family (MelodyRNN, DrumsRNN, ...) builds the same graph;
    only the encoder's sizes and the attention length differ. Layer sizes are read from
    the kernels' shapes.
    """
    kernels = sorted(
        (name for name in tensors if name.endswith("basic_lstm_cell/kernel")),
        key=lambda name: int(name.split("cell_")[1].split("/")[0]),
    )
    if not kernels:
        raise CheckpointError(f"{path}: no LSTM kernels found in the bundle's checkpoint")
    layer_sizes = tuple(tensors[name].shape[1] // 4 for name in kernels)
    network = MelodyRnnNetwork(input_size, num_classes, layer_sizes, attn_length)
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
    _load_state(network, state, path)
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


def _load_state(network: MelodyRnnNetwork, state: dict[str, np.ndarray], path: str | Path) -> None:
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


def save_native(
    config: MelodyRnnConfig,
    network: MelodyRnnNetwork,
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


def load_native(path: str | Path) -> tuple[MelodyRnnConfig, MelodyRnnNetwork]:
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
    _load_state(network, {k: v.float().numpy() for k, v in state.items()}, weights)
    return config, network


def load_checkpoint(path: str | Path) -> tuple[MelodyRnnConfig, MelodyRnnNetwork]:
    """Load either format, by file extension."""
    path = Path(path)
    if path.suffix == ".mag":
        return load_bundle(path)
    if path.suffix in (".safetensors", ".json"):
        return load_native(path)
    raise CheckpointError(f"{path}: expected a Magenta .mag bundle or a .safetensors file")
