"""Models loaded once at start and kept on their device for every later request."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.config import Config
from bridge.models.catalog import Catalog, ModelSpec
from bridge.models.loading import load_model
from bridge.music.clip import Clip
from bridge.music.content import Content
from bridge.tools.model_choice import choose_model


@dataclass(frozen=True)
class WarmModel:
    spec: ModelSpec
    model: Any
    device: str  # where it runs, e.g. "cpu" or "cuda:0"; one worker per device
    load_seconds: float


class WarmModels:
    """The configured models, loaded; looked up by name, or chosen for a clip."""

    def __init__(self, models: dict[str, WarmModel], catalog: Catalog):
        self._models = models
        self.catalog = catalog

    @classmethod
    def load(
        cls, config: Config, announce: Callable[[WarmModel], None] = lambda _: None
    ) -> WarmModels:
        """Load every installed model of the config, calling `announce` after each (for the
        ready lines)."""
        catalog = Catalog.of(config)
        models = {}
        for spec in catalog.models.values():
            started = time.perf_counter()
            model = load_model(spec)
            warm = WarmModel(spec, model, str(model.device), time.perf_counter() - started)
            models[spec.name] = warm
            announce(warm)
        return cls(models, catalog)

    def get(self, name: str | None) -> WarmModel | None:
        """The named model (None: the default), or None if there is none of that name."""
        return self._models.get(name or self.catalog.default_model)

    def choose(
        self,
        name: str | None,
        clips: Sequence[Clip],
        serves: Callable[[ModelSpec], bool] = lambda _: True,
        content: Content | None = None,
    ) -> tuple[WarmModel | None, str]:
        """The named model (None if unknown), or the one the config chooses for the first
        clip (else `content`) and the tool (`choose_model`); with the reason, which the
        client is told."""
        if name:
            return self.get(name), "named in the request"
        first = clips[0] if clips else None
        spec, reason = choose_model(self.catalog, None, first, serves, content)
        return self._models[spec.name], reason

    def __iter__(self) -> Iterator[WarmModel]:
        return iter(self._models.values())

    def names(self) -> list[str]:
        return sorted(self._models)
