"""Groove and Drumify: GrooVAE's tools, as Magenta Studio names them.

- `groove` humanizes a quantized drum clip with a humanize model (which reads only the hits):
  by default it keeps the clip's hits exactly. The decoder is fed the clip's hits instead of
  drawing its own, and each note of the clip, with its own pitch and length, takes the
  velocity and timing decoded for its step and drum. Magenta's TrainedModel and Magenta
  Studio's Groove decode freely, so the model may add or drop hits; `keep_hits=False` does that.
- `drumify` makes a drum part from any rhythm (a melody, tapped notes, a drum loop) with a tap
  model: the model reads only when something is played and how early or late, and draws its
  own drums.

Both draw codes from the posterior of each span of the clip, as magenta's TrainedModel.encode
does, with the spread scaled by `temperature` (1: magenta's; towards 0: the posterior mean,
which Magenta Studio decodes), and the model's hits are drawn at that temperature. All
variations and spans are decoded as one batch. Results keep the clip's length, tempo and meter.
"""

from __future__ import annotations

import numpy as np

from bridge.models.music_vae.config import MusicVaeConfig
from bridge.models.music_vae.groove_data import apply_groove, groove_clip
from bridge.models.music_vae.model import MusicVae, posterior_draws
from bridge.music.clip import Clip
from bridge.music.drums import NUM_DRUM_CLASSES
from bridge.music.errors import ClipError
from bridge.tools.latent import Progress

GROOVE_INPUTS = {"groove": "humanize", "drumify": "tap"}  # the model input each tool needs


def check_model(config: MusicVaeConfig, tool: str) -> None:
    """Refuse a model that does not read what the tool gives it."""
    wanted = GROOVE_INPUTS[tool]
    if config.data != "groove" or config.groove_input != wanted:
        raise ClipError(f"{tool} needs a GrooVAE {wanted} model; {config.name} is not one")


def groove(
    model: MusicVae,
    clip: Clip,
    variations: int,
    temperature: float,
    seed: int | None,
    keep_hits: bool = True,
    progress: Progress = None,
) -> list[Clip]:
    """`variations` humanized versions of a drum clip: new velocities and timing."""
    check_model(model.config, "groove")
    mu, sigma, chunks = model.encode(clip)
    z = posterior_draws(mu, sigma, variations, temperature, seed)
    hits = (
        np.tile(chunks.outputs[..., :NUM_DRUM_CLASSES], (variations, 1, 1)) if keep_hits else None
    )
    outputs = model.decode(z.reshape(-1, z.shape[-1]), temperature, seed, hits)
    results = [
        apply_groove(clip, rows) if keep_hits else groove_clip(rows, clip, chunks.kit, clip.length)
        for rows in np.split(outputs, variations)
    ]
    if progress is not None:
        progress(variations, variations)
    return results


def drumify(
    model: MusicVae,
    clip: Clip,
    variations: int,
    temperature: float,
    seed: int | None,
    progress: Progress = None,
) -> list[Clip]:
    """`variations` drum parts played to the clip's rhythm."""
    check_model(model.config, "drumify")
    mu, sigma, chunks = model.encode(clip)
    z = posterior_draws(mu, sigma, variations, temperature, seed)
    outputs = model.decode(z.reshape(-1, z.shape[-1]), temperature, seed)
    results = [
        groove_clip(rows, clip, chunks.kit, clip.length) for rows in np.split(outputs, variations)
    ]
    if progress is not None:
        progress(variations, variations)
    return results
