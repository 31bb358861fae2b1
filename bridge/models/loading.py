"""Loading a configured model through the family table, so callers never branch on model types."""

from __future__ import annotations

from typing import Any

from bridge.models.catalog import ModelSpec
from bridge.models.families import FAMILIES


def load_model(spec: ModelSpec) -> Any:
    """Load the weights a config entry names onto its device (or into magenta's worker)."""
    if spec.backend == "magenta":
        from bridge.models.magenta_backend.backend import MagentaBackend

        return MagentaBackend.load(spec)
    family = FAMILIES.get(spec.family)
    if family is None:
        raise ValueError(f"model {spec.name!r}: family {spec.family!r} cannot be loaded")
    return family.load(spec.path, spec.device, spec.config)
