"""Checkpoints of any events-RNN family: Magenta `.mag` bundles and the native format.

Every EventSequenceRnnModel family (MelodyRNN, DrumsRNN, PolyphonyRNN, PerformanceRNN) builds
the same events_rnn_graph, so one mapping serves them all: a bundle's TensorFlow variables
are renamed and re-laid-out into the PyTorch network (gate order i, j, f, o -> i, f, g, o,
forget bias folded in, kernels transposed). A `.mag` stores only a generator id; the
family's table of configs says what it means.

The native format is the network's own state dict in safetensors (fp16 or fp32) beside a
JSON file naming the family and its config, so loading never unpickles anything and one
reader serves every family.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Generic, Protocol, Self, TypeVar

import numpy as np

from bridge.models.checkpoints.bundle import read_bundle
from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.checkpoints.module_state import load_state, unallocated
from bridge.models.checkpoints.native import load_native_weights, read_native_meta, save_native
from bridge.models.checkpoints.tf_lstm import lstm_weights_from_tf
from bridge.models.events_rnn.encoding import EventEncoder
from bridge.models.events_rnn.network import EventsRnnNetwork

NATIVE_SUFFIXES = (".safetensors", ".json")


class EventsRnnConfig(Protocol):
    """What loading, saving and training need of a family's config (a frozen dataclass)."""

    @property
    def name(self) -> str: ...

    @property
    def layer_sizes(self) -> tuple[int, ...]: ...

    @property
    def attn_length(self) -> int: ...

    @property
    def clip_norm(self) -> float: ...

    def with_layers(self, layer_sizes: tuple[int, ...]) -> Self: ...


ConfigT = TypeVar("ConfigT", bound=EventsRnnConfig)


@dataclass(frozen=True)
class EventsRnnFamily(Generic[ConfigT]):
    """One family's checkpoints: its config table and encoder, read from either format.

    `name` is how config files and native checkpoints name the family ("drums_rnn"),
    `title` how messages do ("DrumsRNN").
    """

    name: str
    title: str
    configs: Mapping[str, ConfigT]
    encoder_type: Callable[[ConfigT], EventEncoder]

    def build_network(self, config: ConfigT) -> EventsRnnNetwork:
        """A freshly initialised network of the config's shape."""
        encoder = self.encoder_type(config)
        return EventsRnnNetwork(
            encoder.input_size, encoder.num_classes, config.layer_sizes, config.attn_length
        )

    def config_named(self, name: str, path: str | Path) -> ConfigT:
        """The family's config of that name; `path` is the checkpoint that asks for it."""
        if name not in self.configs:
            raise CheckpointError(
                f"{path}: {name!r} is not a supported {self.title} config "
                f"(expected one of {', '.join(sorted(self.configs))})"
            )
        return self.configs[name]

    def load_checkpoint(self, path: str | Path) -> tuple[ConfigT, EventsRnnNetwork]:
        """Load either format, by file extension."""
        path = Path(path)
        if path.suffix == ".mag":
            return self.load_bundle(path)
        if path.suffix in NATIVE_SUFFIXES:
            return self.load_native(path)
        raise CheckpointError(f"{path}: expected a Magenta .mag bundle or a .safetensors file")

    def load_bundle(self, path: str | Path) -> tuple[ConfigT, EventsRnnNetwork]:
        """Rebuild a Magenta bundle of one of the family's configs (by generator id)."""
        path = Path(path)
        if path.suffix != ".mag":
            raise CheckpointError(f"{path}: expected a Magenta .mag bundle")
        bundle = read_bundle(path)
        config = self.config_named(bundle.generator_id, path)
        encoder = self.encoder_type(config)
        network = network_from_tensors(
            bundle.tensors, path, encoder.input_size, encoder.num_classes, config.attn_length
        )
        return config.with_layers(tuple(layer.hidden_size for layer in network.layers)), network

    def save_native(
        self,
        config: ConfigT,
        network: EventsRnnNetwork,
        path: str | Path,
        half: bool = True,
        extra: dict[str, Any] | None = None,
    ) -> Path:
        """Write `<path>.safetensors` and `<path>.json`; returns the weights path."""
        meta = {"family": self.name, "config": asdict(config), **(extra or {})}
        return save_native(network, path, meta, half)

    def load_native(self, path: str | Path) -> tuple[ConfigT, EventsRnnNetwork]:
        """Read a network saved by `save_native` (given the .safetensors or .json path)."""
        weights = Path(path).with_suffix(".safetensors")
        meta = read_native_meta(weights)
        if meta.get("family") != self.name:
            raise CheckpointError(
                f"{weights}: a {meta.get('family')} model, not a {self.title} ({self.name}) one"
            )
        try:
            fields = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["config"].items()}
            config = replace(self.config_named(fields["name"], weights), **fields)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise CheckpointError(f"cannot read model config of {weights}: {error}") from error
        network = unallocated(lambda: self.build_network(config))
        load_native_weights(network, weights)
        return config, network


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
    network = unallocated(
        lambda: EventsRnnNetwork(input_size, num_classes, layer_sizes, attn_length)
    )
    state = {}
    for index, name in enumerate(kernels):
        prefix = f"layers.{index}."
        weight_ih, weight_hh, bias = lstm_weights_from_tf(
            tensors[name], tensors[name[: -len("kernel")] + "bias"]
        )
        state[prefix + "weight_ih_l0"] = weight_ih
        state[prefix + "weight_hh_l0"] = weight_hh
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
