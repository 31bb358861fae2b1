"""Models loaded once at start and kept on their device for every later request."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bridge.config import Config, ModelSpec
from bridge.models.registry import load_model


@dataclass(frozen=True)
class WarmModel:
    spec: ModelSpec
    model: Any
    device: str  # where it runs, e.g. "cpu" or "cuda:0"; one worker per device
    load_seconds: float


class WarmModels:
    """The configured models, loaded; looked up by name (None: the default)."""

    def __init__(self, models: dict[str, WarmModel], default: str):
        self._models = models
        self.default = default

    @classmethod
    def load(
        cls, config: Config, announce: Callable[[WarmModel], None] = lambda _: None
    ) -> WarmModels:
        """Load every configured model, calling `announce` after each (for the ready lines)."""
        models = {}
        for spec in config.models.values():
            started = time.perf_counter()
            model = load_model(spec)
            warm = WarmModel(spec, model, str(model.device), time.perf_counter() - started)
            models[spec.name] = warm
            announce(warm)
        return cls(models, config.default_model)

    def get(self, name: str | None) -> WarmModel | None:
        return self._models.get(name or self.default)

    def __iter__(self) -> Iterator[WarmModel]:
        return iter(self._models.values())

    def names(self) -> list[str]:
        return sorted(self._models)
