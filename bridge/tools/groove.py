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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bridge.models.music_vae.config import MusicVaeConfig
from bridge.models.music_vae.groove_data import apply_groove, groove_clip
from bridge.models.music_vae.model import DecodeGroup, MusicVae, posterior_draws
from bridge.music.clip import Clip
from bridge.music.drums import DRUM_CLASS_NAMES, NUM_DRUM_CLASSES, DrumKit
from bridge.music.errors import ClipError
from bridge.music.quantize import STEPS_PER_QUARTER, quantize
from bridge.tools.latent import Progress

GROOVE_INPUTS = {"groove": "humanize", "drumify": "tap"}  # the model input each tool needs
KICK, SNARE = DRUM_CLASS_NAMES.index("kick"), DRUM_CLASS_NAMES.index("snare")


def check_model(config: MusicVaeConfig, tool: str) -> None:
    """Refuse a model that does not read what the tool gives it."""
    wanted = GROOVE_INPUTS[tool]
    if config.data != "groove" or config.groove_input != wanted:
        raise ClipError(f"{tool} needs a GrooVAE {wanted} model; {config.name} is not one")


@dataclass(frozen=True)
class DrumRequest:
    """One groove or drumify request: `variations` drum parts for `clip`. `keep_hits` (groove
    only) keeps the clip's hits; `backbone` sees to a kick and a snare in each bar the clip
    plays where the model draws the hits (`with_backbone`)."""

    clip: Clip
    variations: int
    temperature: float
    seed: int | None
    keep_hits: bool = False
    backbone: bool = True


def groove(
    model: MusicVae,
    clip: Clip,
    variations: int,
    temperature: float,
    seed: int | None,
    keep_hits: bool = True,
    progress: Progress = None,
    backbone: bool = True,
) -> list[Clip]:
    """`variations` humanized versions of a drum clip: new velocities and timing."""
    request = DrumRequest(clip, variations, temperature, seed, keep_hits, backbone)
    return drum_parts(model, "groove", [request], progress)[0]


def drumify(
    model: MusicVae,
    clip: Clip,
    variations: int,
    temperature: float,
    seed: int | None,
    progress: Progress = None,
    backbone: bool = True,
) -> list[Clip]:
    """`variations` drum parts played to the clip's rhythm."""
    request = DrumRequest(clip, variations, temperature, seed, False, backbone)
    return drum_parts(model, "drumify", [request], progress)[0]


def drum_parts(
    model: MusicVae, tool: str, requests: Sequence[DrumRequest], progress: Progress = None
) -> list[list[Clip]]:
    """Each groove or drumify request's drum parts; all requests encoded in one batch and
    decoded in another, each with its own seed's draws, so a request gets what it gets alone."""
    check_model(model.config, tool)
    encoded = model.encode_many([request.clip for request in requests], blocks=True)
    groups = []
    for request, (mu, sigma, chunks) in zip(requests, encoded, strict=True):
        count = request.variations
        z = posterior_draws(mu, sigma, count, request.temperature, request.seed)
        hits = np.tile(chunks.outputs[..., :NUM_DRUM_CLASSES], (count, 1, 1))
        groups.append(
            DecodeGroup(
                z.reshape(-1, z.shape[-1]),
                request.temperature,
                request.seed,
                hits if request.keep_hits else None,
            )
        )
    results = []
    for request, (_, _, chunks), outputs in zip(
        requests, encoded, model.decode_groups(groups), strict=True
    ):
        clip, count = request.clip, request.variations
        if request.keep_hits:
            results.append([apply_groove(clip, rows) for rows in np.split(outputs, count)])
        else:
            results.append(_drum_parts(outputs, count, clip, chunks.kit, request.backbone))
    if progress is not None:
        total = sum(request.variations for request in requests)
        progress(total, total)
    return results


def with_backbone(steps: np.ndarray, rhythm: Sequence[int], steps_per_bar: int) -> np.ndarray:
    """Decoded steps `[steps, 27]` with a kick and a snare in every bar where the rhythm plays:
    a bar without a kick gets one on its first played step, a bar without a snare one on the
    played step nearest a backbeat (beat 2 or 4; none if the bar plays only once). An added
    hit takes the model's timing for its step and at least the bar's median loudness. The
    model's own hits are all kept; nothing is added where the rhythm is silent."""
    steps = steps.copy()
    for start in range(0, len(steps), steps_per_bar):
        played = sorted(
            {step for step in rhythm if start <= step < min(len(steps), start + steps_per_bar)}
        )
        if not played:
            continue
        bar = steps[start : start + steps_per_bar]
        drummed = bar[:, :NUM_DRUM_CLASSES] > 0.5
        loudness = (
            np.median(bar[:, NUM_DRUM_CLASSES : 2 * NUM_DRUM_CLASSES][drummed])
            if drummed.any()
            else 0.7
        )
        if not drummed[:, KICK].any():
            _add_hit(steps, played[0], KICK, loudness)
        backbeats = (start + steps_per_bar // 4, start + 3 * steps_per_bar // 4)
        others = [step for step in played if not steps[step, KICK] > 0.5] or played[1:]
        if not drummed[:, SNARE].any() and len(played) > 1:
            nearest = min(others, key=lambda step: min(abs(step - beat) for beat in backbeats))
            _add_hit(steps, nearest, SNARE, loudness)
    return steps


def _add_hit(steps: np.ndarray, step: int, drum: int, loudness: float) -> None:
    steps[step, drum] = 1.0
    velocity = NUM_DRUM_CLASSES + drum
    steps[step, velocity] = max(steps[step, velocity], loudness)


def _drum_parts(
    outputs: np.ndarray, variations: int, clip: Clip, kit: DrumKit | None, backbone: bool
) -> list[Clip]:
    """Each variation's decoded spans as a drum clip of the clip's length, with its backbone."""
    rhythm = [note.start_step for note in quantize(clip, STEPS_PER_QUARTER).notes]
    steps_per_bar = round(clip.beats_per_bar * STEPS_PER_QUARTER)
    parts = []
    for rows in np.split(outputs, variations):
        steps = rows.reshape(-1, rows.shape[-1])
        if backbone:
            steps = with_backbone(steps, rhythm, steps_per_bar)
        parts.append(groove_clip(steps, clip, kit, clip.length))
    return parts
