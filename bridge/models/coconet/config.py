"""Coconet's hyperparameters, as magenta's lib_hparams defines and stores them.

A checkpoint folder (Google's `coconet-64layers-128filters`, or one `coconet_train` writes)
holds the TensorFlow checkpoint beside `config`: the YAML dump of the Hyperparameters object
it was trained with. `lib_hparams.load_hparams` reads it with `yaml.safe_load` over the class
defaults, and so does `read_config`; keys this port does not need (run directories, training
settings, `shortest_duration`) are read and ignored, as magenta sets them and never looks.
The architecture (`straight` or `dilated`) is turned into its list of layers exactly as
lib_hparams' Straight and Dilated classes list them, so the network and the checkpoint's
variable names follow from the config alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from bridge.models.checkpoints.errors import CheckpointError

CONFIG_FILE = "config"  # what lib_hparams.load_hparams opens inside a checkpoint folder
# Jsb16thSeparated, the data of every released Coconet: MIDI pitches 36-81, four voices
# (soprano, alto, tenor, bass), one step per 16th note.
JSB_MIN_PITCH = 36
JSB_MAX_PITCH = 81
JSB_VOICES = 4
ARCHITECTURES = ("straight", "dilated")


@dataclass(frozen=True)
class LayerSpec:
    """One convolution of the stack, as lib_hparams lists it."""

    kernel: tuple[int, int]  # (time, pitch)
    in_channels: int
    out_channels: int
    dilation: tuple[int, int] = (1, 1)
    relu: bool = True  # the last layer has no activation: its output are the logits


@dataclass(frozen=True)
class CoconetConfig:
    """lib_hparams.Hyperparameters' defaults and the fields that shape the model or its data.

    `mask_indicates_context` is False by default here, as in lib_hparams, although
    `coconet_train`'s flag defaults to True: a config file always says which it was.
    """

    architecture: str = "straight"
    num_layers: int = 28
    num_filters: int = 256
    use_residual: bool = True
    batch_norm: bool = True
    batch_norm_variance_epsilon: float = 1e-7
    use_sep_conv: bool = False
    sep_conv_depth_multiplier: int = 1
    num_initial_regular_conv_layers: int = 2
    num_pointwise_splits: int = 1
    interleave_split_every_n_layers: int = 1
    num_dilation_blocks: int = 3
    dilate_time_only: bool = False
    repeat_last_dilation_level: bool = False
    mask_indicates_context: bool = False
    min_pitch: int = JSB_MIN_PITCH
    max_pitch: int = JSB_MAX_PITCH
    num_instruments: int = JSB_VOICES
    separate_instruments: bool = True
    crop_piece_len: int = 64
    quantization_level: float = 0.125
    qpm: float = 60.0
    dataset: str | None = None

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise CheckpointError(
                f"Coconet architecture {self.architecture!r} is not one of {ARCHITECTURES}"
            )
        if self.min_pitch > self.max_pitch or self.num_instruments < 1 or self.num_filters < 1:
            raise CheckpointError(
                f"Coconet config has pitches {self.min_pitch}-{self.max_pitch}, "
                f"{self.num_instruments} instruments and {self.num_filters} filters"
            )
        if self.num_pointwise_splits != 1:
            raise CheckpointError(
                "Coconet configs with num_pointwise_splits > 1 are not supported (the split "
                "pointwise layers of separable convolutions are not ported)"
            )
        self.layers  # noqa: B018 - checks the architecture's own constraints

    @property
    def num_pitches(self) -> int:
        return self.max_pitch + 1 - self.min_pitch

    @property
    def input_depth(self) -> int:
        """Piano-roll channels and mask channels, one each per instrument."""
        return 2 * self.num_instruments

    @property
    def output_depth(self) -> int:
        return self.num_instruments if self.separate_instruments else 1

    @property
    def use_softmax(self) -> bool:
        """lib_hparams' use_softmax_loss: a softmax over pitch per voice (else sigmoids)."""
        return self.separate_instruments or self.num_instruments == 1

    @property
    def layers(self) -> tuple[LayerSpec, ...]:
        if self.architecture == "straight":
            return _straight(self)
        return _dilated(self)

    @property
    def name(self) -> str:
        """The architecture's name as lib_hparams gives it, e.g. "straight-64-128"."""
        return f"{self.architecture}-{len(self.layers)}-{self.num_filters}"

    def separable(self, index: int) -> bool:
        """Whether layer `index` is a depthwise-separable convolution (lib_graph's rule)."""
        return self.use_sep_conv and index >= self.num_initial_regular_conv_layers


def _straight(config: CoconetConfig) -> tuple[LayerSpec, ...]:
    if config.num_layers < 4:
        raise CheckpointError(f"a straight Coconet has at least 4 layers, not {config.num_layers}")
    filters = config.num_filters
    return (
        LayerSpec((3, 3), config.input_depth, filters),
        *[LayerSpec((3, 3), filters, filters)] * (config.num_layers - 3),
        LayerSpec((2, 2), filters, filters),
        LayerSpec((2, 2), filters, config.output_depth, relu=False),
    )


def _dilated(config: CoconetConfig) -> tuple[LayerSpec, ...]:
    """Blocks of 3x3 convolutions whose dilation doubles per layer up to what the piece
    length (time) and the pitch range allow."""
    if config.num_dilation_blocks < 1:
        raise CheckpointError("a dilated Coconet has at least one dilation block")
    top_time = math.ceil(math.log2(config.crop_piece_len)) - 1
    top_pitch = math.ceil(math.log2(config.num_pitches)) - 1
    top = max(top_time, top_pitch) + (1 if config.repeat_last_dilation_level else 0)
    filters = config.num_filters
    layers = [LayerSpec((3, 3), config.input_depth, filters)]
    for _ in range(config.num_dilation_blocks):
        for level in range(top + 1):
            time = 2 ** min(level, top_time)
            pitch = 1 if config.dilate_time_only else 2 ** min(level, top_pitch)
            layers.append(LayerSpec((3, 3), filters, filters, (time, pitch)))
    layers.append(LayerSpec((2, 2), filters, filters))
    layers.append(LayerSpec((2, 2), filters, config.output_depth, relu=False))
    return tuple(layers)


def read_config(folder: str | Path) -> CoconetConfig:
    """The config of a checkpoint folder: its `config` YAML over lib_hparams' defaults."""
    path = Path(folder) / CONFIG_FILE
    try:
        values = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise CheckpointError(f"cannot read Coconet config {path}: {error}") from error
    if not isinstance(values, dict):
        raise CheckpointError(f"{path} is not a Coconet config (a YAML mapping of hparams)")
    return config_from_dict(values, str(path))


def config_from_dict(values: dict[str, Any], source: str) -> CoconetConfig:
    """A config from stored hparams (YAML or the native JSON), checking their types and
    the legacy pitch fields magenta still checks (`pitch_ranges`, `num_pitches`)."""
    kwargs: dict[str, Any] = {}
    for field in fields(CoconetConfig):
        if field.name in values:
            kwargs[field.name] = _typed(values[field.name], field.name, source)
    try:
        config = CoconetConfig(**kwargs)
    except CheckpointError as error:
        raise CheckpointError(f"{source}: {error}") from error
    legacy_range = values.get("pitch_ranges")
    if legacy_range is not None and list(legacy_range) != [config.min_pitch, config.max_pitch]:
        raise CheckpointError(f"{source}: pitch_ranges {legacy_range} contradicts min/max_pitch")
    legacy_count = values.get("num_pitches")
    if legacy_count is not None and legacy_count != config.num_pitches:
        raise CheckpointError(f"{source}: num_pitches {legacy_count} contradicts min/max_pitch")
    return config


_TYPES: dict[str, type] = {
    field.name: type(field.default) for field in fields(CoconetConfig) if field.default is not None
}


def _typed(value: Any, name: str, source: str) -> Any:
    """`value` as the field's type; YAML's ints, floats and booleans are distinct already."""
    if name == "dataset":
        return None if value is None else str(value)
    kind = _TYPES[name]
    if kind is bool and isinstance(value, bool):
        return value
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is str and isinstance(value, str):
        return value
    raise CheckpointError(f"{source}: {name} is {value!r}, expected a {kind.__name__}")
