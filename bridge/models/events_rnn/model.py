"""What every loaded events-RNN family shares: its network on a device, ready to generate.

A family (MelodyRNN, DrumsRNN, ...) names its configs and encoder, and writes its own
`generate_batch`: how a request's primer becomes events and how many events to ask for.
Loading, the stepper, the teacher-forced softmax and the batched call of the sampler are
the same for all, as Magenta's EventSequenceRnnModel is.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

import numpy as np
import torch

from bridge.models.device import resolve_device
from bridge.models.events_rnn.checkpoint import EventsRnnFamily
from bridge.models.events_rnn.network import EventsRnnNetwork
from bridge.models.events_rnn.sampling import Extension, SamplingOptions, extend_batch
from bridge.models.events_rnn.steppers import Stepper, stepper_for
from bridge.models.events_rnn.texture import TextureRule

ConfigT = TypeVar("ConfigT")
PrimerT = TypeVar("PrimerT")


@dataclass(frozen=True)
class EventsGeneration(Generic[PrimerT]):
    """One primer to continue, with its own variations and sampling."""

    primer: PrimerT
    variations: int = 1
    options: SamplingOptions = field(default_factory=SamplingOptions)
    # Only these pitches may start or go on (families whose generator has PITCH_CONSTRAINTS).
    allowed_pitches: Collection[int] | None = None
    texture: TextureRule | None = None  # density and polyphony, on the primer's bar grid


class GriddedPrimer(Protocol):
    """A primer on a grid of steps per quarter note (drum tracks, polyphonic sequences)."""

    steps_per_quarter: int


@dataclass
class EventsRnn(ABC, Generic[ConfigT, PrimerT]):
    """A family's model: its config and network, on a device, with the fastest stepper there.

    Subclasses set `family` (configs, encoder, and so both checkpoint formats).
    """

    config: ConfigT
    network: EventsRnnNetwork
    device: torch.device
    load_seconds: float = 0.0
    stepper: Stepper = field(init=False)

    family: ClassVar[EventsRnnFamily[Any]]

    def __post_init__(self) -> None:
        self.stepper = stepper_for(self.network)

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> Self:
        """Load a `.mag` bundle or a native model onto a device, timing it (`load_seconds`)."""
        started = time.perf_counter()
        config, network = cls.family.load_checkpoint(path)
        target = resolve_device(device)
        network = network.to(target).eval()
        return cls(config, network, target, time.perf_counter() - started)

    @property
    def encoder(self) -> Any:
        """A fresh encoder of the config: cheap, and its states are per batch anyway."""
        return self.family.encoder_type(self.config)

    @torch.inference_mode()
    def softmax(self, events: np.ndarray) -> np.ndarray:
        """Teacher-forced next-event distribution at every position [T, classes]."""
        state = self.encoder.start(np.asarray(events)[None, :])
        logits, _ = self.network(torch.from_numpy(state.all_inputs).to(self.device))
        return torch.softmax(logits[0], dim=-1).cpu().numpy()

    def generate(
        self,
        primer: PrimerT,
        num_steps: int,
        variations: int = 1,
        options: SamplingOptions | None = None,
        progress: Callable[[int, int], None] | None = None,
        allowed_pitches: Collection[int] | None = None,
        texture: TextureRule | None = None,
    ) -> list[PrimerT]:
        """Continue `primer`, `variations` times in one batch (see `generate_batch`), with
        only `allowed_pitches` if given, and the `texture` if given."""
        request = EventsGeneration(
            primer, variations, options or SamplingOptions(), allowed_pitches, texture
        )
        return self.generate_batch([request], num_steps, progress)[0]

    @abstractmethod
    def generate_batch(
        self,
        requests: Sequence[EventsGeneration[PrimerT]],
        num_steps: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[list[PrimerT]]:
        """Several generations as batches of rows; each family says what a step is."""

    def extend(
        self,
        primers: Sequence[np.ndarray],
        num_events: int,
        extensions: Sequence[Extension],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[np.ndarray]:
        """`extend_batch` with this model's stepper and encoder, over equally long primers."""
        if len({len(primer) for primer in primers}) > 1:
            raise ValueError("primers generated in one batch must have the same number of events")
        return extend_batch(
            self.stepper, self.encoder, np.stack(primers), num_events, extensions, progress
        )


def check_steps_per_quarter(expected: int, primers: Iterable[GriddedPrimer]) -> None:
    """Refuse primers on another grid than the model's: the network knows only its own."""
    for primer in primers:
        if primer.steps_per_quarter != expected:
            raise ValueError(
                f"the model works at {expected} steps per quarter, "
                f"the primer at {primer.steps_per_quarter}"
            )
