"""Tools that move through a MusicVAE's latent space: generate, interpolate and vary.

Every result is decoded in one batch. A clip longer than the model's span is cut into spans
at bar lines (bridge.models.music_vae.data) and each span is moved on its own, then the spans
are joined again, as Magenta Studio does; two clips to interpolate are brought to the same
number of spans by silence at the end of the shorter one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from bridge.models.music_vae.data import Chunks
from bridge.models.music_vae.model import MusicVae, interpolation_path, neighbours
from bridge.music.clip import Clip
from bridge.music.errors import ClipError

Progress = Callable[[int, int], None] | None
SUPPORTED_DATA = ("melody", "drums")


def check_data(model_config_data: str, config_name: str) -> None:
    """Refuse, before any work, a model whose data these tools do not read yet."""
    if model_config_data not in SUPPORTED_DATA:
        raise ClipError(
            f"{config_name} models ({model_config_data}) are not served by generate, "
            "interpolate and vary yet; melody and drum MusicVAEs are"
        )


def generate(
    model: MusicVae,
    count: int,
    bars: int,
    temperature: float,
    seed: int | None,
    qpm: float = 120.0,
    progress: Progress = None,
) -> list[Clip]:
    """`count` clips of `bars` bars (rounded up to whole spans) sampled from the prior."""
    check_data(model.config.data, model.config.name)
    spans = -(-bars // model.config.bars)
    z = model.sample_prior(count * spans, seed)
    outputs = model.decode(z, temperature, seed)
    clips = _clips(model, outputs, spans, Clip((), float(spans * model.config.bars * 4), qpm))
    _done(progress, count)
    return clips


def interpolate(
    model: MusicVae,
    start: Clip,
    end: Clip,
    steps: int,
    spherical: bool,
    endpoints: bool,
    temperature: float,
    seed: int | None,
    progress: Progress = None,
) -> list[Clip]:
    """`steps` clips from `start` to `end` (the decoded endpoints among them if `endpoints`)."""
    check_data(model.config.data, model.config.name)
    length = max(start.length, end.length)
    (mu_start, _, chunks), (mu_end, _, _) = model.encode_many(
        [replace(start, length=length), replace(end, length=length)]
    )
    path = interpolation_path(mu_start, mu_end, steps if endpoints else steps + 2, spherical)
    if not endpoints:
        path = path[1:-1]
    outputs = model.decode(path.reshape(-1, path.shape[-1]), temperature, seed)
    clips = _clips(model, outputs, path.shape[1], start, chunks)
    _done(progress, steps)
    return clips


def vary(
    model: MusicVae,
    clip: Clip,
    variations: int,
    distance: float,
    temperature: float,
    seed: int | None,
    progress: Progress = None,
) -> list[Clip]:
    """`variations` clips decoded around the clip's code, `distance` away from it."""
    check_data(model.config.data, model.config.name)
    mu, _, chunks = model.encode(clip)
    points = neighbours(mu, variations, distance, seed)
    outputs = model.decode(points.reshape(-1, points.shape[-1]), temperature, seed)
    clips = _clips(model, outputs, mu.shape[0], clip, chunks)
    _done(progress, variations)
    return clips


def _clips(
    model: MusicVae, outputs: np.ndarray, spans: int, like: Clip, chunks: Chunks | None = None
) -> list[Clip]:
    """Decoded rows, `spans` per result, joined into one clip per result."""
    return [
        model.to_clip(outputs[start : start + spans], like, chunks)
        for start in range(0, len(outputs), spans)
    ]


def _done(progress: Progress, total: int) -> None:
    if progress is not None:
        progress(total, total)
