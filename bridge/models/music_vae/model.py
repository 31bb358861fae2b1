"""A loaded MusicVAE: encode clips to latent codes, decode codes to clips, and the moves
between them that the tools offer (sampling the prior, interpolating, varying).

Interpolation follows Magenta's Python (`TrainedModel.interpolate`): spherical between the
two posterior means, endpoints included; linear is what Magenta Studio does. Variations
decode points at a chosen distance around the clip's mean, in one batch; GrooVAE's tools
decode draws from the clip's posterior, as TrainedModel.encode returns them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np
import torch

from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.device import resolve_device
from bridge.models.music_vae.checkpoint import load_tf_checkpoint
from bridge.models.music_vae.chunks import Chunks
from bridge.models.music_vae.config import (
    DRUM_CLASSES_DEPTH,
    MELODY_DEPTH,
    MusicVaeConfig,
    config_named,
)
from bridge.models.music_vae.data import (
    FIRST_PITCH_CLASS,
    MAX_PITCH,
    MIN_PITCH,
    chunks_to_clip,
    clip_to_chunks,
)
from bridge.models.music_vae.native import load_native
from bridge.models.music_vae.network import Draws, MusicVaeNetwork
from bridge.models.music_vae.trio_data import (
    PITCH_RANGES,
    Trio,
    chunks_to_trio,
    trio_to_chunks,
)
from bridge.music.clip import Clip
from bridge.music.errors import ClipError

# Batches are padded to whole blocks of this many rows: a row in a part-filled block comes
# out of the CPU's kernels rounded differently, so a request would decode differently with
# other requests beside it than alone.
ROW_BLOCK = 8
MAX_DECODE_ROWS = 1024  # rows decoded at once, at most (see _slices)


@dataclass(frozen=True)
class DecodeGroup:
    """One request's codes in a decode batch, with what makes its draws its own: its seed,
    temperature, and the hits or pitches it was given (see MusicVae.decode)."""

    z: torch.Tensor  # [rows, z_size]
    temperature: float
    seed: int | None
    hits: np.ndarray | None = None
    allowed_pitches: Collection[int] | None = None


@dataclass
class MusicVae:
    config: MusicVaeConfig
    network: MusicVaeNetwork
    device: torch.device
    load_seconds: float = 0.0

    @classmethod
    def load(cls, path: str | Path, config_name: str, device: str = "auto") -> Self:
        """A TensorFlow checkpoint (folder, prefix or tar) or a native `.safetensors` model
        of the named config, on a device."""
        started = time.perf_counter()
        config = config_named(config_name)
        target = resolve_device(device)
        if Path(path).suffix in (".safetensors", ".json"):
            native_config, _, network = load_native(path)
            if native_config != config:
                raise CheckpointError(
                    f"{path}: a {native_config.name} model, configured as {config.name}"
                )
        else:
            network = load_tf_checkpoint(path, config)
        return cls(config, network.to(target).eval(), target, time.perf_counter() - started)

    @property
    def z_size(self) -> int:
        return self.network.encoder.mu.out_features

    def encode(self, clip: Clip | Trio) -> tuple[torch.Tensor, torch.Tensor, Chunks]:
        """Posterior mean and scale of each span of the clip (a trio for trio models):
        `[chunks, z_size]` each."""
        ((mu, sigma, chunks),) = self.encode_many([clip])
        return mu, sigma, chunks

    @torch.inference_mode()
    def encode_many(
        self, clips: Sequence[Clip] | Sequence[Trio], blocks: bool = False
    ) -> list[tuple[torch.Tensor, torch.Tensor, Chunks]]:
        """`encode` of several clips (or trios), in one pass of the encoder. With `blocks`, the
        batch is padded to whole blocks of ROW_BLOCK rows, so a clip's codes are the same
        whichever clips it is encoded with (what requests batched together need); a small
        batch costs up to twice as much so."""
        chunks = [self._chunks(clip) for clip in clips]
        inputs = np.concatenate([c.inputs for c in chunks])
        if blocks:
            inputs = _whole_blocks(inputs)
        lengths = torch.full((len(inputs),), inputs.shape[1])
        mu, sigma = self.network.encoder(torch.from_numpy(inputs).to(self.device), lengths)
        ends = np.cumsum([len(c.inputs) for c in chunks]).tolist()
        return list(
            zip(
                torch.tensor_split(mu, ends)[:-1],
                torch.tensor_split(sigma, ends)[:-1],
                chunks,
                strict=True,
            )
        )

    def decode(
        self,
        z: torch.Tensor,
        temperature: float = 0.5,
        seed: int | None = None,
        hits: np.ndarray | None = None,
        allowed_pitches: Collection[int] | None = None,
    ) -> np.ndarray:
        """Sampled outputs `[len(z), steps, depth]` for latent codes (one span each); a
        groove model given `hits` `[len(z), steps, 9]` plays those and adds the rest; a
        melody or trio model given `allowed_pitches` starts notes only at those (a key lock:
        `allowed_classes`)."""
        group = DecodeGroup(z, temperature, seed, hits, allowed_pitches)
        (outputs,) = self.decode_groups([group], blocks=False)
        return outputs

    @torch.inference_mode()
    def decode_groups(
        self, groups: Sequence[DecodeGroup], blocks: bool = True
    ) -> Iterator[np.ndarray]:
        """`decode` of several requests' codes in batches of up to MAX_DECODE_ROWS rows, each
        group's outputs in turn, decoded as the caller takes them (so what is held at once
        stays bounded). A group's outputs are what it gets decoded alone or beside any others:
        its own seed's draws, in the same order, and with `blocks` every batch padded to
        whole blocks of ROW_BLOCK rows."""
        for group in groups:
            if group.temperature <= 0:
                raise ValueError(f"temperature must be positive, got {group.temperature:g}")
            if group.hits is not None and self.config.decoder != "groove":
                raise ValueError(f"{self.config.name} decodes no drum hits to be given")
        for part in _slices(groups):
            yield from self._decode(part, blocks)

    def _decode(self, groups: Sequence[DecodeGroup], blocks: bool) -> list[np.ndarray]:
        """One batch of `decode_groups`."""
        padding = -sum(len(group.z) for group in groups) % ROW_BLOCK if blocks else 0
        if padding:  # rows of their own, drawing from a generator of their own
            zeros = torch.zeros(padding, self.z_size, device=self.device)
            groups = [*groups, DecodeGroup(zeros, 1.0, 0)]
        draws = self._draws(groups)
        z = torch.cat([group.z.to(self.device) for group in groups])
        outputs = self.network.decoder.sample(z, self.config.max_seq_len, draws).cpu().numpy()
        ends = np.cumsum([len(group.z) for group in groups]).tolist()
        return np.split(outputs, ends)[: len(ends) - bool(padding)]

    def _draws(self, groups: Sequence[DecodeGroup]) -> Draws:
        """The groups' generators and settings, row by row, on the model's device."""
        device = self.device
        generators = []
        for group in groups:
            generator = torch.Generator(device)
            generator.manual_seed(group.seed if group.seed is not None else torch.seed())
            generators.append(generator)
        temperature = torch.cat(
            [torch.full((len(group.z), 1), group.temperature) for group in groups]
        ).to(device)
        allowed = None
        if any(group.allowed_pitches is not None for group in groups):
            rows = []
            for group in groups:
                pitches = group.allowed_pitches
                mask = (
                    np.ones(self.config.output_depth, dtype=bool)
                    if pitches is None
                    else allowed_classes(self.config, pitches)
                )
                rows.append(np.tile(mask, (len(group.z), 1)))
            allowed = torch.from_numpy(np.concatenate(rows)).to(device)
        hits = [None if g.hits is None else torch.from_numpy(g.hits).to(device) for g in groups]
        sizes = [len(group.z) for group in groups]
        return Draws(sizes, generators, temperature, allowed, hits)

    def sample_prior(self, count: int, seed: int | None = None) -> torch.Tensor:
        """`count` codes from the standard normal prior."""
        generator = torch.Generator().manual_seed(seed if seed is not None else torch.seed())
        return torch.randn(count, self.z_size, generator=generator).to(self.device)

    def to_clip(
        self, outputs: np.ndarray, like: Clip | Trio, chunks: Chunks | None = None
    ) -> Clip | Trio:
        """Decoded spans joined into one clip (a trio for trio models) with `like`'s tempo
        and meter (and kit)."""
        kit = chunks.kit if chunks else None
        if self.config.data == "trio":
            return chunks_to_trio(outputs, like, kit)
        if isinstance(like, Trio):
            raise ClipError(f"{self.config.name} writes one clip, not a trio")
        return chunks_to_clip(outputs, self.config, like, kit)

    def _chunks(self, clip: Clip | Trio) -> Chunks:
        """What the encoder reads: a trio model needs the three parts, the others one clip."""
        if self.config.data == "trio":
            if not isinstance(clip, Trio):
                raise ClipError(
                    f"{self.config.name} reads trios (melody, bass and drums together), "
                    "not a single clip"
                )
            return trio_to_chunks(clip, self.config)
        if isinstance(clip, Trio):
            raise ClipError(f"{self.config.name} reads one clip, not a trio")
        return clip_to_chunks(clip, self.config)


def allowed_classes(config: MusicVaeConfig, pitches: Collection[int]) -> np.ndarray:
    """The output classes a key lock leaves a decoder (`[output_depth]` booleans), so results
    are in key by construction: a melody, or a trio's melody and bass, each only at the
    allowed pitches within its own range; a trio's drums are free. ClipError for data with
    no pitches to lock, or when the pitches leave a part nothing to play."""
    if config.data == "melody":
        return _pitched_classes(pitches, {"melody": (MIN_PITCH, MAX_PITCH)})
    if config.data == "trio":
        drums = np.ones(DRUM_CLASSES_DEPTH, dtype=bool)
        return np.concatenate([_pitched_classes(pitches, PITCH_RANGES), drums])
    raise ClipError(
        f"a key and pitch range apply to melody and trio MusicVAEs; {config.name} is not one"
    )


def _pitched_classes(pitches: Collection[int], ranges: Mapping[str, tuple[int, int]]) -> np.ndarray:
    """The melody classes of each part in `ranges` (name: lowest, highest pitch), side by
    side; ClipError naming every part the pitches leave silent, rather than a part that
    could only rest."""
    masks = {part: _melody_classes(pitches, low, high) for part, (low, high) in ranges.items()}
    empty = [
        f"{part} range {low}-{high}"
        for part, (low, high) in ranges.items()
        if not masks[part][FIRST_PITCH_CLASS:].any()
    ]
    if empty:
        raise ClipError(f"no allowed pitch lies in the {' or the '.join(empty)}")
    return np.concatenate(list(masks.values()))


def _melody_classes(pitches: Collection[int], low: int, high: int) -> np.ndarray:
    """One part's 90 melody classes: no event and note off always (the part may rest and end
    its notes), a pitch only if allowed and within `low`-`high`."""
    allowed = np.zeros(MELODY_DEPTH, dtype=bool)
    allowed[:FIRST_PITCH_CLASS] = True
    for pitch in pitches:
        if max(low, MIN_PITCH) <= pitch <= min(high, MAX_PITCH):
            allowed[pitch - MIN_PITCH + FIRST_PITCH_CLASS] = True
    return allowed


def interpolation_path(
    start: torch.Tensor, end: torch.Tensor, steps: int, spherical: bool = True
) -> torch.Tensor:
    """`steps` codes from `start` to `end`, both included: `[steps, *start.shape]`.

    Spherical as Magenta's TrainedModel (slerp on the means, linear where they are parallel).
    """
    if steps < 2:
        raise ClipError(f"an interpolation needs at least 2 steps, got {steps}")
    fractions = torch.linspace(0.0, 1.0, steps, dtype=start.dtype, device=start.device)
    if not spherical:
        return torch.stack([(1 - t) * start + t * end for t in fractions])
    flat_start, flat_end = start.reshape(-1, start.shape[-1]), end.reshape(-1, end.shape[-1])
    cosine = (flat_start * flat_end).sum(-1) / (
        flat_start.norm(dim=-1) * flat_end.norm(dim=-1)
    ).clamp_min(1e-12)
    omega = torch.arccos(cosine.clamp(-1.0, 1.0))[:, None]
    points = []
    for t in fractions:
        if float(omega.abs().min()) < 1e-6:
            point = (1 - t) * flat_start + t * flat_end
        else:
            point = (
                torch.sin((1 - t) * omega) * flat_start + torch.sin(t * omega) * flat_end
            ) / torch.sin(omega)
        points.append(point.reshape(start.shape))
    return torch.stack(points)


def neighbours(
    mu: torch.Tensor, count: int, distance: float, seed: int | None = None
) -> torch.Tensor:
    """`count` codes at `distance` (in standard deviations of the prior, along a random
    direction per variation) from each of `mu`'s rows: `[count, *mu.shape]`."""
    if distance < 0 or not math.isfinite(distance):
        raise ClipError(f"distance must be a non-negative number, got {distance:g}")
    generator = torch.Generator().manual_seed(seed if seed is not None else torch.seed())
    directions = torch.randn(count, *mu.shape, generator=generator).to(mu.device)
    directions = directions / directions.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return mu[None] + distance * math.sqrt(mu.shape[-1]) * directions


def posterior_draws(
    mu: torch.Tensor, sigma: torch.Tensor, count: int, scale: float, seed: int | None = None
) -> torch.Tensor:
    """`count` codes drawn around each of `mu`'s rows from the posterior, its spread scaled
    by `scale` (1: magenta's TrainedModel.encode; 0: the mean): `[count, *mu.shape]`."""
    if scale < 0 or not math.isfinite(scale):
        raise ClipError(f"the posterior's scale must be a non-negative number, got {scale:g}")
    generator = torch.Generator().manual_seed(seed if seed is not None else torch.seed())
    noise = torch.randn(count, *mu.shape, generator=generator).to(mu.device)
    return mu[None] + scale * sigma[None] * noise


def _slices(groups: Sequence[DecodeGroup]) -> list[list[DecodeGroup]]:
    """The groups in consecutive batches of at most MAX_DECODE_ROWS rows, which bound what a
    decode holds at once (its noise and outputs: 64 MB each at 1,024 rows of 32 steps and 512
    classes); a larger group is a batch of its own, since its draws are drawn as one."""
    slices: list[list[DecodeGroup]] = [[]]
    rows = 0
    for group in groups:
        if slices[-1] and rows + len(group.z) > MAX_DECODE_ROWS:
            slices.append([])
            rows = 0
        slices[-1].append(group)
        rows += len(group.z)
    return slices


def _whole_blocks(rows: np.ndarray) -> np.ndarray:
    """`rows` padded with zero rows to whole blocks of ROW_BLOCK."""
    padding = np.zeros((-len(rows) % ROW_BLOCK, *rows.shape[1:]), rows.dtype)
    return np.concatenate([rows, padding])
