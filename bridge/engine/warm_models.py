"""Models loaded at start and kept on their device for every later request; a reload
loads what the config adds or changes without a restart. Where a model is loaded is the
loader's choice: this process by default, Ray Serve replicas with `serve --ray`
(bridge/engine/ray_serve), which the engine cannot tell apart."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.config import Config, Limits
from bridge.models.catalog import Catalog, ModelSpec
from bridge.models.loading import load_model
from bridge.music.clip import Clip
from bridge.music.content import Content
from bridge.tools.model_choice import choose_model
from bridge.tools.registry import Call, Progress, Tool


@dataclass(frozen=True)
class ToolRun:
    """What a tool run gave: one list of clips per call, and what the jobs' history should
    know about how it ran ("": nothing; a served model says when it had to run it twice)."""

    outputs: list[list[Clip]]
    note: str = ""


@dataclass(frozen=True)
class WarmModel:
    spec: ModelSpec
    model: Any
    device: str  # where it runs, e.g. "cpu" or "cuda:0"
    load_seconds: float
    workers: int = 1  # batches of its queue run at once: one per local device

    @property
    def queue(self) -> str:
        """The engine's queue for its jobs: one per device, shared by the models on it."""
        return self.device

    def run(self, tool: Tool, calls: Sequence[Call], limits: Limits, progress: Progress) -> ToolRun:
        """Run `tool` on this model, in this process."""
        return ToolRun(tool.run(self.model, self.spec, calls, limits, progress))


Loader = Callable[[ModelSpec], WarmModel]  # a model's spec -> the model, warm


@dataclass(frozen=True)
class Reloaded:
    """What a reload changed, by model name."""

    loaded: tuple[str, ...]  # new, or configured differently than before
    kept: tuple[str, ...]  # the same settings: the model already warm stays as it is
    # Models no longer served: gone from the config or replaced by a new load of the name.
    removed: tuple[WarmModel, ...]


class WarmModels:
    """The configured models, loaded; looked up by name, or chosen for a clip.

    The models and the catalog they came from are swapped together by `reload`, as one
    tuple, so a request on another thread sees either the old set or the new one."""

    def __init__(
        self, models: dict[str, WarmModel], catalog: Catalog, loader: Loader | None = None
    ):
        self._state = (models, catalog)
        self._reloading = threading.Lock()
        self._loader = loader or warm_here

    @classmethod
    def load(
        cls,
        config: Config,
        announce: Callable[[WarmModel], None] = lambda _: None,
        loader: Loader | None = None,
    ) -> WarmModels:
        """Load every installed model of the config with `loader` (default: in this process),
        calling `announce` after each (for the ready lines); reloads use the same loader."""
        catalog = Catalog.of(config)
        loader = loader or warm_here
        models = {}
        for spec in catalog.models.values():
            models[spec.name] = loader(spec)
            announce(models[spec.name])
        return cls(models, catalog, loader)

    @property
    def catalog(self) -> Catalog:
        return self._state[1]

    def reload(
        self, config: Config, announce: Callable[[WarmModel], None] = lambda _: None
    ) -> Reloaded:
        """Serve the models `config` names now: load the new and changed ones, keep the rest
        warm, drop the ones gone. All or nothing: if a model fails to load, the exception
        propagates and the models served before stay as they were."""
        with self._reloading:
            catalog = Catalog.of(config)
            before, _ = self._state
            models, loaded = {}, []
            for spec in catalog.models.values():
                current = before.get(spec.name)
                if current is not None and current.spec == spec:
                    models[spec.name] = current
                    continue
                try:
                    models[spec.name] = self._loader(spec)
                except Exception as error:  # any loader's failure, named for the client
                    raise RuntimeError(
                        f"model {spec.name!r} could not load from {spec.path}: {error}"
                    ) from error
                loaded.append(spec.name)
                announce(models[spec.name])
            self._state = (models, catalog)
        kept = tuple(name for name in models if name not in loaded)
        removed = tuple(warm for name, warm in before.items() if models.get(name) is not warm)
        return Reloaded(tuple(loaded), kept, removed)

    def get(self, name: str | None) -> WarmModel | None:
        """The named model (None: the default), or None if there is none of that name."""
        models, catalog = self._state
        return models.get(name or catalog.default_model)

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
        models, catalog = self._state
        if name:
            return models.get(name), "named in the request"
        first = clips[0] if clips else None
        spec, reason = choose_model(catalog, None, first, serves, content)
        return models[spec.name], reason

    def __iter__(self) -> Iterator[WarmModel]:
        return iter(self._state[0].values())

    def names(self) -> list[str]:
        return sorted(self._state[0])


def warm_here(spec: ModelSpec) -> WarmModel:
    """Load a model in this process, on its device."""
    started = time.perf_counter()
    model = load_model(spec)
    return WarmModel(spec, model, str(model.device), time.perf_counter() - started)
