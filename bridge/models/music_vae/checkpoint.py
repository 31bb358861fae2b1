"""MusicVAE/GrooVAE TensorFlow checkpoints -> the native network, without TensorFlow.

Variable names are the ones magenta's lstm_models build (checked against graphs built by
magenta 2.1.4): `encoder/cell_<layer>/bidirectional_rnn/{fw,bw}/...`, `encoder/{mu,sigma}`,
`decoder/z_to_initial_state`, `decoder/multi_rnn_cell/cell_<layer>/...` and
`decoder/output_projection` for a flat decoder; a hierarchical one adds the conductor under
`decoder/hierarchical_level_0/` and moves the core decoder under `core_decoder/` (one
`core_decoder_<part>/` each for a split decoder). Layer and latent sizes come from the
shapes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.checkpoints.module_state import load_state, unallocated
from bridge.models.checkpoints.tf_lstm import lstm_weights_from_tf
from bridge.models.checkpoints.tf_v2 import read_v2_checkpoint
from bridge.models.music_vae.config import MusicVaeConfig
from bridge.models.music_vae.network import (
    BidirectionalEncoder,
    HierarchicalDecoder,
    LstmDecoder,
    MusicVaeNetwork,
    SplitDecoder,
)


def load_tf_checkpoint(source: str | Path, config: MusicVaeConfig) -> MusicVaeNetwork:
    """A native network holding the weights of a TensorFlow checkpoint of `config` (the
    optimizer's state of a training checkpoint is skipped, never read)."""
    tensors = read_v2_checkpoint(source, keep=is_model_variable)
    return network_from_tensors(tensors, config, str(source))


def is_model_variable(name: str) -> bool:
    """Whether a checkpoint variable belongs to the model, not to its training: Adam's slots
    (`<variable>/Adam`, `<variable>/Adam_1`), its `beta1_power` and `beta2_power`, and the
    step counter do not."""
    return name != "global_step" and not name.split("/")[-1].startswith(("Adam", "beta"))


def network_from_tensors(
    tensors: dict[str, np.ndarray], config: MusicVaeConfig, source: str
) -> MusicVaeNetwork:
    """Build the network `config` describes at the sizes the tensors have (unallocated), and
    fill it."""
    network, state = unallocated(lambda: _built(tensors, config, source))
    load_state(network, state, source)
    return network


def _built(
    tensors: dict[str, np.ndarray], config: MusicVaeConfig, source: str
) -> tuple[MusicVaeNetwork, dict[str, np.ndarray]]:
    """The network at the tensors' sizes, and its state named as the network names it."""
    weights = _Weights(tensors, source)
    state: dict[str, np.ndarray] = {}
    encoder = _encoder(weights, config, state)
    z_size = encoder.mu.out_features
    if config.level_lengths:
        conductor_sizes = weights.layer_sizes("decoder/hierarchical_level_0/cell_{}/lstm_cell")
        core = _core(weights, config, conductor_sizes[-1], "core_decoder/", "core.", state)
        decoder = HierarchicalDecoder(
            core, z_size, conductor_sizes, (config.level_lengths[0], config.level_lengths[1])
        )
        weights.lstm_stack(
            "decoder/hierarchical_level_0/cell_{}/lstm_cell",
            "decoder.conductor.",
            conductor_sizes,
            state,
        )
        weights.dense("decoder/hierarchical_level_0/initial_state", "decoder.z_to_state", state)
    else:
        decoder = _core(weights, config, z_size, "", "", state)
    weights.check_all_used()
    return MusicVaeNetwork(encoder, decoder), state


def _encoder(
    weights: _Weights, config: MusicVaeConfig, state: dict[str, np.ndarray]
) -> BidirectionalEncoder:
    pattern = "encoder/cell_{}/bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell"
    sizes = weights.layer_sizes(pattern)
    z_size = weights.get("encoder/mu/kernel").shape[1]
    encoder = BidirectionalEncoder(config.input_depth, sizes, z_size)
    for layer in range(len(sizes)):
        for direction, name in (("fw", "forward_layers"), ("bw", "backward_layers")):
            scope = f"encoder/cell_{layer}/bidirectional_rnn/{direction}/multi_rnn_cell/cell_0/"
            weights.lstm(scope + "lstm_cell", f"encoder.{name}.{layer}.", state)
    weights.dense("encoder/mu", "encoder.mu", state)
    weights.dense("encoder/sigma", "encoder.sigma", state)
    return encoder


def _core(
    weights: _Weights,
    config: MusicVaeConfig,
    z_size: int,
    scope: str,
    prefix: str,
    state: dict[str, np.ndarray],
) -> LstmDecoder | SplitDecoder:
    """The flat decoder (or a split decoder's parts) under `scope`."""
    if not config.part_depths:
        return _flat(
            weights, config, config.output_depth, z_size, scope, f"decoder.{prefix}", state
        )
    parts = [
        _flat(
            weights,
            config,
            depth,
            z_size,
            f"{scope}core_decoder_{index}/",
            f"decoder.{prefix}parts.{index}.",
            state,
        )
        for index, depth in enumerate(config.part_depths)
    ]
    return SplitDecoder(parts)


def _flat(
    weights: _Weights,
    config: MusicVaeConfig,
    depth: int,
    z_size: int,
    scope: str,
    prefix: str,
    state: dict[str, np.ndarray],
) -> LstmDecoder:
    cells = f"{scope}decoder/multi_rnn_cell/cell_{{}}/lstm_cell"
    sizes = weights.layer_sizes(cells)
    weights.lstm_stack(cells, prefix + "cells.", sizes, state)
    weights.dense(f"{scope}decoder/z_to_initial_state", prefix + "z_to_state", state)
    weights.dense(f"{scope}decoder/output_projection", prefix + "output", state)
    return LstmDecoder(depth, z_size, sizes, config.decoder)


class _Weights:
    """The checkpoint's tensors, handed out by TensorFlow name; remembers what was used."""

    def __init__(self, tensors: dict[str, np.ndarray], source: str):
        self.tensors, self.source, self.used = tensors, source, set()

    def get(self, name: str) -> np.ndarray:
        if name not in self.tensors:
            raise CheckpointError(
                f"{self.source}: no variable {name!r}; is this checkpoint of the config named?"
            )
        self.used.add(name)
        return self.tensors[name]

    def layer_sizes(self, pattern: str) -> tuple[int, ...]:
        """Units of each layer `pattern.format(0)`, `pattern.format(1)`, ... that exists."""
        sizes = []
        while f"{pattern.format(len(sizes))}/kernel" in self.tensors:
            sizes.append(self.tensors[f"{pattern.format(len(sizes))}/kernel"].shape[1] // 4)
        if not sizes:
            raise CheckpointError(f"{self.source}: no LSTM at {pattern.format(0)!r}")
        return tuple(sizes)

    def lstm(self, scope: str, prefix: str, state: dict[str, np.ndarray]) -> None:
        weight_ih, weight_hh, bias = lstm_weights_from_tf(
            self.get(f"{scope}/kernel"), self.get(f"{scope}/bias")
        )
        state[prefix + "weight_ih_l0"] = weight_ih
        state[prefix + "weight_hh_l0"] = weight_hh
        state[prefix + "bias_ih_l0"] = bias
        state[prefix + "bias_hh_l0"] = np.zeros_like(bias)

    def lstm_stack(
        self, pattern: str, prefix: str, sizes: tuple[int, ...], state: dict[str, np.ndarray]
    ) -> None:
        for layer in range(len(sizes)):
            self.lstm(pattern.format(layer), f"{prefix}layers.{layer}.", state)

    def dense(self, scope: str, prefix: str, state: dict[str, np.ndarray]) -> None:
        state[f"{prefix}.weight"] = self.get(f"{scope}/kernel").T
        state[f"{prefix}.bias"] = self.get(f"{scope}/bias")

    def check_all_used(self) -> None:
        """Every model variable must have found its place."""
        left = [name for name in self.tensors if name not in self.used]
        if left:
            raise CheckpointError(f"{self.source}: variables the config does not use: {left}")
