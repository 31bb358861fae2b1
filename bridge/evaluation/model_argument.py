"""What a MODEL argument of `evaluate` or `compare` names: a configured model or a file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bridge.config import Config
from bridge.models.catalog import Catalog, ModelSpec
from bridge.models.families import FAMILIES

CHECKPOINT_SUFFIXES = (".mag", ".safetensors")


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
