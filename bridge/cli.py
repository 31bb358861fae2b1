"""The `magenta-bridge` command line: one subcommand per job, help text on every option."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

EXAMPLE = """examples:
  magenta-bridge continue examples/folk_melody.mid -o out.mid --bars 4 --variations 4 --seed 7
  magenta-bridge continue in.mid -o out.mid --key A:minor --pitch-range 55-84 --temperature 0.9
  magenta-bridge models
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except (ValueError, OSError, RuntimeError) as error:  # ClipError, ClientError, RenderError...
        print(f"magenta-bridge: error: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="magenta-bridge",
        description="Magenta's music models, warm and native, for your DAW.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="YAML config (default: config/default.yaml of this checkout)",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    # serve, history and client also take --config after their name, where users type it.
    config_option = argparse.ArgumentParser(add_help=False)
    config_option.add_argument(
        "--config", type=Path, default=argparse.SUPPRESS, help="YAML config (as before COMMAND)"
    )

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

    train = commands.add_parser(
        "train",
        help="train a MelodyRNN, DrumsRNN or PolyphonyRNN on your own music",
        description="Train a MelodyRNN (melodies), a DrumsRNN (drum_kit: drum tracks) or a "
        "PolyphonyRNN (polyphony: polyphonic parts) natively. TRAIN and VALID are folders of "
        "MIDI/ABC/MusicXML files or .npz corpora of the config's family (see "
        "models/training/README.md). Resumes from OUT/checkpoint.pt.",
    )
    train.add_argument("train", type=Path, help="training data (folder or .npz corpus)")
    train.add_argument("valid", type=Path, help="validation data (folder or .npz corpus)")
    train.add_argument("--out", type=Path, required=True, help="run folder: checkpoints, history")
    train.add_argument(
        "--export",
        type=Path,
        default=None,
        help="also write the best model here as NAME.safetensors + NAME.json (fp16)",
    )
    train.add_argument(
        "--config",
        dest="model_config",
        default="attention_rnn",
        help="Magenta configuration: basic_rnn, mono_rnn, lookback_rnn, attention_rnn "
        "(MelodyRNN), drum_kit (DrumsRNN) or polyphony (PolyphonyRNN); default attention_rnn",
    )
    train.add_argument(
        "--layers", default=None, help="layer sizes, e.g. 64,64 (default: Magenta's)"
    )
    train.add_argument(
        "--attention-length",
        type=int,
        default=None,
        help="steps the attention looks back (default: the config's; 0: no attention, "
        "several times faster on a CPU)",
    )
    train.add_argument("--steps", type=int, default=2000, help="training steps (default 2000)")
    train.add_argument("--batch-size", type=int, default=64, help="sequence windows per step")
    train.add_argument("--window", type=int, default=256, help="steps per training window")
    train.add_argument(
        "--learning-rate", type=float, default=1e-3, help="Adam's rate (default 1e-3)"
    )
    train.add_argument(
        "--final-lr-fraction",
        type=float,
        default=1.0,
        help="cosine-decay the rate to this fraction by the last step (default 1: constant)",
    )
    train.add_argument(
        "--dropout",
        type=float,
        default=0.5,
        help="dropout on layer outputs (default Magenta's 0.5)",
    )
    train.add_argument("--eval-every", type=int, default=250, help="steps between validations")
    train.add_argument(
        "--valid-limit",
        type=int,
        default=None,
        help="validate on at most this many sequences (faster)",
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps")
    train.set_defaults(run=_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="held-out metrics of a model beside n-gram baselines",
        description="Teacher-forced NLL per step and accuracy on held-out data (melodies, "
        "drum tracks or polyphony, as the model's family), for the model (Magenta's label "
        "view and the event view) and for n-gram baselines fitted on the training data. "
        "Prints JSON.",
    )
    evaluate.add_argument("model", help="configured model name, or a .mag/.safetensors path")
    evaluate.add_argument(
        "--test", type=Path, required=True, help="held-out data (folder or .npz corpus)"
    )
    evaluate.add_argument(
        "--train", type=Path, required=True, help="data to fit n-grams on (folder or .npz)"
    )
    evaluate.add_argument("--orders", default="3,5", help="n-gram orders (default 3,5)")
    evaluate.set_defaults(run=_evaluate)

    models = commands.add_parser("models", help="list the configured models")
    models.set_defaults(run=_models)

    _add_latent_tools(commands, config_option)

    serve = commands.add_parser(
        "serve",
        parents=[config_option],
        help="run the daemon: warm models served over OSC (UDP and TCP)",
        description="Load the configured models once and answer OSC requests until "
        "Ctrl-C or SIGTERM. The API is documented in docs/osc-api.md.",
    )
    serve.add_argument("--host", default=None, help="address to listen on (default: config)")
    serve.add_argument("--port", type=int, default=None, help="UDP and TCP port (default: config)")
    serve.add_argument(
        "--data-folder", type=Path, default=None, help="results and history (default: config)"
    )
    serve.set_defaults(run=_serve)

    history = commands.add_parser(
        "history", parents=[config_option], help="list past jobs from the daemon's store"
    )
    history.add_argument("--limit", type=int, default=20, help="jobs to show (default 20)")
    history.add_argument("--client", default=None, help="only this client, e.g. cli or udp:...")
    history.set_defaults(run=_history)

    client = commands.add_parser(
        "client",
        parents=[config_option],
        help="send a request to a running daemon",
        description="Talk to a running daemon over OSC/TCP, e.g. from a DAW script.",
    )
    client.add_argument("--host", default=None, help="daemon address (default: config)")
    client.add_argument("--port", type=int, default=None, help="daemon port (default: config)")
    client.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (default 60)")
    client_tools = client.add_subparsers(title="tools", metavar="TOOL")
    client_continue = client_tools.add_parser("continue", help="continue a MIDI clip on the daemon")
    client_continue.add_argument("input", type=Path, help="MIDI file whose melody is the primer")
    client_continue.add_argument("-o", "--output", type=Path, required=True, help="output MIDI")
    client_continue.add_argument(
        "--model", default=None, help="configured model name (default: chosen by the clip)"
    )
    client_continue.add_argument(
        "--render", action="store_true", help="also render WAV previews (daemon side)"
    )
    from bridge.tools.registry import CONTINUE

    _add_param_options(client_continue, CONTINUE.params)
    client_continue.set_defaults(run=_client_continue, tool="continue")
    return parser


def _continue(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from bridge.config import load_config
    from bridge.models.events_rnn.sampling import SamplingOptions
    from bridge.models.registry import load_model
    from bridge.music.errors import ClipError
    from bridge.music.midi import read_midi, write_midi
    from bridge.music.scales import parse_key
    from bridge.tools.continuation import ContinueRequest, continue_clip

    config = load_config(args.config)
    clip = read_midi(args.input)
    spec, why = config.model_for(args.model, clip)
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
    paths = _output_paths(args.output, len(clips))
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


def _train(args: argparse.Namespace) -> int:
    import json

    from bridge.training.families import family_of_config
    from bridge.training.train_events_rnn import (
        TrainingOptions,
        train_events_rnn,
        training_config,
    )

    options = TrainingOptions(
        config=args.model_config,
        layer_sizes=tuple(int(s) for s in args.layers.split(",")) if args.layers else None,
        attn_length=args.attention_length,
        steps=args.steps,
        batch_size=args.batch_size,
        window=args.window,
        learning_rate=args.learning_rate,
        final_lr_fraction=args.final_lr_fraction,
        dropout=args.dropout,
        eval_every=args.eval_every,
        seed=args.seed,
    )
    family, config = family_of_config(options.config), training_config(options)
    summary = train_events_rnn(
        family.read_sequences(args.train, config),
        family.read_sequences(args.valid, config, held_out=True)[: args.valid_limit],
        args.out,
        options,
        args.device,
        export_name=str(args.export) if args.export else None,
    )
    print(json.dumps({k: v for k, v in summary.items() if k != "history"}, indent=1))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import json

    from bridge.config import load_config
    from bridge.training.evaluation import compare_with_ngrams
    from bridge.training.families import family_named, family_of_checkpoint

    path = Path(args.model)
    if path.suffix in (".mag", ".safetensors"):
        family = family_of_checkpoint(path)
    else:
        spec = load_config(args.config).model(args.model)
        if spec.backend != "native":
            raise ValueError(f"model {spec.name!r} runs in magenta; evaluate needs a native one")
        path, family = spec.path, family_named(spec.family)
    config, network = family.checkpoints.load_checkpoint(path)
    orders = [int(order) for order in args.orders.split(",")]
    results = compare_with_ngrams(
        network,
        family.checkpoints.encoder_type(config),
        family.vocabulary(config),
        family.read_sequences(args.train, config),
        family.read_sequences(args.test, config, held_out=True),
        orders,
    )
    print(json.dumps({"model": str(path), **results}, indent=1))
    return 0


def _models(args: argparse.Namespace) -> int:
    from bridge.config import load_config

    config = load_config(args.config)
    for spec in [*config.models.values(), *config.missing.values()]:
        marker = "*" if spec.name == config.default_model else " "
        state = (
            "ok"
            if spec.path.exists()
            else "optional, not installed"
            if spec.optional
            else "MISSING"
        )
        print(f"{marker} {spec.name:12} {spec.family:15} {spec.path}  [{state}]")
        if spec.description:
            print(f"    {spec.description}")
    for content, name in config.by_content.items():
        print(f"  {content} clips without a named model go to {name}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import os
    import signal
    import threading
    from dataclasses import replace

    from bridge.config import load_config
    from bridge.daemon import Daemon

    config = load_config(args.config)
    osc = replace(
        config.osc,
        host=args.host or config.osc.host,
        port=config.osc.port if args.port is None else args.port,
    )
    data_folder = args.data_folder.resolve() if args.data_folder else config.data_folder
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        if stop.is_set():  # a second Ctrl-C: the user does not want to wait
            print("stopping now; unfinished jobs are marked failed at the next start", flush=True)
            os._exit(130)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    config = replace(config, osc=osc, data_folder=data_folder)
    daemon = Daemon(config, lambda line: print(line, flush=True))
    try:
        stop.wait()
    finally:
        print("stopping: finishing the job in flight (Ctrl-C again to quit at once)", flush=True)
        daemon.close()
        print("stopped", flush=True)
    return 0


def _history(args: argparse.Namespace) -> int:
    from bridge.config import load_config
    from bridge.store import ResultStore

    config = load_config(args.config)
    with ResultStore(config.data_folder) as store:
        records = store.history(args.limit, args.client)
    for record in records:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
        run = record.timings.get("run_s")
        took = f"{run * 1000:.0f} ms" if run is not None else "-"
        print(
            f"{record.job_id}  {when}  {record.status:9}  {record.tool:9}  {record.model:14}  "
            f"{took:>8}  {record.client}  {record.request_id}"
        )
        for path in record.result_paths:
            print(f"    {path}")
        if record.error:
            print(f"    error: {record.error}")
    if not records:
        print(f"no jobs yet in {config.data_folder}")
    return 0


def _client_continue(args: argparse.Namespace) -> int:
    from bridge.config import load_config
    from bridge.frontends.client import DaemonClient
    from bridge.music.midi import read_midi, write_midi

    config = load_config(args.config)
    params = _given_params(args)
    if args.model:
        params["model"] = args.model
    if args.render:
        params["render"] = 1
    host, port = args.host or config.osc.host, args.port or config.osc.port
    with DaemonClient(host, port, args.timeout) as client:
        result = client.run_tool(args.tool, [read_midi(args.input)], params)
    print(f"job {result.job_id}: model {result.model} ({result.model_reason})", file=sys.stderr)
    for clip, path in zip(result.clips, _output_paths(args.output, len(result.clips)), strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_midi(clip, path)
        print(f"{path}: {len(clip.notes)} notes over {clip.length:g} beats")
    for wav in result.previews:
        print(f"preview: {wav}")
    return 0


def _pitch_range(text: str) -> tuple[int, int]:
    from bridge.music.errors import ClipError

    try:
        low, high = (int(part) for part in text.split("-"))
    except ValueError:
        raise ClipError(f"pitch range {text!r} must look like LOW-HIGH, e.g. 55-84") from None
    return low, high


LATENT_INPUTS = {
    "generate": ([], "sample new clips from a MusicVAE's prior"),
    "interpolate": (["start", "end"], "morph from one clip to another through a MusicVAE"),
    "vary": (["inputs"], "variations of each clip (a batch form: many files, one folder)"),
}


def _add_latent_tools(commands: Any, config_option: argparse.ArgumentParser) -> None:
    """generate, interpolate and vary: options from the tools' parameter tables."""
    from bridge.tools.registry import TOOLS

    for name, (inputs, summary) in LATENT_INPUTS.items():
        tool = TOOLS[name]
        command = commands.add_parser(
            name,
            parents=[config_option],
            help=summary,
            description=f"{tool.summary[0].upper()}{tool.summary[1:]}. Each result is written "
            "as its own MIDI file in the output folder.",
        )
        for input_name in inputs:
            nargs = "+" if input_name == "inputs" else None
            command.add_argument(input_name, type=Path, nargs=nargs, help="MIDI file")
        command.add_argument("-o", "--output", type=Path, required=True, help="output folder")
        command.add_argument(
            "--model",
            default=None,
            help="configured music_vae model (default: one made for the clip's content)",
        )
        command.add_argument("--device", default=None, help="auto, cpu, cuda, cuda:N or mps")
        _add_param_options(command, tool.params)
        command.set_defaults(run=_latent, tool=name)


def _add_param_options(parser: argparse.ArgumentParser, params: Sequence[Any]) -> None:
    """One `--option` per tool parameter, from its declaration; unset ones stay None."""
    for param in params:
        parser.add_argument(
            f"--{param.name.replace('_', '-')}",
            dest=f"param_{param.name}",
            metavar=param.name.upper(),
            type=_param_type(param.kind),
            default=None,
            help=f"{param.help} ({param.describe()})",
        )


def _given_params(args: argparse.Namespace) -> dict[str, Any]:
    """The tool parameters given on the command line, by name."""
    return {
        key.removeprefix("param_"): value
        for key, value in vars(args).items()
        if key.startswith("param_") and value is not None
    }


def _param_type(kind: type) -> Callable[[str], Any]:
    return (lambda text: text.lower() in ("1", "true", "yes")) if kind is bool else kind


def _latent(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from tqdm import tqdm

    from bridge.config import ConfigError, load_config
    from bridge.models.registry import load_model
    from bridge.music.midi import read_midi, write_midi
    from bridge.tools.params import parse_params
    from bridge.tools.registry import TOOLS

    tool = TOOLS[args.tool]
    config = load_config(args.config)
    if args.tool == "vary":
        calls = [((read_midi(path),), path.stem) for path in args.inputs]
    elif args.tool == "interpolate":
        calls = [((read_midi(args.start), read_midi(args.end)), "interpolate")]
    else:
        calls = [((), "generate")]
    first = calls[0][0][0] if calls[0][0] else None
    spec, why = config.model_for(args.model, first, tool.serves)
    if not tool.serves(spec):
        raise ConfigError(
            f"model {spec.name!r} is a {spec.family} model; {tool.name} needs a music_vae model"
        )
    if args.device:
        spec = replace(spec, device=args.device)
    params = parse_params(tool.params, _given_params(args), config.limits)
    for clips, _ in calls:
        tool.check(spec, clips, params, config.limits)
    model = load_model(spec)
    print(f"model {spec.name} ({spec.config}, {why}) on {model.device}", file=sys.stderr)
    args.output.mkdir(parents=True, exist_ok=True)
    for clips, stem in tqdm(calls, desc=tool.name, unit="clip", disable=len(calls) < 2):
        (results,) = tool.run(model, [(clips, params)], config.limits, lambda *_: None)
        for index, clip in enumerate(results, start=1):
            path = args.output / f"{stem}-{index}.mid"
            write_midi(clip, path)
            if len(calls) < 2:
                print(f"{path}: {len(clip.notes)} notes over {clip.length:g} beats")
    return 0


def _output_paths(output: Path, count: int) -> list[Path]:
    if count == 1:
        return [output]
    suffix = output.suffix or ".mid"
    return [output.with_name(f"{output.stem}-{i}{suffix}") for i in range(1, count + 1)]


if __name__ == "__main__":
    raise SystemExit(main())
