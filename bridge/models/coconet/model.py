"""A loaded Coconet: its probabilities for piano rolls and masks, and Gibbs sampling.

Piano rolls and masks are numpy arrays [batch, time, pitch, voice] (pianoroll.py,
masks.py); rows of a batch are independent (variations). What clips mean as voices is
generator.py's business.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np
import torch

from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.coconet.checkpoint import load_tf_checkpoint
from bridge.models.coconet.config import CoconetConfig
from bridge.models.coconet.masks import completion_mask, harmonization_mask
from bridge.models.coconet.native import SUFFIXES, load_native, save_native
from bridge.models.coconet.network import CoconetNetwork
from bridge.models.coconet.sampling import Progress, Uniforms, gibbs, torch_uniforms
from bridge.models.device import resolve_device, subnormals_flushed

DEFAULT_TEMPERATURE = 0.99  # coconet_sample's


@dataclass
class Coconet:
    config: CoconetConfig
    network: CoconetNetwork
    device: str
    load_seconds: float = 0.0

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> Self:
        """A checkpoint folder as Google ships one (`config` beside a V2 checkpoint), or a
        native `.safetensors` / `.json` model, on a device ("auto": CUDA, MPS, CPU)."""
        started = time.perf_counter()
        target = resolve_device(device)
        if Path(path).suffix in SUFFIXES:
            config, network = load_native(path)
        else:
            config, network = load_tf_checkpoint(path)
        if not config.separate_instruments:
            raise CheckpointError(
                f"{path}: a Coconet over one merged piano roll (separate_instruments false); "
                "only separate voices, as in every released Coconet, are served"
            )
        network = network.to(target).eval()
        return cls(config, network, str(target), time.perf_counter() - started)

    def save(self, path: str | Path, half: bool = False) -> Path:
        """Write the native format (safetensors + JSON); returns the weights path."""
        return save_native(self.config, self.network, path, half)

    def shape(self, batch: int, steps: int) -> tuple[int, int, int, int]:
        """The [batch, time, pitch, voice] shape of rolls this model takes."""
        return batch, steps, self.config.num_pitches, self.config.num_instruments

    @torch.inference_mode()
    def predict(self, pianorolls: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """lib_graph's predictions, teacher-forced: for every position, the distribution of
        its pitch (softmax over pitch per voice and step) given the unmasked context."""
        rolls, masks_ = self._tensors(pianorolls, masks)
        with subnormals_flushed():
            logits = self.network(rolls, masks_)
        return self.network.predictions(logits).float().cpu().numpy()

    @torch.inference_mode()
    def sample(
        self,
        pianorolls: np.ndarray,
        masks: np.ndarray,
        temperature: float = DEFAULT_TEMPERATURE,
        seed: int | None = None,
        steps: int | None = None,
        progress: Progress | None = None,
        *,
        initial_fill: bool = True,
        uniforms: Uniforms | None = None,
        allowed: np.ndarray | None = None,
    ) -> np.ndarray:
        """Fill the masked positions by Gibbs sampling (sampling.py); the rest is kept.

        `steps` are the Gibbs steps after one model evaluation fills every masked position
        (None: coconet_sample's default, `time x voices`); each is one pass of the network.
        Rows are sampled together as one batch; a seed gives the same rolls again on the
        same device. `initial_fill=False` and `uniforms` (e.g. sampling.numpy_uniforms)
        run lib_sampling's numpy GibbsSampler instead, which replays magenta's own draws.
        `allowed` ([pitch] booleans over the model's pitches) keeps sampled notes to those
        pitches (a key lock); the context keeps whatever it has."""
        _check_temperature(temperature)
        if steps is not None and (
            isinstance(steps, bool) or not isinstance(steps, int) or steps < 0
        ):
            raise ValueError(f"Gibbs steps must be a whole number from 0, not {steps!r}")
        rolls, masks_ = self._tensors(pianorolls, masks)
        if uniforms is None:
            uniforms = torch_uniforms(seed, torch.device(self.device))
        mask = None if allowed is None else self._allowed(allowed)
        with subnormals_flushed():
            filled = gibbs(
                self.network,
                rolls,
                masks_,
                temperature,
                uniforms,
                steps,
                initial_fill,
                progress,
                mask,
            )
        return filled.cpu().numpy().astype(np.float32)

    def harmonize(self, pianorolls: np.ndarray, **options) -> np.ndarray:
        """Keep the first voice (a melody: lib_sampling's HarmonizationMasker) and sample
        the others; `options` as for `sample`."""
        return self.sample(pianorolls, harmonization_mask(np.shape(pianorolls)), **options)

    def complete(
        self, pianorolls: np.ndarray, masks: np.ndarray | None = None, **options
    ) -> np.ndarray:
        """Fill the masked part, by default every silent (step, voice) (CompletionMasker,
        what coconet_sample does with a MIDI primer); `options` as for `sample`."""
        masks = completion_mask(pianorolls) if masks is None else masks
        return self.sample(pianorolls, masks, **options)

    def _allowed(self, allowed: np.ndarray) -> torch.Tensor:
        allowed = np.asarray(allowed, dtype=bool)
        if allowed.shape != (self.config.num_pitches,) or not allowed.any():
            raise ValueError(
                f"allowed pitches must be {self.config.num_pitches} booleans, some true"
            )
        return torch.as_tensor(allowed, device=torch.device(self.device))

    def _tensors(self, pianorolls: np.ndarray, masks: np.ndarray) -> tuple[torch.Tensor, ...]:
        rolls, masks = np.asarray(pianorolls), np.asarray(masks)
        expected = self.config.num_pitches, self.config.num_instruments
        if rolls.ndim != 4 or rolls.shape[2:] != expected or rolls.shape != masks.shape:
            raise ValueError(
                f"piano rolls {rolls.shape} and masks {masks.shape} must both be "
                f"[batch, time, {expected[0]}, {expected[1]}]"
            )
        if rolls.shape[0] < 1 or rolls.shape[1] < 1:
            raise ValueError(f"piano rolls {rolls.shape} hold no step")
        device = torch.device(self.device)
        return (
            torch.as_tensor(rolls, dtype=torch.float32, device=device),
            torch.as_tensor(masks, dtype=torch.float32, device=device),
        )


def _check_temperature(temperature: float) -> None:
    if not isinstance(temperature, int | float) or not np.isfinite(temperature):
        raise ValueError(f"temperature {temperature!r} is not a number")
    if temperature < 0:
        raise ValueError(f"temperature {temperature:g} is negative")
