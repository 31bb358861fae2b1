"""`magenta-bridge continue`: an events-RNN continues a MIDI clip, in this process."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.frontends.cli.common import output_paths

if TYPE_CHECKING:
    from bridge.frontends.cli.common import Commands


def add_commands(commands: Commands, config_option: argparse.ArgumentParser) -> None:
    """Add `continue`; it takes --config before its name only, so not `config_option`."""
    cont = commands.add_parser(
        "continue",
        help="continue a MIDI clip: melody, drums, chords or performance, by the model",
        description="Continue a MIDI file with the model's family: a MelodyRNN continues its "
        "melody, a DrumsRNN its drums, a PolyphonyRNN or PerformanceRNN all of it. "
        "Each variation is written as its own MIDI file holding only the "
        "new bars.",
    )
    cont.add_argument("input", type=Path, help="MIDI file to continue (the primer)")
    cont.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="output MIDI file; with several variations, NAME-1.mid, NAME-2.mid...",
    )
    cont.add_argument("--bars", type=int, default=4, help="bars to add (default 4)")
    cont.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="randomness: <1 safer, >1 wilder (default 1.0)",
    )
    cont.add_argument(
        "--variations",
        type=int,
        default=1,
        help="how many continuations, computed as one batch (default 1)",
    )
    cont.add_argument("--seed", type=int, default=None, help="seed for reproducible results")
    cont.add_argument(
        "--key",
        default=None,
        help="lock notes to a key, e.g. C:major, F#:minor, D:dorian (default: none)",
    )
    cont.add_argument(
        "--pitch-range",
        default=None,
        metavar="LOW-HIGH",
        help="lock notes to a MIDI pitch range, e.g. 55-84",
    )
    cont.add_argument(
        "--model",
        default=None,
        help="model name from the config, e.g. folk_melody, drums, poly (default: chosen by "
        "the clip's content: drums, chords or melody)",
    )
    cont.add_argument(
        "--device", default=None, help="auto, cpu, cuda, cuda:N or mps (default: config)"
    )
    cont.add_argument(
        "--beam-size", type=int, default=1, help="beam search width (default 1: sampling)"
    )
    cont.add_argument("--branch-factor", type=int, default=1, help="beam search branches per entry")
    cont.add_argument(
        "--steps-per-iteration",
        type=int,
        default=1,
        help="steps sampled between beam prunings (default 1)",
    )
    cont.set_defaults(run=_continue)


def _continue(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from bridge.config import load_config
    from bridge.models.events_rnn.sampling import SamplingOptions
    from bridge.models.loading import load_model
    from bridge.music.errors import ClipError
    from bridge.music.midi import read_midi, write_midi
    from bridge.music.scales import parse_key
    from bridge.tools.continuation import ContinueRequest, continue_clip
    from bridge.tools.model_choice import choose_model

    config = load_config(args.config)
    clip = read_midi(args.input)
    spec, why = choose_model(config, args.model, clip)
    if args.device:
        spec = replace(spec, device=args.device)
    request = ContinueRequest(
        clip=clip,
        bars=args.bars,
        variations=args.variations,
        sampling=SamplingOptions(
            args.temperature,
            args.beam_size,
            args.branch_factor,
            args.steps_per_iteration,
            args.seed,
        ),
        key=parse_key(args.key) if args.key else None,
        pitch_range=_pitch_range(args.pitch_range) if args.pitch_range else None,
    )
    model = load_model(spec)
    print(
        f"model {spec.name} ({model.config.name}, {why}) on {model.device}, "
        f"loaded in {model.load_seconds * 1000:.0f} ms",
        file=sys.stderr,
    )
    clips = continue_clip(model, request, config.limits)
    paths = output_paths(args.output, len(clips))
    for clip, path in zip(clips, paths, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_midi(clip, path)
        pitches = sorted({n.pitch for n in clip.notes})
        print(
            f"{path}: {len(clip.notes)} notes over {clip.length:g} beats, "
            f"pitches {pitches[0] if pitches else '-'}-{pitches[-1] if pitches else '-'}"
        )
    if not clips:
        raise ClipError("no continuation was produced")
    return 0


def _pitch_range(text: str) -> tuple[int, int]:
    from bridge.music.errors import ClipError

    try:
        low, high = (int(part) for part in text.split("-"))
    except ValueError:
        raise ClipError(f"pitch range {text!r} must look like LOW-HIGH, e.g. 55-84") from None
    return low, high
