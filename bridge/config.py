"""The daemon's configuration: models, devices and limits, read from YAML.

Relative model paths are resolved against the folder holding the config file, so a
checkout works from any current directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO_ROOT / "config" / "default.yaml"
FAMILIES = ("melody_rnn",)


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the file and the setting."""


@dataclass(frozen=True)
class ModelSpec:
    """One model the daemon can load: where its weights are and what family reads them."""

    name: str
    family: str
    path: Path
    device: str = "auto"
    description: str = ""


@dataclass(frozen=True)
class Limits:
    """Upper bounds on what a client may ask for, so no request can exhaust the machine."""

    max_notes: int = 10_000
    max_bars: int = 64
    max_variations: int = 32
    max_beam_size: int = 16


@dataclass(frozen=True)
class Config:
    models: dict[str, ModelSpec]
    default_model: str
    device: str = "auto"
    limits: Limits = field(default_factory=Limits)
    source: Path | None = None

    def model(self, name: str | None) -> ModelSpec:
        """The named model, or the default one; unknown names list the known ones."""
        name = name or self.default_model
        if name not in self.models:
            known = ", ".join(sorted(self.models)) or "none"
            raise ConfigError(f"unknown model {name!r}; configured models: {known}")
        return self.models[name]


def load_config(path: str | Path | None = None) -> Config:
    """Read and check a YAML config (the bundled default when no path is given)."""
    path = Path(path) if path else DEFAULT_CONFIG
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except OSError as error:
        raise ConfigError(f"cannot read config {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"config {path} is not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise ConfigError(f"config {path} must be a mapping of settings")
    device = str(raw.get("device", "auto"))
    models = {}
    for name, entry in (raw.get("models") or {}).items():
        if not isinstance(entry, dict) or "path" not in entry:
            raise ConfigError(f"{path}: model {name!r} needs at least a 'path'")
        family = entry.get("family", "melody_rnn")
        if family not in FAMILIES:
            raise ConfigError(
                f"{path}: model {name!r} has unknown family {family!r} "
                f"(known: {', '.join(FAMILIES)})"
            )
        model_path = Path(entry["path"]).expanduser()
        if not model_path.is_absolute():
            model_path = (path.parent / model_path).resolve()
        models[name] = ModelSpec(
            name,
            family,
            model_path,
            str(entry.get("device", device)),
            str(entry.get("description", "")),
        )
    if not models:
        raise ConfigError(f"{path}: no models configured")
    default_model = str(raw.get("default_model", next(iter(models))))
    if default_model not in models:
        raise ConfigError(f"{path}: default_model {default_model!r} is not among the models")
    try:
        limits = Limits(**(raw.get("limits") or {}))
    except TypeError as error:
        raise ConfigError(f"{path}: bad limits section: {error}") from error
    return Config(models, default_model, device, limits, path)
