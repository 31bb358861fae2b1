"""The model families, one row each: what a family serves, how its weights load and are found,
and whether Google's magenta runs its bundles. Code outside a family's package asks this
table instead of spelling family names.

A row names its model class as text and imports it only when a model loads, so reading the
table (the config, `magenta-bridge client`) never imports PyTorch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.checkpoints.v2_files import open_checkpoint
from bridge.models.music_vae.config import CONFIGS as VAE_CONFIGS


@dataclass(frozen=True)
class Family:
    name: str
    model: str | None  # "module:Class" of the native port; None: only through magenta
    content: str | None = None  # what it is made for; None: its MusicVAE config, or its name
    configs: tuple[str, ...] = ()  # the configs one must name (MusicVAE); empty: none
    magenta: bool = False  # Google's magenta can run its `.mag` bundles (backend: magenta)
    prefix_checkpoints: bool = False  # weights may be named by a TF checkpoint's prefix

    def load(self, path: Path, device: str, config: str | None = None) -> Any:
        """The native model on its device."""
        if self.model is None:
            raise ValueError(f"{self.name} runs only on Google's magenta (backend: magenta)")
        module, _, name = self.model.partition(":")
        cls = getattr(importlib.import_module(module), name)
        return cls.load(path, config, device) if self.configs else cls.load(path, device)

    def content_of(self, config: str | None) -> str:
        """What a model of this family (and config) is made for."""
        if self.content is not None:
            return self.content
        data = VAE_CONFIGS[config].data if config in VAE_CONFIGS else self.name
        return "drums" if data == "groove" else data

    def installed(self, path: Path) -> bool:
        """Whether the weights are where the loader looks. A path that exists counts even if
        it is broken, so loading it says what is wrong instead of skipping it."""
        if path.exists():
            return True
        if not self.prefix_checkpoints:
            return False
        try:
            with open_checkpoint(path):
                return True
        except CheckpointError:
            return False


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family("melody_rnn", "bridge.models.melody_rnn.model:MelodyRnn", "melody", magenta=True),
        Family("drums_rnn", "bridge.models.drums_rnn.model:DrumsRnn", "drums", magenta=True),
        Family("improv_rnn", None, magenta=True),
        Family(
            "polyphony_rnn",
            "bridge.models.polyphony_rnn.model:PolyphonyRnn",
            "polyphony",
            magenta=True,
        ),
        Family(
            "performance_rnn",
            "bridge.models.performance_rnn.model:PerformanceRnn",
            "performance",
            magenta=True,
        ),
        Family("pianoroll_rnn_nade", None, magenta=True),
        Family(
            "music_vae",
            "bridge.models.music_vae.model:MusicVae",
            configs=tuple(VAE_CONFIGS),
            prefix_checkpoints=True,
        ),
    )
}
NATIVE_FAMILIES = tuple(name for name, family in FAMILIES.items() if family.model is not None)
MAGENTA_FAMILIES = tuple(name for name, family in FAMILIES.items() if family.magenta)
