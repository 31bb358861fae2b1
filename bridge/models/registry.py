"""Loading a configured model by family, so callers never branch on model types."""

from __future__ import annotations

from bridge.config import ModelSpec
from bridge.models.melody_rnn.model import MelodyRnn


def load_model(spec: ModelSpec) -> MelodyRnn:
    """Load the weights a config entry names onto its device."""
    if spec.family == "melody_rnn":
        return MelodyRnn.load(spec.path, spec.device)
    raise ValueError(f"model {spec.name!r}: family {spec.family!r} cannot be loaded")
