"""`magenta-bridge train`, `train-vae` and `train-coconet`: models trained on your music,
tracked in MLflow."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.frontends.cli.common import Commands
    from bridge.training.tracking import Tracker


def add_commands(commands: Commands, config_option: argparse.ArgumentParser) -> None:
    """Add `train-vae`, `train` and `train-coconet`; not `config_option`, since their own
    --config names a model configuration."""
    _add_train_vae(commands)
    _add_train(commands)
    _add_train_coconet(commands)


def _add_train_vae(commands: Commands) -> None:
    """`train-vae`: a MusicVAE config and Magenta's hyperparameters, a few overridable."""
    train_vae = commands.add_parser(
        "train-vae",
        help="train a MusicVAE or GrooVAE on your own music",
        description="Train a 2-bar MusicVAE natively with Magenta's loss and hyperparameters "
        "(cat-mel_2bar_small: melodies, cat-drums_2bar_small: drum loops, "
        "groovae_2bar_tap_fixed_velocity: drumify, groovae_2bar_humanize: groove). TRAIN and "
        "VALID are folders of MIDI files or .npz corpora of 2-bar windows (see "
        "models/training/README.md). Resumes from OUT/checkpoint.pt.",
    )
    train_vae.add_argument("train", type=Path, help="training data (folder or .npz corpus)")
    train_vae.add_argument("valid", type=Path, help="validation data (folder or .npz corpus)")
    train_vae.add_argument("--out", type=Path, required=True, help="run folder: checkpoints")
    train_vae.add_argument(
        "--config", dest="vae_config", default="cat-mel_2bar_small", help="MusicVAE config"
    )
    train_vae.add_argument(
        "--export", type=Path, default=None, help="also write the best model as NAME.safetensors"
    )
    train_vae.add_argument("--steps", type=int, default=3000, help="training steps")
    train_vae.add_argument("--batch-size", type=int, default=64, help="windows per step")
    train_vae.add_argument(
        "--beta-rate",
        type=float,
        default=None,
        help="KL weight annealing rate (default: Magenta's; 0.999 suits runs of a few "
        "thousand steps)",
    )
    train_vae.add_argument(
        "--free-bits",
        type=float,
        default=None,
        help="KL bits per sequence left unpenalised (default: Magenta's for the config)",
    )
    train_vae.add_argument("--eval-every", type=int, default=250, help="steps between evaluations")
    train_vae.add_argument("--valid-limit", type=int, default=2048, help="validation windows used")
    train_vae.add_argument("--seed", type=int, default=0)
    _add_tracking_options(train_vae)
    train_vae.set_defaults(run=_train_vae)


def _add_train(commands: Commands) -> None:
    """`train`: an events-RNN config, its network's size and the training recipe."""
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
    _add_tracking_options(train)
    train.set_defaults(run=_train)


def _add_train_coconet(commands: Commands) -> None:
    """`train-coconet`: four-voice chorales, coconet_train's recipe, the network's size."""
    train = commands.add_parser(
        "train-coconet",
        help="train a Coconet (four-voice infilling and harmonization) on your own chorales",
        description="Train a Coconet natively with magenta's coconet_train recipe: random "
        "crops under orderless masks, lib_graph's rescaled loss, Adam, batch norm. DATA is a "
        "corpus .npz (models/training/export_coconet_chorales.py) or a folder whose train/ "
        "and valid/ folders hold MIDI files of four tracks, soprano first. Validation is the "
        "orderless NLL per note. Resumes from OUT/checkpoint.pt.",
    )
    train.add_argument("data", type=Path, help="corpus .npz or folder with train/ and valid/")
    train.add_argument("--out", type=Path, required=True, help="run folder: checkpoints, history")
    train.add_argument(
        "--export",
        type=Path,
        default=None,
        help="also write the best model here as NAME.safetensors + NAME.json",
    )
    train.add_argument(
        "--architecture", default="straight", help="straight or dilated (default straight)"
    )
    train.add_argument("--layers", type=int, default=16, help="layers of a straight network")
    train.add_argument("--filters", type=int, default=64, help="filters per layer (default 64)")
    train.add_argument(
        "--dilation-blocks", type=int, default=3, help="blocks of a dilated network (default 3)"
    )
    train.add_argument("--crop", type=int, default=64, help="steps (16ths) per training crop")
    train.add_argument("--batch-size", type=int, default=20, help="crops per step (default 20)")
    train.add_argument("--steps", type=int, default=1000, help="training steps (default 1000)")
    train.add_argument(
        "--learning-rate", type=float, default=2**-4, help="Adam's rate (default magenta's 2**-4)"
    )
    train.add_argument(
        "--final-lr-fraction",
        type=float,
        default=1.0,
        help="cosine-decay the rate to this fraction by the last step (default 1: magenta's "
        "constant rate, halved on plateaus)",
    )
    train.add_argument(
        "--patience", type=int, default=5, help="validations without progress before halving"
    )
    train.add_argument(
        "--mask",
        dest="maskout_method",
        default="orderless",
        help="training masks: orderless (magenta's default) or bernoulli",
    )
    train.add_argument(
        "--mask-only", action="store_true", help="optimise the masked positions' loss only"
    )
    train.add_argument(
        "--transpose",
        type=int,
        default=0,
        help="move each crop by up to this many semitones (default 0: magenta moves nothing)",
    )
    train.add_argument("--eval-every", type=int, default=100, help="steps between validations")
    train.add_argument(
        "--valid-draws", type=int, default=2, help="orderless masks per validation window"
    )
    train.add_argument("--fp32", action="store_true", help="export fp32 weights (default fp16)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps")
    _add_tracking_options(train)
    train.set_defaults(run=_train_coconet)


def _add_tracking_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-track", action="store_true", help="do not log the run to MLflow")
    parser.add_argument(
        "--tracking-uri",
        default=None,
        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else file: ./data/mlruns)",
    )


def _train(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from bridge.training.events_rnn.train import (
        TrainingOptions,
        train_events_rnn,
        training_config,
    )
    from bridge.training.events_rnn.trainable import family_of_config

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
    train = family.read_sequences(args.train, config)
    valid = family.read_sequences(args.valid, config, held_out=True)[: args.valid_limit]
    params = {**asdict(options), "train": args.train, "valid": args.valid, "device": args.device}
    return _tracked(
        args,
        f"train {options.config}",
        params,
        lambda tracker: train_events_rnn(
            train,
            valid,
            args.out,
            options,
            args.device,
            export_name=str(args.export) if args.export else None,
            tracker=tracker,
        ),
    )


def _train_vae(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from bridge.training.music_vae.corpus import read_slices
    from bridge.training.music_vae.train import VaeTrainingOptions, train_music_vae

    options = VaeTrainingOptions(
        config=args.vae_config,
        steps=args.steps,
        batch_size=args.batch_size,
        beta_rate=args.beta_rate,
        free_bits=args.free_bits,
        eval_every=args.eval_every,
        seed=args.seed,
    )
    train = read_slices(args.train, options.config)
    valid = read_slices(args.valid, options.config, limit=args.valid_limit)
    params = {**asdict(options), **asdict(options.hparams()), "train": args.train}
    params["valid"] = args.valid
    return _tracked(
        args,
        f"train-vae {options.config}",
        params,
        lambda tracker: train_music_vae(
            train,
            valid,
            args.out,
            options,
            export_name=str(args.export) if args.export else None,
            tracker=tracker,
        ),
    )


def _train_coconet(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from bridge.training.coconet.corpus import read_splits
    from bridge.training.coconet.train import CoconetTrainingOptions, train_coconet

    options = CoconetTrainingOptions(
        architecture=args.architecture,
        num_layers=args.layers,
        num_filters=args.filters,
        num_dilation_blocks=args.dilation_blocks,
        crop_piece_len=args.crop,
        batch_size=args.batch_size,
        maskout_method=args.maskout_method,
        mask_only=args.mask_only,
        learning_rate=args.learning_rate,
        final_lr_fraction=args.final_lr_fraction,
        patience=args.patience,
        transpose=args.transpose,
        steps=args.steps,
        eval_every=args.eval_every,
        valid_draws=args.valid_draws,
        half=not args.fp32,
        seed=args.seed,
    )
    splits = read_splits(args.data)
    missing = [split for split in ("train", "valid") if not len(splits.get(split, ()))]
    if missing:
        raise ValueError(f"{args.data} has no {' and no '.join(missing)} chorales")
    params = {**asdict(options), "data": args.data, "device": args.device}
    return _tracked(
        args,
        "train-coconet",
        params,
        lambda tracker: train_coconet(
            splits["train"],
            splits["valid"],
            args.out,
            options,
            args.device,
            export_name=str(args.export) if args.export else None,
            tracker=tracker,
        ),
    )


def _tracked(
    args: argparse.Namespace,
    name: str,
    params: dict[str, Any],
    train: Callable[[Tracker], dict[str, Any]],
) -> int:
    """Run a trainer under experiment tracking (unless --no-track) and print its summary."""
    import json

    from bridge.training.tracking import tracking

    with tracking(not args.no_track, args.tracking_uri, name, args.out, params) as tracker:
        summary = train(tracker)
    print(json.dumps({k: v for k, v in summary.items() if k != "history"}, indent=1))
    return 0
