"""Loading a configured model by family, so callers never branch on model types."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.config import ModelSpec
from bridge.models.melody_rnn.model import MelodyRnn

if TYPE_CHECKING:
    from bridge.models.drums_rnn.model import DrumsRnn
    from bridge.models.magenta_backend.backend import MagentaBackend


def load_model(spec: ModelSpec) -> MelodyRnn | DrumsRnn | MagentaBackend:
    """Load the weights a config entry names onto its device (or into magenta's worker)."""
    if spec.backend == "magenta":
        from bridge.models.magenta_backend.backend import MagentaBackend

        return MagentaBackend.load(spec)
    if spec.family == "melody_rnn":
        return MelodyRnn.load(spec.path, spec.device)
    if spec.family == "drums_rnn":
        from bridge.models.drums_rnn.model import DrumsRnn

        return DrumsRnn.load(spec.path, spec.device)
    raise ValueError(f"model {spec.name!r}: family {spec.family!r} cannot be loaded")
