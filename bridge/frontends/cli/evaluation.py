"""`magenta-bridge evaluate` and `compare`: any loadable model measured on held-out music.

The measuring is `bridge.evaluation`; these commands read options, print JSON (evaluate) or
write a report folder (compare).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.evaluation.samples import SampleOptions
    from bridge.frontends.cli.common import Commands


def add_commands(commands: Commands, config_option: argparse.ArgumentParser) -> None:
    """Add `evaluate` and `compare`; both take --config after their name too."""
    evaluate = commands.add_parser(
        "evaluate",
        parents=[config_option],
        help="held-out metrics of a model beside n-gram baselines",
        description="Teacher-forced scores on held-out data (events RNNs: NLL per step and "
        "accuracy beside n-gram baselines fitted on --train; MusicVAEs: KL, reconstruction "
        "loss and accuracy beside the majority class) and, with --data, the musical "
        "statistics of the model's samples on held-out pieces beside the n-gram baseline's "
        "and the held-out music's own (docs/evaluation.md). Prints JSON.",
    )
    evaluate.add_argument("model", help="configured model name, or a .mag/.safetensors path")
    evaluate.add_argument(
        "--data", type=Path, default=None, help="held-out folder of MIDI files (samples)"
    )
    evaluate.add_argument(
        "--test",
        type=Path,
        default=None,
        help="held-out data for teacher forcing, folder or .npz corpus (default: --data)",
    )
    evaluate.add_argument(
        "--train",
        type=Path,
        default=None,
        help="training data the baselines are fitted on, folder or .npz corpus "
        "(default: the folder 'train' beside --data)",
    )
    evaluate.add_argument(
        "--baseline-train",
        type=Path,
        default=None,
        help="training data of the sampling n-gram when it differs from --train (a MusicVAE's "
        "--train holds 2-bar windows; the n-gram reads melodies or drum tracks)",
    )
    evaluate.add_argument("--orders", default="3,5", help="n-gram orders (default 3,5)")
    _add_sample_options(evaluate)
    evaluate.set_defaults(run=_evaluate)

    compare = commands.add_parser(
        "compare",
        parents=[config_option],
        help="several models side by side on held-out music: a Markdown report with figures",
        description="Measure several models of one kind of music (melody, drums or polyphony) "
        "on the same held-out pieces and seeds, beside an n-gram baseline and the held-out "
        "music itself; write OUT/report.md, PNG figures, results.json and, with --render, "
        "WAVs of the first samples.",
    )
    compare.add_argument(
        "models",
        nargs="+",
        help="configured names or .mag/.safetensors paths, each optionally with Continue's "
        "controls after @ (its own row, labelled as written): poly@key=primer (each primer's "
        "estimated key), poly@key=C:major,pitch_low=48, poly@density=8,polyphony=3",
    )
    compare.add_argument("--data", type=Path, required=True, help="held-out folder of MIDI files")
    compare.add_argument(
        "--train",
        type=Path,
        default=None,
        help="the baseline's training data, folder or .npz corpus of the kind's events "
        "(default: the folder 'train' beside --data)",
    )
    compare.add_argument("--out", type=Path, required=True, help="report folder")
    compare.add_argument("--order", type=int, default=5, help="the baseline's n-gram order")
    compare.add_argument("--render", action="store_true", help="also render WAVs (FluidSynth)")
    compare.add_argument("--listen", type=int, default=4, help="WAVs per row with --render")
    _add_sample_options(compare)
    compare.set_defaults(run=_compare)


def _add_sample_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--samples", type=int, default=16, help="held-out pieces (and samples) (default 16)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the pieces and samples")
    parser.add_argument("--bars", type=int, default=4, help="bars per sample (default 4)")
    parser.add_argument("--primer-bars", type=int, default=2, help="bars of each primer")
    parser.add_argument(
        "--temperature", type=float, default=1.0, help="events RNNs' and the n-gram's"
    )
    parser.add_argument("--device", default=None, help="auto, cpu, cuda, cuda:N or mps")


def _sample_options(args: argparse.Namespace) -> SampleOptions:
    from bridge.evaluation.samples import SampleOptions

    return SampleOptions(
        count=args.samples,
        primer_bars=args.primer_bars,
        bars=args.bars,
        seed=args.seed,
        temperature=args.temperature,
    )


def _train_beside(data: Path | None, given: Path | None) -> Path:
    """The training data given, else the 'train' folder beside the held-out one."""
    if given is not None:
        return given
    beside = data.parent / "train" if data is not None else None
    if beside is None or not beside.is_dir():
        raise ValueError("give --train: the training data the baselines are fitted on")
    print(f"baselines fitted on {beside}", file=sys.stderr)
    return beside


def _evaluate(args: argparse.Namespace) -> int:
    from bridge.config import load_config
    from bridge.evaluation.comparison import compare_models
    from bridge.evaluation.model_argument import model_spec
    from bridge.evaluation.report import strict_json
    from bridge.training.scoring import held_out_scores

    test = args.test or args.data
    if test is None:
        raise ValueError("give --data (held-out MIDI folder) or --test (held-out data)")
    config = load_config(args.config)
    spec = model_spec(args.model, config, args.device)
    train = _train_beside(args.data, args.train)
    orders = [int(order) for order in args.orders.split(",")]
    results: dict[str, Any] = {}
    if spec.backend == "native":
        results = held_out_scores(spec, test, train, orders)
    if args.data is not None:
        comparison = compare_models(
            [spec],
            args.data,
            args.baseline_train or train,
            _sample_options(args),
            max(orders),
            config.limits,
            teacher_forced=False,
        )
        summary = comparison.summary()
        results["samples"] = {
            name: {key: entry[key] for key in ("task", "samples", "statistics", "smoothness")}
            for name, entry in summary["entries"].items()
        }
        results["held_out_pieces"] = summary["pieces"]
    print(strict_json(results))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from bridge.config import load_config
    from bridge.evaluation.comparison import compare_models
    from bridge.evaluation.model_argument import model_row
    from bridge.evaluation.report import write_report

    config = load_config(args.config)
    rows = [model_row(argument, config, args.device) for argument in args.models]
    train = _train_beside(args.data, args.train)
    options = _sample_options(args)
    comparison = compare_models(rows, args.data, train, options, args.order, config.limits)
    command = shlex.join(
        [
            "magenta-bridge",
            "compare",
            *args.models,
            *("--data", str(args.data), "--train", str(train), "--out", str(args.out)),
            *("--samples", str(options.count), "--seed", str(options.seed)),
            *("--bars", str(options.bars), "--primer-bars", str(options.primer_bars)),
            *("--order", str(args.order), "--temperature", f"{options.temperature:g}"),
            *(["--render"] if args.render else []),
        ]
    )
    report = write_report(comparison, args.out, command, args.render, config.soundfont, args.listen)
    print(report)
    return 0
