"""The configured models, checked against the family table: which ones load, which optional
ones are not installed, and which answers when a request names none.

The config only reads settings (`bridge.config.ModelEntry`); what a family is, what it serves
and where its weights are found is this table's knowledge, so the two never import each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bridge.models.families import DEFAULT_FAMILY, FAMILIES, magenta_families, native_families


class CatalogError(ValueError):
    """A configured model does not fit the family table; the message names it."""


@dataclass(frozen=True)
class ModelSpec:
    """One model the daemon can load: where its weights are and what family reads them."""

    name: str
    family: str
    path: Path
    device: str = "auto"
    description: str = ""
    backend: str = "native"  # "magenta": Google's own generator, in its own environment
    python: Path | None = None  # the magenta environment's python (backend: magenta only)
    optional: bool = False  # a missing file leaves the model out instead of stopping the daemon
    config: str | None = None  # a family with configs (MusicVAE): the checkpoint's config name

    @classmethod
    def of(cls, entry: Any) -> ModelSpec:
        """A config entry (any object with these fields), its family and config checked."""
        values = {f.name: getattr(entry, f.name) for f in fields(cls)}
        spec = cls(**{**values, "family": values["family"] or DEFAULT_FAMILY})
        spec.check()
        return spec

    def check(self) -> None:
        """Refuse a family the backend cannot run, or a config its family does not have."""
        known = magenta_families() if self.backend == "magenta" else native_families()
        if self.family not in known:
            raise CatalogError(
                f"model {self.name!r} has unknown family {self.family!r} for the {self.backend} "
                f"backend (known: {', '.join(known)})"
            )
        configs = FAMILIES[self.family].configs
        if bool(configs) != (self.config is not None):
            with_configs = " or ".join(n for n, f in FAMILIES.items() if f.configs)
            raise CatalogError(
                f"model {self.name!r}: 'config' names a {with_configs} model's config"
            )
        if self.config is not None and self.config not in configs:
            raise CatalogError(
                f"model {self.name!r} has unknown {self.family} config {self.config!r} "
                f"(known: {', '.join(configs)})"
            )

    @property
    def content(self) -> str:
        """What the model is made for: melody, drums, polyphony (or trio, performance)."""
        return FAMILIES[self.family].content_of(self.config)

    @property
    def installed(self) -> bool:
        """Whether the weights are there as the family's loader looks for them (a MusicVAE
        TensorFlow checkpoint may be named by its prefix, which is no file of its own)."""
        return FAMILIES[self.family].installed(self.path)


@dataclass(frozen=True)
class Catalog:
    """The models that load, the optional ones left out, and the choices among them."""

    models: dict[str, ModelSpec]
    default_model: str
    by_content: dict[str, str] = field(default_factory=dict)  # content -> model name
    missing: dict[str, ModelSpec] = field(default_factory=dict)  # optional, not installed

    @classmethod
    def of(cls, config: Any) -> Catalog:
        """The catalog of a `bridge.config.Config`; errors name its file."""
        where = f"{config.source}: " if config.source else ""
        try:
            return cls.from_entries(config.models, config.default_model, config.by_content)
        except CatalogError as error:
            raise CatalogError(f"{where}{error}") from None

    @classmethod
    def from_entries(
        cls, entries: Mapping[str, Any], default_model: str | None, by_content: Mapping[str, str]
    ) -> Catalog:
        """Entries by name; `default_model` None: the first one installed."""
        specs = {name: ModelSpec.of(entry) for name, entry in entries.items()}
        missing = {n: s for n, s in specs.items() if s.optional and not s.installed}
        models = {n: s for n, s in specs.items() if n not in missing}
        if not models:
            raise CatalogError("no models configured (or only optional ones not installed)")
        default_model = default_model or next(iter(models))
        if default_model not in models:
            raise CatalogError(f"default_model {default_model!r} is not among the models")
        return cls(models, default_model, dict(by_content), missing)

    def model(self, name: str | None) -> ModelSpec:
        """The named model, or the default one; unknown names list the known ones."""
        name = name or self.default_model
        if name in self.missing:
            spec = self.missing[name]
            hint = f" ({spec.description})" if spec.description else ""
            raise CatalogError(f"model {name!r} is not installed: {spec.path} does not exist{hint}")
        if name not in self.models:
            known = ", ".join(sorted(self.models)) or "none"
            raise CatalogError(f"unknown model {name!r}; configured models: {known}")
        return self.models[name]
