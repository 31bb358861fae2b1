"""The model families, one row each: what a family serves and with which tools, how its
weights load and are found, where its generator is, and whether Google's magenta runs its
bundles. Code outside a family's package asks this table instead of spelling family names;
a new family is a package under bridge/models and one row here.

A row names its model class and generator module as text and imports them only when used,
so reading the table (`magenta-bridge client`, the OSC docs) never imports PyTorch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.checkpoints.v2_files import open_checkpoint
from bridge.models.music_vae.config import CONFIGS as VAE_CONFIGS

if TYPE_CHECKING:
    from bridge.models.generation import Generator

MAGENTA = "magenta.models."  # where Google's magenta keeps each family's generator


@dataclass(frozen=True)
class Family:
    name: str
    model: str | None  # "module:Class" of the native port; None: only through magenta
    content: str | None = None  # what it is made for; None: its MusicVAE config, or its name
    configs: tuple[str, ...] = ()  # the configs one must name (MusicVAE); empty: none
    tools: tuple[str, ...] = ("continue",)  # the tools (bridge/tools/registry.py) it serves
    generator: str | None = None  # its module of clip<->events code (bridge.models.generation)
    magenta: str | None = None  # magenta's module whose generator map reads its `.mag` bundles
    prefix_checkpoints: bool = False  # weights may be named by a TF checkpoint's prefix

    def load(self, path: Path, device: str, config: str | None = None) -> Any:
        """The native model on its device."""
        if self.model is None:
            raise ValueError(f"{self.name} runs only on Google's magenta (backend: magenta)")
        module, _, name = self.model.partition(":")
        cls = getattr(importlib.import_module(module), name)
        return cls.load(path, config, device) if self.configs else cls.load(path, device)

    def load_generator(self) -> Generator:
        """The module that continues clips with this family's models."""
        if self.generator is None:
            raise ValueError(f"{self.name} has no native generator (backend: magenta)")
        return cast("Generator", importlib.import_module(self.generator))

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
        Family(
            "melody_rnn",
            "bridge.models.melody_rnn.model:MelodyRnn",
            "melody",
            generator="bridge.models.melody_rnn.generator",
            magenta=MAGENTA + "melody_rnn.melody_rnn_sequence_generator",
        ),
        Family(
            "drums_rnn",
            "bridge.models.drums_rnn.model:DrumsRnn",
            "drums",
            generator="bridge.models.drums_rnn.generator",
            magenta=MAGENTA + "drums_rnn.drums_rnn_sequence_generator",
        ),
        Family("improv_rnn", None, magenta=MAGENTA + "improv_rnn.improv_rnn_sequence_generator"),
        Family(
            "polyphony_rnn",
            "bridge.models.polyphony_rnn.model:PolyphonyRnn",
            "polyphony",
            generator="bridge.models.polyphony_rnn.generator",
            magenta=MAGENTA + "polyphony_rnn.polyphony_sequence_generator",
        ),
        Family(
            "performance_rnn",
            "bridge.models.performance_rnn.model:PerformanceRnn",
            "performance",
            generator="bridge.models.performance_rnn.generator",
            magenta=MAGENTA + "performance_rnn.performance_sequence_generator",
        ),
        Family(
            "pianoroll_rnn_nade",
            None,
            magenta=MAGENTA + "pianoroll_rnn_nade.pianoroll_rnn_nade_sequence_generator",
        ),
        Family(
            "coconet",
            "bridge.models.coconet.model:Coconet",
            "polyphony",
            tools=("harmonize", "infill"),
        ),
        Family(
            "music_vae",
            "bridge.models.music_vae.model:MusicVae",
            configs=tuple(VAE_CONFIGS),
            tools=("generate", "interpolate", "vary", "groove", "drumify"),
            prefix_checkpoints=True,
        ),
    )
}
DEFAULT_FAMILY = "melody_rnn"  # what a config entry without `family` names


def native_families() -> tuple[str, ...]:
    """The families this package runs natively (read when asked: a test may add a row)."""
    return tuple(name for name, family in FAMILIES.items() if family.model is not None)


def magenta_families() -> tuple[str, ...]:
    """The families Google's magenta runs (backend: magenta)."""
    return tuple(name for name, family in FAMILIES.items() if family.magenta is not None)
