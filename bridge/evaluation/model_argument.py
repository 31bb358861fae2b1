"""What a MODEL argument of `evaluate` or `compare` names: a configured model or a file,
and for `compare` any Continue controls after `@` (`controls.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from bridge.config import Config
from bridge.evaluation.controls import Controls, check_controls, parse_controls
from bridge.models.catalog import Catalog, ModelSpec
from bridge.models.families import FAMILIES

CHECKPOINT_SUFFIXES = (".mag", ".safetensors")
SEPARATOR = "@"  # between a model and its controls


@dataclass(frozen=True)
class ModelRow:
    """One model row of a comparison: the model, the controls it samples under, its label."""

    spec: ModelSpec
    controls: Controls = field(default_factory=Controls)
    label: str = ""  # as the argument was written (default: the model's name)

    @property
    def name(self) -> str:
        return self.label or self.spec.name


def model_row(argument: str, config: Config, device: str | None = None) -> ModelRow:
    """`MODEL` or `MODEL@name=value,...`: the model, and the controls checked against it as
    Continue checks a request (ValueError naming what is wrong)."""
    name, text = split_argument(argument)
    spec = model_spec(name, config, device)
    if text is None:
        return ModelRow(spec)
    controls = parse_controls(text, config.limits)
    check_controls(spec, controls, config.limits)
    return ModelRow(spec, controls, argument)


def split_argument(argument: str) -> tuple[str, str | None]:
    """A MODEL argument's model and its controls' text (None: no controls). Controls follow
    the last `@`; an argument ending as a checkpoint file does is all path."""
    model, at, controls = argument.rpartition(SEPARATOR)
    if not at or argument.endswith(CHECKPOINT_SUFFIXES):
        return argument, None
    if not model:
        raise ValueError(f"{argument!r}: name a model before {SEPARATOR!r}")
    return model, controls


def model_spec(name_or_path: str, config: Config, device: str | None = None) -> ModelSpec:
    """A configured model by name, or a `.mag` bundle or native `.safetensors` file by path
    (its family read from the file, its name the file's stem)."""
    path = Path(name_or_path)
    if path.suffix not in CHECKPOINT_SUFFIXES:
        spec = Catalog.of(config).model(name_or_path)
        return replace(spec, device=device) if device else spec
    if not path.is_file():
        raise OSError(f"model file {path} does not exist")
    config_name = None
    if path.suffix == ".safetensors":
        from bridge.models.checkpoints.native import read_native_meta

        meta = read_native_meta(path)
        family = str(meta.get("family"))
        if family in FAMILIES and FAMILIES[family].configs:
            config_name = str(meta.get("config"))
    else:
        from bridge.training.events_rnn.trainable import family_of_checkpoint

        family = family_of_checkpoint(path).checkpoints.name
    return ModelSpec(path.stem, family, path.resolve(), device or "auto", config=config_name)
