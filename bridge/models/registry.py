"""Loading a configured model by family, so callers never branch on model types."""

from __future__ import annotations

from typing import Any

from bridge.config import ModelSpec
from bridge.models.melody_rnn.model import MelodyRnn


def load_model(spec: ModelSpec) -> Any:
    """Load the weights a config entry names onto its device (or into magenta's worker)."""
    if spec.backend == "magenta":
        from bridge.models.magenta_backend.backend import MagentaBackend

        return MagentaBackend.load(spec)
    if spec.family == "melody_rnn":
        return MelodyRnn.load(spec.path, spec.device)
    if spec.family == "drums_rnn":
        from bridge.models.drums_rnn.model import DrumsRnn

        return DrumsRnn.load(spec.path, spec.device)
    if spec.family == "polyphony_rnn":
        from bridge.models.polyphony_rnn.model import PolyphonyRnn

        return PolyphonyRnn.load(spec.path, spec.device)
    if spec.family == "performance_rnn":
        from bridge.models.performance_rnn.model import PerformanceRnn

        return PerformanceRnn.load(spec.path, spec.device)
    if spec.family == "music_vae" and spec.config:
        from bridge.models.music_vae.model import MusicVae

        return MusicVae.load(spec.path, spec.config, spec.device)
    raise ValueError(f"model {spec.name!r}: family {spec.family!r} cannot be loaded")
