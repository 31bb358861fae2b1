"""A loaded MelodyRNN: configuration, encoder and network on a device, ready to generate."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from bridge.models.device import resolve_device
from bridge.models.melody_rnn.checkpoint import load_checkpoint
from bridge.models.melody_rnn.config import MelodyRnnConfig
from bridge.models.melody_rnn.encoding import MelodyEncoder
from bridge.models.melody_rnn.network import MelodyRnnNetwork
from bridge.models.melody_rnn.sampling import SamplingOptions, extend_melodies
from bridge.models.melody_rnn.steppers import Stepper, stepper_for
from bridge.music.melody import Melody


@dataclass
class MelodyRnn:
    """Magenta's MelodyRnnModel, natively: squash into range, extend, transpose back."""

    config: MelodyRnnConfig
    network: MelodyRnnNetwork
    device: torch.device
    load_seconds: float = 0.0
    stepper: Stepper = field(init=False)

    def __post_init__(self) -> None:
        self.stepper = stepper_for(self.network)

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> MelodyRnn:
        """Load a `.mag` bundle or a native `.safetensors` model onto a device."""
        started = time.perf_counter()
        config, network = load_checkpoint(path)
        target = resolve_device(device)
        network = network.to(target).eval()
        return cls(config, network, target, time.perf_counter() - started)

    @property
    def encoder(self) -> MelodyEncoder:
        return MelodyEncoder(self.config)

    @torch.inference_mode()
    def softmax(self, events: np.ndarray) -> np.ndarray:
        """Teacher-forced next-event distribution at every position [T, classes]."""
        state = self.encoder.start(np.asarray(events)[None, :])
        logits, _ = self.network(torch.from_numpy(state.all_inputs).to(self.device))
        return torch.softmax(logits[0], dim=-1).cpu().numpy()

    def generate(
        self,
        primer: Melody,
        num_steps: int,
        variations: int = 1,
        options: SamplingOptions | None = None,
        allowed_pitches: Collection[int] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Melody]:
        """Continue `primer` by `num_steps` steps, `variations` times in one batch.

        As in Magenta, the primer is transposed toward C and into the model's pitch range
        first, and every result is transposed back. `allowed_pitches` (original pitches,
        e.g. a key's notes within a range) restricts which notes the model may start.
        """
        squashed, amount = primer.squash(
            self.config.min_note, self.config.max_note, self.config.transpose_to_key
        )
        allowed = None
        if allowed_pitches is not None:
            allowed = np.zeros(130, dtype=bool)
            allowed[:2] = True  # no event and note off are always allowed
            for pitch in allowed_pitches:
                shifted = pitch + amount
                if self.config.min_note <= shifted < self.config.max_note:
                    allowed[shifted + 2] = True
            if not allowed[2:].any():
                raise ValueError(
                    "none of the allowed pitches fall inside the model's range "
                    f"({self.config.min_note}-{self.config.max_note - 1} after "
                    f"transposing the clip by {amount})"
                )
        events = extend_melodies(
            self.stepper,
            self.encoder,
            squashed.events,
            num_steps,
            variations,
            options or SamplingOptions(),
            allowed,
            progress,
        )
        return [
            Melody(
                np.where(row >= 0, row - amount, row),
                primer.steps_per_quarter,
                primer.steps_per_bar,
            )
            for row in events
        ]
