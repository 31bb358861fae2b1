"""A loaded DrumsRNN: configuration, encoder and network on a device, ready to generate.

Generation reuses MelodyRNN's sampler (temperature, beam search, batched variations) and
its steppers: only the encoder differs between the two families.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from bridge.models.device import resolve_device
from bridge.models.drums_rnn.checkpoint import load_bundle
from bridge.models.drums_rnn.config import DrumsRnnConfig
from bridge.models.drums_rnn.encoding import DrumEncoder
from bridge.models.melody_rnn.network import MelodyRnnNetwork
from bridge.models.melody_rnn.sampling import Extension, SamplingOptions, extend_batch
from bridge.models.melody_rnn.steppers import Stepper, stepper_for
from bridge.music.drums import DrumTrack


@dataclass(frozen=True)
class DrumGeneration:
    """One primer to continue, with its own variations and sampling."""

    primer: DrumTrack
    variations: int = 1
    options: SamplingOptions = field(default_factory=SamplingOptions)


@dataclass
class DrumsRnn:
    """Magenta's DrumsRnnModel, natively."""

    config: DrumsRnnConfig
    network: MelodyRnnNetwork
    device: torch.device
    load_seconds: float = 0.0
    stepper: Stepper = field(init=False)

    def __post_init__(self) -> None:
        self.stepper = stepper_for(self.network)

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> DrumsRnn:
        """Load a drum_kit `.mag` bundle onto a device."""
        started = time.perf_counter()
        config, network = load_bundle(path)
        target = resolve_device(device)
        network = network.to(target).eval()
        return cls(config, network, target, time.perf_counter() - started)

    @property
    def encoder(self) -> DrumEncoder:
        return DrumEncoder(self.config)

    @torch.inference_mode()
    def softmax(self, events: np.ndarray) -> np.ndarray:
        """Teacher-forced next-step distribution at every position [T, classes]."""
        state = self.encoder.start(np.asarray(events)[None, :])
        logits, _ = self.network(torch.from_numpy(state.all_inputs).to(self.device))
        return torch.softmax(logits[0], dim=-1).cpu().numpy()

    def generate(
        self,
        primer: DrumTrack,
        num_steps: int,
        variations: int = 1,
        options: SamplingOptions | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[DrumTrack]:
        """Continue `primer` by `num_steps` steps, `variations` times in one batch.

        Each result holds the primer followed by the new steps, as Magenta's do.
        """
        request = DrumGeneration(primer, variations, options or SamplingOptions())
        return self.generate_batch([request], num_steps, progress)[0]

    def generate_batch(
        self,
        requests: Sequence[DrumGeneration],
        num_steps: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[list[DrumTrack]]:
        """Several generations of equally long primers as one batch (see `extend_batch`)."""
        if len({len(request.primer) for request in requests}) > 1:
            raise ValueError("primers generated in one batch must have the same length")
        for request in requests:
            if request.primer.steps_per_quarter != self.config.steps_per_quarter:
                raise ValueError(
                    f"the model works at {self.config.steps_per_quarter} steps per quarter, "
                    f"the primer at {request.primer.steps_per_quarter}"
                )
        rows = extend_batch(
            self.stepper,
            self.encoder,
            np.stack([request.primer.events for request in requests]),
            num_steps,
            [Extension(request.variations, request.options) for request in requests],
            progress,
        )
        return [
            [replace(request.primer, events=events) for events in request_rows]
            for request, request_rows in zip(requests, rows, strict=True)
        ]
