"""The tools a client can ask for, declared once: name, inputs, parameters, checks.

Frontends and the job engine only ever see `Tool`; every frontend (OSC, the CLI, the OSC
client, the docs) is generated from this table. A new tool is its function and one
`Tool(...)` entry below; which models it runs on is the family table's `tools` column.
Tool functions import their models lazily, so listing tools never loads PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.config import Limits
from bridge.models.catalog import ModelSpec
from bridge.models.families import FAMILIES
from bridge.models.music_vae.config import CONFIGS as VAE_CONFIGS
from bridge.music.clip import Clip
from bridge.music.scales import parse_key
from bridge.tools.params import Param, ParamError
from bridge.tools.pitch_lock import PITCH_LOCK, pitch_lock

Progress = Callable[[int, int], None]
Call = tuple[Sequence[Clip], Mapping[str, Any]]  # one request: input clips, checked params
ToolFunction = Callable[[Any, ModelSpec, Sequence[Call], Limits, Progress], list[list[Clip]]]
CheckFunction = Callable[[ModelSpec, Sequence[Clip], Mapping[str, Any], Limits], None]
BatchKey = Callable[[Sequence[Clip], Mapping[str, Any]], Hashable]
# (inputs, params, results) -> "" or what the client should know about the results
WarnFunction = Callable[[Sequence[Clip], Mapping[str, Any], Sequence[Clip]], str]


@dataclass(frozen=True)
class Tool:
    """A clip transformation served by the daemon."""

    name: str
    summary: str
    inputs: int  # clips it takes
    params: tuple[Param, ...]
    check: CheckFunction  # raises ValueError for a request `run` would refuse; runs before accept
    run: ToolFunction  # several calls in, one list of result clips per call out
    batch_key: BatchKey | None = None  # calls with equal keys may share a run; None: one at a time
    configs: tuple[str, ...] = ()  # the MusicVAE configs it needs (none: any of its families')
    warn: WarnFunction | None = None  # what the client hears besides a call's results

    def serves(self, spec: ModelSpec) -> bool:
        """Whether this tool can run on a configured model: its family's row names the tool,
        and a tool needing MusicVAE configs runs natively on one of them (magenta's worker
        runs the event generators only)."""
        family = FAMILIES.get(spec.family)
        if family is None or self.name not in family.tools:
            return False
        if spec.backend == "magenta":
            return not self.configs
        return not self.configs or spec.config in self.configs

    @property
    def families(self) -> tuple[str, ...]:
        """The families whose rows name this tool, native ones first."""
        serving = [family for family in FAMILIES.values() if self.name in family.tools]
        return tuple(f.name for f in sorted(serving, key=lambda f: f.model is None))

    @property
    def runs_on(self) -> str:
        """The models it needs, in words."""
        native = [name for name in self.families if FAMILIES[name].model is not None]
        configs = f" of config {' or '.join(self.configs)}" if self.configs else ""
        words = f"{' or '.join(native)} models{configs}"
        bundles = [name for name in self.families if FAMILIES[name].model is None]
        if bundles:
            words += f" (and {', '.join(bundles)} bundles on the magenta backend)"
        return words

    def refusal(
        self, spec: ModelSpec, configured: Iterable[ModelSpec], missing: Iterable[ModelSpec] = ()
    ) -> str:
        """Why `spec` cannot serve this tool, naming the configured models that can (and the
        optional ones that could, once installed)."""
        kind = spec.family + (f" ({spec.config})" if spec.config else "")
        fitting = [other.name for other in configured if self.serves(other)]
        fits = f"models that fit: {', '.join(fitting)}" if fitting else "no configured model fits"
        for other in missing:
            if self.serves(other):
                fits += f"; {other.name} would, once {other.path} exists"
        return f"model {spec.name!r} is a {kind} model; {self.name} runs on {self.runs_on}; {fits}"


def _continuation(clips: Sequence[Clip], params: Mapping[str, Any]) -> Any:
    from bridge.models.events_rnn.sampling import SamplingOptions
    from bridge.models.generation import Continuation

    pitch_lock(params)  # a range upside down, or a key leaving no pitch: refused by name
    low, high = params["pitch_low"], params["pitch_high"]
    return Continuation(
        clip=clips[0],
        bars=params["bars"],
        variations=params["variations"],
        sampling=SamplingOptions(
            temperature=params["temperature"],
            beam_size=params["beam_size"],
            branch_factor=params["branch_factor"],
            steps_per_iteration=params["steps_per_iteration"],
            seed=params["seed"],
        ),
        key=parse_key(params["key"]) if params["key"] else None,
        pitch_range=None if (low, high) == (0, 127) else (low, high),
        quantize=params["quantize"],
        density=params["density"] or None,
        polyphony=params["polyphony"] or None,
    )


def _check_continue(
    spec: ModelSpec, clips: Sequence[Clip], params: Mapping[str, Any], limits: Limits
) -> None:
    from bridge.tools.continuation import check_continuation

    check_continuation(spec, _continuation(clips, params))


def _continue(
    model: Any, spec: ModelSpec, calls: Sequence[Call], limits: Limits, progress: Progress
) -> list[list[Clip]]:
    from bridge.tools.continuation import continue_clips

    continuations = [_continuation(clips, params) for clips, params in calls]
    return continue_clips(model, spec, continuations, progress)


def _continue_batch_key(clips: Sequence[Clip], params: Mapping[str, Any]) -> Hashable:
    from bridge.tools.continuation import batch_key

    return batch_key(_continuation(clips, params))


SEED = Param("seed", int, None, "same seed, same result (default: random)", 0, 2**31 - 1)
CONTINUE = Tool(
    name="continue",
    summary="extend the clip's melody by some bars, in several variations",
    inputs=1,
    params=(
        Param("bars", int, 4, "bars to add after the clip", 1, None, "max_bars"),
        Param(
            "variations", int, 1, "continuations, computed as one batch", 1, None, "max_variations"
        ),
        Param("temperature", float, 1.0, "randomness: below 1 safer, above 1 wilder", 0.01, 10.0),
        SEED,
        Param("beam_size", int, 1, "Magenta beam search: entries kept", 1, None, "max_beam_size"),
        Param("branch_factor", int, 1, "beam search: branches per entry", 1, 16),
        Param("steps_per_iteration", int, 1, "beam search: steps between prunings", 1, 64),
        *PITCH_LOCK,
        Param("density", int, 0, "notes started per bar, every bar (0: as the model plays)", 0, 64),
        Param("polyphony", int, 0, "most notes sounding at once (0: no cap)", 0, 16),
        Param("quantize", bool, False, "performance models: snap results to 16ths", 0, 1),
    ),
    check=_check_continue,
    run=_continue,
    batch_key=_continue_batch_key,
)


def _same_batch(clips: Sequence[Clip], params: Mapping[str, Any]) -> Hashable:
    """Any two calls can share a run: each keeps its own draws (see MusicVae.decode_groups)."""
    return ()


def _check_latent(
    spec: ModelSpec, clips: Sequence[Clip], params: Mapping[str, Any], limits: Limits
) -> None:
    from bridge.models.music_vae.config import KEY_LOCK_DATA, config_named
    from bridge.models.music_vae.data import clip_to_chunks
    from bridge.tools.latent import check_clip_inputs

    config = config_named(spec.config or "")
    check_clip_inputs(config.data, config.name)  # a request's clips: one per input
    if "key" in params and pitch_lock(params) is not None and config.data not in KEY_LOCK_DATA:
        raise ParamError(
            "key and pitch range apply to melody and trio MusicVAEs, "
            f"not to {config.name} ({config.data})"
        )
    for clip in clips:
        clip_to_chunks(clip, config)  # a clip the model cannot read is refused now


def _latent(name: str) -> ToolFunction:
    """generate, interpolate or vary: each call's clips and parameters to bridge.tools.latent."""

    def run(
        model: Any, spec: ModelSpec, calls: Sequence[Call], limits: Limits, progress: Progress
    ) -> list[list[Clip]]:
        from bridge.tools.latent import run_requests

        return run_requests(name, model, calls, progress)

    return run


def _vary_warning(
    inputs: Sequence[Clip], params: Mapping[str, Any], results: Sequence[Clip]
) -> str:
    from bridge.tools.latent import fewer_variations

    return fewer_variations(params["variations"], len(results))


def _interpolate_warning(
    inputs: Sequence[Clip], params: Mapping[str, Any], results: Sequence[Clip]
) -> str:
    from bridge.tools.latent import looped_inputs

    return looped_inputs([clip.length for clip in inputs])


VAE_TEMPERATURE = Param(
    "temperature", float, 0.5, "randomness of the decoding: lower is closer to the code", 0.01, 10.0
)

GENERATE = Tool(
    name="generate",
    summary="sample new clips from a MusicVAE's prior",
    inputs=0,
    params=(
        Param("variations", int, 4, "clips to sample, as one batch", 1, None, "max_variations"),
        Param("bars", int, 0, "length in bars (0: the model's span, 2 or 16)", 0, None, "max_bars"),
        VAE_TEMPERATURE,
        SEED,
        Param("qpm", float, 120.0, "tempo written into the clips", 20.0, 400.0),
        *PITCH_LOCK,
    ),
    check=_check_latent,
    run=_latent("generate"),
)

INTERPOLATE = Tool(
    name="interpolate",
    summary="clips morphing from the first clip to the second through a MusicVAE",
    inputs=2,
    params=(
        Param("steps", int, 5, "clips on the way", 2, None, "max_variations"),
        Param(
            "mode",
            str,
            "spherical",
            "spherical (Magenta's Python) or linear (Magenta Studio)",
            choices=("spherical", "linear"),
        ),
        Param("endpoints", bool, True, "include the decoded start and end clips", 0, 1),
        VAE_TEMPERATURE,
        SEED,
        *PITCH_LOCK,
    ),
    check=_check_latent,
    run=_latent("interpolate"),
    warn=_interpolate_warning,
)

VARY = Tool(
    name="vary",
    summary="variations of the clip decoded around its MusicVAE code, as one batch, each a "
    "pattern of its own (repeats are drawn again)",
    inputs=1,
    params=(
        Param("variations", int, 8, "variations, decoded as one batch", 1, None, "max_variations"),
        Param(
            "distance",
            float,
            0.5,
            "how far from the clip (1: a whole prior sample away; the clip's own code is "
            "uncertain by about 0.9, so below 0.3 most variations repeat)",
            0,
            4,
        ),
        VAE_TEMPERATURE,
        SEED,
        *PITCH_LOCK,
    ),
    check=_check_latent,
    run=_latent("vary"),
    batch_key=_same_batch,
    warn=_vary_warning,
)


def _drum_tool(name: str) -> ToolFunction:
    """groove or drumify: every call's clip and parameters to bridge.tools.groove, as one batch."""

    def run(
        model: Any, spec: ModelSpec, calls: Sequence[Call], limits: Limits, progress: Progress
    ) -> list[list[Clip]]:
        from bridge.tools.groove import DrumRequest, drum_parts

        requests = [
            DrumRequest(
                clips[0],
                p["variations"],
                p["temperature"],
                p["seed"],
                p.get("keep_hits", False),
                p["backbone"],
            )
            for clips, p in calls
        ]
        return drum_parts(model, name, requests, progress)

    return run


def _groove_configs(groove_input: str) -> tuple[str, ...]:
    """The GrooVAE configs whose encoder reads this input (humanize: hits; tap: taps)."""
    return tuple(
        name
        for name, config in VAE_CONFIGS.items()
        if config.data == "groove" and config.groove_input == groove_input
    )


GROOVE_TEMPERATURE = Param(
    "temperature",
    float,
    1.0,
    "randomness: spread of the draws around the clip's code (1: Magenta's), and of drawn hits",
    0.01,
    10.0,
)

GROOVE = Tool(
    name="groove",
    summary="humanize a quantized drum clip: new velocities and timing from a GrooVAE",
    inputs=1,
    params=(
        Param("variations", int, 1, "versions, decoded as one batch", 1, None, "max_variations"),
        GROOVE_TEMPERATURE,
        SEED,
        Param(
            "keep_hits", bool, True, "keep the clip's hits (false: the model draws its own)", 0, 1
        ),
        Param(
            "backbone",
            bool,
            True,
            "with keep_hits false: a kick and a snare in every bar the clip plays",
            0,
            1,
        ),
    ),
    check=_check_latent,
    run=_drum_tool("groove"),
    batch_key=_same_batch,
    configs=_groove_configs("humanize"),
)

DRUMIFY = Tool(
    name="drumify",
    summary="drums played to the rhythm of any clip (melody, taps, a drum loop) by a GrooVAE",
    inputs=1,
    params=(
        Param("variations", int, 4, "drum parts, decoded as one batch", 1, None, "max_variations"),
        GROOVE_TEMPERATURE,
        SEED,
        Param(
            "backbone",
            bool,
            True,
            "a kick and a snare in every bar the clip plays (false: only what the model draws)",
            0,
            1,
        ),
    ),
    check=_check_latent,
    run=_drum_tool("drumify"),
    batch_key=_same_batch,
    configs=_groove_configs("tap"),
)


def _check_chorale(tool: str) -> CheckFunction:
    """harmonize's or infill's check: the clip's voices (and infill's span) readable."""

    def check(
        spec: ModelSpec, clips: Sequence[Clip], params: Mapping[str, Any], limits: Limits
    ) -> None:
        from bridge.tools.chorale import check_chorale

        check_chorale(tool, clips[0], params)

    return check


def _harmonize(
    model: Any, spec: ModelSpec, calls: Sequence[Call], limits: Limits, progress: Progress
) -> list[list[Clip]]:
    from bridge.tools.chorale import harmonize_clip

    return [harmonize_clip(model, clips[0], params, progress) for clips, params in calls]


def _infill(
    model: Any, spec: ModelSpec, calls: Sequence[Call], limits: Limits, progress: Progress
) -> list[list[Clip]]:
    from bridge.tools.chorale import infill_clip

    return [infill_clip(model, clips[0], params, progress) for clips, params in calls]


GIBBS_STEPS = Param(
    "gibbs_steps",
    int,
    None,
    "Gibbs steps after the first fill (default: Magenta's, 16ths x voices); fewer are "
    "faster and rougher",
    1,
    16384,
)
CHORALE_TEMPERATURE = Param(
    "temperature", float, 0.99, "randomness of each Gibbs draw (Magenta's: 0.99)", 0.01, 10.0
)


VOICES_APART = Param(
    "voices_apart",
    bool,
    True,
    "each voice its own clip: a variation is its voices from the top, the result count "
    "divided by the variations (false: one clip per variation, holding every voice)",
    0,
    1,
)


HARMONIZE = Tool(
    name="harmonize",
    summary="a melody becomes the top voice of four, kept note for note, in several variations",
    inputs=1,
    params=(
        Param(
            "variations", int, 1, "harmonizations, sampled as one batch", 1, None, "max_variations"
        ),
        CHORALE_TEMPERATURE,
        SEED,
        GIBBS_STEPS,
        VOICES_APART,
        *PITCH_LOCK,
    ),
    check=_check_chorale("harmonize"),
    run=_harmonize,
)

INFILL = Tool(
    name="infill",
    summary="write a span of a one- to four-voice clip again, keeping every note outside it",
    inputs=1,
    params=(
        Param("start", float, None, "span start, in beats", 0, None, "max_clip_beats"),
        Param("end", float, None, "span end, in beats (not included)", 0, None, "max_clip_beats"),
        Param("from_bar", int, None, "or: the span's first bar, counted from 1", 1),
        Param("to_bar", int, None, "and its last bar (included)", 1),
        Param("variations", int, 1, "versions, sampled as one batch", 1, None, "max_variations"),
        CHORALE_TEMPERATURE,
        SEED,
        GIBBS_STEPS,
        VOICES_APART,
        *PITCH_LOCK,
    ),
    check=_check_chorale("infill"),
    run=_infill,
)


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (CONTINUE, GENERATE, INTERPOLATE, VARY, GROOVE, DRUMIFY, HARMONIZE, INFILL)
}
