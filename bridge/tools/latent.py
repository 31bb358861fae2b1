"""Tools that move through a MusicVAE's latent space: generate, interpolate and vary.

Every result is decoded in one batch. A clip longer than the model's span is cut into spans
at bar lines (bridge.models.music_vae.data) and each span is moved on its own, then the spans
are joined again, as Magenta Studio does; results keep the clip's length (a 3-bar clip on a
2-bar model comes back 3 bars long, not 4), and generate gives the bars asked. Of two clips to
interpolate, the shorter is looped to the longer's length. A trio model reads and writes trios
(bridge.models.music_vae.trio_data) where the others read clips: three parts per input, which
the command line reads from multi-track MIDI files and the daemon, whose requests carry one clip
per input, does not take.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from bridge.models.music_vae.chunks import Chunks
from bridge.models.music_vae.model import (
    DecodeGroup,
    MusicVae,
    interpolation_path,
    neighbours,
)
from bridge.models.music_vae.trio_data import Trio
from bridge.music.clip import Clip
from bridge.music.errors import ClipError
from bridge.tools.pitch_lock import pitch_lock

Progress = Callable[[int, int], None] | None
Piece = Clip | Trio  # what a model reads and writes: a clip, or a trio for trio models
REDRAWS = 8  # further draws for variations that repeat the clip or each other
SEED_STRIDE = 7919  # a redraw's seed: the request's plus this times the draw


def check_clip_inputs(model_config_data: str, config_name: str) -> None:
    """Refuse trio models for requests that carry one clip per input (the daemon's): a trio is
    three parts, which only the command line reads (from multi-track MIDI files)."""
    if model_config_data == "trio":
        raise ClipError(
            f"{config_name} models read trios (melody, bass and drums together), three parts "
            "per input, and a request over OSC carries one clip per input, so the daemon does "
            "not serve them; use the command line with multi-track MIDI files, e.g. "
            "magenta-bridge vary song.mid --model NAME -o out/"
        )


def generate(
    model: MusicVae,
    count: int,
    bars: int,
    temperature: float,
    seed: int | None,
    qpm: float = 120.0,
    progress: Progress = None,
    allowed_pitches: Collection[int] | None = None,
) -> list[Piece]:
    """`count` clips (or trios) of `bars` 4/4 bars (0: the model's span) sampled from the
    prior (whole spans, the last cut to the bars asked); a melody model's notes only at
    `allowed_pitches` if given (MusicVae.decode)."""
    bars = bars or model.config.bars
    spans = -(-bars // model.config.bars)
    z = model.sample_prior(count * spans, seed)
    outputs = model.decode(z, temperature, seed, allowed_pitches=allowed_pitches)
    like = Clip((), float(spans * model.config.bars * 4), qpm)
    clips = _clips(model, outputs, spans, like, length=4.0 * bars)
    _done(progress, count)
    return clips


def interpolate(
    model: MusicVae,
    start: Piece,
    end: Piece,
    steps: int,
    spherical: bool,
    endpoints: bool,
    temperature: float,
    seed: int | None,
    progress: Progress = None,
    allowed_pitches: Collection[int] | None = None,
) -> list[Piece]:
    """`steps` clips from `start` to `end` (the decoded endpoints among them if `endpoints`),
    `allowed_pitches` as for `generate`.

    Clips of unequal length meet at the longer one's: the shorter clip is looped to it, as a
    DAW loops a clip (see `looped`), so no span of the path is interpolated from silence."""
    length = max(start.length, end.length)
    (mu_start, _, chunks), (mu_end, _, _) = model.encode_many(
        [looped(start, length), looped(end, length)]
    )
    path = interpolation_path(mu_start, mu_end, steps if endpoints else steps + 2, spherical)
    if not endpoints:
        path = path[1:-1]
    outputs = model.decode(
        path.reshape(-1, path.shape[-1]), temperature, seed, allowed_pitches=allowed_pitches
    )
    clips = _clips(model, outputs, path.shape[1], start, chunks, length)
    _done(progress, steps)
    return clips


@dataclass(frozen=True)
class Variations:
    """One vary request: `count` distinct clips decoded around `clip`'s code, `distance`
    away from it (`allowed_pitches` as for `generate`)."""

    clip: Piece
    count: int
    distance: float
    temperature: float
    seed: int | None
    allowed_pitches: Collection[int] | None = None


def vary(
    model: MusicVae,
    clip: Piece,
    variations: int,
    distance: float,
    temperature: float,
    seed: int | None,
    progress: Progress = None,
    allowed_pitches: Collection[int] | None = None,
) -> list[Piece]:
    """One request of `vary_many`."""
    request = Variations(clip, variations, distance, temperature, seed, allowed_pitches)
    return vary_many(model, [request], progress)[0]


def vary_many(
    model: MusicVae, requests: Sequence[Variations], progress: Progress = None
) -> list[list[Piece]]:
    """Each request's variations; all requests encoded in one batch and decoded in one batch
    per draw, each with its own seed's draws, so a request gets what it gets alone.

    A variation whose notes repeat the clip's or an earlier variation's on the 16th grid is
    drawn again, in a batch with the others that repeated, up to REDRAWS times (with seeds
    following the request's, so a seed whose first draw is all distinct gives what it always
    gave). Fewer come back only when those draws found no more; the tool's reply says so.
    ClipError when a request's every variation repeated its clip."""
    encoded = model.encode_many([request.clip for request in requests], blocks=True)
    seen = [{_pattern(request.clip)} for request in requests]
    kept: list[list[Piece]] = [[] for _ in requests]
    for draw in range(1 + REDRAWS):
        missing = {
            i: r.count - len(kept[i]) for i, r in enumerate(requests) if len(kept[i]) < r.count
        }
        if not missing:
            break
        groups = []
        for index, count in missing.items():
            request, (mu, _, _) = requests[index], encoded[index]
            seed = None if request.seed is None else request.seed + draw * SEED_STRIDE
            points = neighbours(mu, count, request.distance, seed)
            z = points.reshape(-1, points.shape[-1])
            groups.append(DecodeGroup(z, request.temperature, seed, None, request.allowed_pitches))
        for index, outputs in zip(missing, model.decode_groups(groups), strict=True):
            request, (mu, _, chunks) = requests[index], encoded[index]
            clip = request.clip
            for piece in _clips(model, outputs, mu.shape[0], clip, chunks, clip.length):
                pattern = _pattern(piece)
                if pattern not in seen[index]:
                    seen[index].add(pattern)
                    kept[index].append(piece)
    for request, pieces in zip(requests, kept, strict=True):
        if not pieces:
            raise ClipError(
                f"every variation repeated the clip itself in {1 + REDRAWS} draws: a larger "
                f"distance than {request.distance:g} (or a higher temperature) gives variations"
            )
    _done(progress, sum(request.count for request in requests))
    return kept


def looped(piece: Piece, length: float) -> Piece:
    """The clip played again from its start until `length` beats (the last pass cut there),
    as a DAW loops a clip; a trio's parts each so. The clip itself if it is that long."""
    if piece.length >= length:
        return piece
    if isinstance(piece, Trio):
        return replace(
            piece,
            melody=looped(piece.melody, length),
            bass=looped(piece.bass, length),
            drums=looped(piece.drums, length),
            length=length,
        )
    if piece.length <= 0:
        return replace(piece, length=length)
    notes = tuple(
        replace(note, start=start)
        for offset in np.arange(0.0, length, piece.length)
        for note in piece.notes
        if (start := float(offset) + note.start) < length
    )
    return cut(replace(piece, notes=notes, length=length), length)


def cut(piece: Piece, length: float) -> Piece:
    """The piece up to `length` beats: notes starting later are dropped, notes sounding
    there end there; a trio's parts each so."""
    if isinstance(piece, Trio):
        parts = {name: cut(getattr(piece, name), length) for name in ("melody", "bass", "drums")}
        return replace(piece, **parts, length=length)
    if piece.length == length and all(n.duration <= length - n.start for n in piece.notes):
        return piece  # what decoding the clip's own spans usually gives: nothing to cut
    notes = tuple(
        note
        if note.duration <= length - note.start
        else replace(note, duration=length - note.start)
        for note in piece.notes
        if note.start < length
    )
    return replace(piece, notes=notes, length=length)


def looped_inputs(lengths: Sequence[float]) -> str:
    """What the client is told when interpolate looped a shorter clip."""
    longest = max(lengths)
    shorter = [length for length in lengths if length < longest]
    if not shorter:
        return ""
    return (
        f"the {shorter[0]:g}-beat clip was looped to {longest:g} beats to meet the other; "
        "give clips of one length to avoid it"
    )


def fewer_variations(asked: int, found: int) -> str:
    """What the client is told when vary found fewer distinct variations than asked."""
    if found >= asked:
        return ""
    return (
        f"{found} distinct variations of the {asked} asked: {1 + REDRAWS} draws found no "
        "more that differ from the clip and each other; a larger distance gives more"
    )


def run_requests(
    tool: str,
    model: MusicVae,
    calls: Sequence[tuple[Sequence[Piece], Mapping[str, Any]]],
    progress: Progress = None,
) -> list[list[Piece]]:
    """generate, interpolate or vary requests (their inputs and parameters, checked against
    the tool's table in bridge.tools.registry): variations of all of them in one batch, the
    others one by one."""
    if tool == "vary":
        requests = [
            Variations(
                inputs[0],
                p["variations"],
                p["distance"],
                p["temperature"],
                p["seed"],
                pitch_lock(p) if "key" in p else None,
            )
            for inputs, p in calls
        ]
        return vary_many(model, requests, progress)
    return [_run_request(tool, model, inputs, p, progress) for inputs, p in calls]


def _run_request(
    tool: str,
    model: MusicVae,
    inputs: Sequence[Piece],
    params: Mapping[str, Any],
    progress: Progress,
) -> list[Piece]:
    p = params
    allowed = pitch_lock(p) if "key" in p else None
    if tool == "generate":
        return generate(
            model,
            p["variations"],
            p["bars"],
            p["temperature"],
            p["seed"],
            p["qpm"],
            progress,
            allowed,
        )
    if tool == "interpolate":
        spherical = p["mode"] == "spherical"
        return interpolate(
            model,
            inputs[0],
            inputs[1],
            p["steps"],
            spherical,
            p["endpoints"],
            p["temperature"],
            p["seed"],
            progress,
            allowed,
        )
    raise ValueError(f"{tool!r} is not generate, interpolate or vary")


def _clips(
    model: MusicVae,
    outputs: np.ndarray,
    spans: int,
    like: Piece,
    chunks: Chunks | None = None,
    length: float | None = None,
) -> list[Piece]:
    """Decoded rows, `spans` per result, joined into one clip per result, cut to `length`
    beats (the clip's, when its last span is partly padding)."""
    joined = [
        model.to_clip(outputs[start : start + spans], like, chunks)
        for start in range(0, len(outputs), spans)
    ]
    return joined if length is None else [cut(piece, length) for piece in joined]


def _pattern(piece: Piece) -> Hashable:
    """What makes two variations the same to a listener: their notes' (16th step, pitch)."""
    if isinstance(piece, Trio):
        return tuple(_pattern(part) for part in (piece.melody, piece.bass, piece.drums))
    return frozenset((round(note.start * 4), note.pitch) for note in piece.audible_notes)


def _done(progress: Progress, total: int) -> None:
    if progress is not None:
        progress(total, total)
