#!/usr/bin/env python
"""Make the DrumsRNN parity fixture with Google's own `magenta` 2.1.4 code.

Run with the reference virtualenv's python (see setup_magenta_env.sh), after rendering
the MMA grooves (models/training/export_mma_grooves.py -> data/mma_drums)::

    .venv-magenta/bin/python models/reference/make_drums_rnn_fixtures.py \
        [--steps 40] [--batch-size 32] [--data data/mma_drums] [--out tests/fixtures/drums_rnn]

For magenta's `drum_kit` config at its DEFAULT hparams (3x256 LSTM, attn_length 32,
MultiDrumOneHotEncoding in a LookbackEventSequenceEncoderDecoder with no lookbacks and a
6-bit counter), unless --rnn-layer-sizes asks for a smaller network:

1. Training data: the drum tracks rendered from MMA's groove library, train split.  Each
   MIDI file is read with ``note_seq.midi_file_to_note_sequence`` and the NoteSequences go
   through magenta's own ``drums_rnn_pipeline.get_pipeline(config)`` (time-change split,
   quantize at 4 steps/quarter, drum track extraction of at least 7 bars, encode);
   ``pipeline.run_pipeline_serial`` writes ``training_drum_tracks.tfrecord``.
2. Training: magenta's graph and loop (``events_rnn_train.run_training``), with the seeded
   ``tf.data`` reader of make_melody_rnn_fixtures.py in place of magenta's nondeterministic
   queue reader (``--magenta-reader`` keeps magenta's own).
3. Bundle: ``DrumsRnnSequenceGenerator(checkpoint=train_dir)`` with the generation graph
   at batch size 1, then magenta's own ``create_bundle_file`` -> ``drum_kit.mag``.
4. Reference outputs: the bundle is read back with ``read_bundle_file`` and the drums
   generator map; primers of a few lengths come from grooves of the test split, extracted
   exactly as ``DrumsRnnSequenceGenerator._generate`` extracts a primer
   (``extract_drum_tracks(min_bars=0, gap_bars=inf, ignore_is_drum=True)``, then
   ``set_length``).  Their full-length encoder inputs are fed to the ``inputs`` collection
   with temperature 1.0 and the zero initial state, and the ``softmax`` collection is
   recorded -> ``drum_kit_reference.npz`` (float32 softmax only) /
   ``drum_kit_reference.json``.

The grooves are GPL data, so the reference stores no primer: not its events, inputs or
labels.  The JSON holds a recipe per primer instead (MMA library file, groove name, bars
rendered, start step and number of steps) and the SHA-256 of its step values
(``primer_sha256``), so the parity test renders the groove again with mma, rebuilds the
primer and notices when mma renders it differently.
"""

from __future__ import annotations

import argparse
import copy
import glob
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import magenta_runtime

tf = magenta_runtime.setup(verbose=bool(os.environ.get("MAGENTA_VERBOSE")))

import numpy as np
import note_seq
from magenta.models.drums_rnn import drums_rnn_model
from magenta.models.drums_rnn import drums_rnn_pipeline
from magenta.models.drums_rnn import drums_rnn_sequence_generator
from magenta.models.shared import sequence_generator_bundle
from magenta.pipelines import drum_pipelines
from magenta.pipelines import pipeline as magenta_pipeline

# The training loop, reader and checkpoint description are the melody fixtures' own.
from make_melody_rnn_fixtures import describe_v1_table, sha256, train

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "drums_rnn")
DEFAULT_DATA = os.path.join(REPO, "data", "mma_drums")
CONFIG_ID = "drum_kit"
# 37 > attn_length (32); 70 > 64, where the 6-bit counter wraps.
PRIMER_LENGTHS = (16, 37, 70)
PRIMER_HASH = (
    "sha256 of the primer's step values (MultiDrumOneHotEncoding.encode_event of each step: "
    "bit c set when drum class c is hit) written in decimal, comma-separated, ASCII"
)


def primer_sha256(events) -> str:
    """See PRIMER_HASH; tests/models/test_drums_parity.py computes the same."""
    return hashlib.sha256(",".join(str(int(e)) for e in events).encode("ascii")).hexdigest()


def log(msg: str) -> None:
    print(f"[drum fixtures {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def midi_files(data_dir: str, split: str) -> list[str]:
    files = sorted(glob.glob(os.path.join(data_dir, split, "*", "*.mid")))
    if not files:
        raise SystemExit(
            f"no MIDI files under {os.path.join(data_dir, split)}; "
            "run models/training/export_mma_grooves.py first"
        )
    return files


def read_sequences(paths: list[str], data_dir: str) -> list:
    sequences = []
    for path in paths:
        ns = note_seq.midi_file_to_note_sequence(path)
        ns.id = ns.filename = os.path.relpath(path, data_dir)
        ns.collection_name = "mma grooves (drums)"
        sequences.append(ns)
    return sequences


def build_dataset(config, note_sequences, out_dir: str) -> dict:
    """magenta's drums_rnn_create_dataset logic: pipeline -> TFRecord."""
    pipe = drums_rnn_pipeline.get_pipeline(config, eval_ratio=0.0)
    os.makedirs(out_dir, exist_ok=True)
    magenta_pipeline.run_pipeline_serial(pipe, iter(note_sequences), out_dir)
    path = os.path.join(out_dir, "training_drum_tracks.tfrecord")
    lengths = [
        len(tf.train.SequenceExample.FromString(rec).feature_lists.feature_list["inputs"].feature)
        for rec in tf.python_io.tf_record_iterator(path)
    ]
    return {
        "path": path,
        "records": len(lengths),
        "steps_total": int(sum(lengths)),
        "steps_min_max": [int(min(lengths)), int(max(lengths))] if lengths else [0, 0],
    }


def extract_primers(paths: list[str], grooves: dict[str, dict], steps_per_quarter: int) -> list:
    """Primers as DrumsRnnSequenceGenerator._generate extracts them.

    One groove per length, each from a different MMA file (`grooves`: MIDI file -> its
    manifest entry), long enough and hitting at least three drum classes.
    """
    primers, wanted, used = [], list(PRIMER_LENGTHS), set()
    one_hot = note_seq.MultiDrumOneHotEncoding()
    for path in paths:
        if not wanted:
            break
        groove = grooves[path]
        if groove["file"] in used:
            continue
        ns = note_seq.midi_file_to_note_sequence(path)
        quantized = note_seq.quantize_note_sequence(ns, steps_per_quarter)
        tracks, _ = drum_pipelines.extract_drum_tracks(
            quantized,
            search_start_step=0,
            min_bars=0,
            gap_bars=float("inf"),
            ignore_is_drum=True,
        )
        if not tracks or len(tracks[0]) < wanted[0]:
            continue
        track = copy.deepcopy(tracks[0])
        track.set_length(wanted[0])
        events = [one_hot.encode_event(event) for event in track]
        hit = 0
        for event in events:
            hit |= event
        if bin(hit).count("1") < 3:  # a primer should exercise more than kick and snare
            continue
        wanted.pop(0)
        used.add(groove["file"])
        primers.append(
            {
                "track": track,
                "source": f"{groove['file']}.mma, {os.path.basename(path)}",
                "recipe": {
                    "library_file": groove["file"],
                    "groove": groove["name"],
                    "start_step": int(track.start_step),
                    "steps": len(track),
                    "primer_sha256": primer_sha256(events),
                },
            }
        )
    if wanted:
        raise RuntimeError(f"could not find primers of lengths {wanted}")
    return primers


def generation_config(config):
    config = copy.deepcopy(config)
    config.hparams.batch_size = 1  # generation graph: one sequence
    return config


def make_bundle(config, train_dir: str, bundle_path: str, description: str) -> None:
    config = generation_config(config)
    generator = drums_rnn_sequence_generator.DrumsRnnSequenceGenerator(
        model=drums_rnn_model.DrumsRnnModel(config),
        details=config.details,
        steps_per_quarter=config.steps_per_quarter,
        checkpoint=train_dir,
    )
    os.makedirs(os.path.dirname(bundle_path), exist_ok=True)
    tmp = bundle_path + ".tmp"
    generator.create_bundle_file(tmp, description)
    generator.close()
    os.replace(tmp, bundle_path)


def reference_outputs(config, bundle_path: str, primers: list[dict]) -> tuple[dict, dict]:
    bundle = sequence_generator_bundle.read_bundle_file(bundle_path)
    # The generator map's config would rebuild default layer sizes; bind ours instead.
    generator = drums_rnn_sequence_generator.DrumsRnnSequenceGenerator(
        model=drums_rnn_model.DrumsRnnModel(generation_config(config)),
        details=config.details,
        steps_per_quarter=config.steps_per_quarter,
        bundle=bundle,
    )
    generator.initialize()
    model = generator._model  # pylint: disable=protected-access
    session = model._session  # pylint: disable=protected-access
    graph = session.graph
    encoder = config.encoder_decoder
    g_inputs = graph.get_collection("inputs")[0]
    g_init = graph.get_collection("initial_state")
    g_temperature = graph.get_collection("temperature")[0]
    g_softmax = graph.get_collection("softmax")[0]
    zero_state = session.run(g_init)

    arrays, checks = {}, []
    for i, primer in enumerate(primers):
        track = primer["track"]
        inputs = np.asarray(encoder.get_inputs_batch([track], full_length=True), np.float32)
        feed = {g_inputs: inputs, tuple(g_init): zero_state, g_temperature: 1.0}
        softmax = session.run(g_softmax, feed)[0].astype(np.float32)
        arrays[f"softmax_{i}"] = softmax  # no primer, inputs or labels: GPL data
        loglik = float(
            sum(
                np.log(softmax[t, encoder.events_to_label(track, t + 1)])
                for t in range(len(track) - 1)
            )
        )
        checks.append(
            {
                "primer": i,
                "source": primer["source"],
                "steps": len(track),
                "loglik_from_softmax": loglik,
                "loglik_magenta_drum_track_log_likelihood": float(
                    model.drum_track_log_likelihood(track)
                ),
            }
        )
    with tempfile.TemporaryDirectory() as scratch:
        checkpoint = os.path.join(scratch, "model.ckpt")
        with open(checkpoint, "wb") as fh:
            fh.write(bundle.checkpoint_file[0])
        reader = tf.train.load_checkpoint(checkpoint)
        dtypes = reader.get_variable_to_dtype_map()
        variables = {
            name: {"shape": list(shape), "dtype": dtypes[name].name}
            for name, shape in sorted(reader.get_variable_to_shape_map().items())
        }
    meta = {
        "generate_graph_batch_size": int(g_inputs.shape[0]),
        "initial_state_tensors": [{"name": t.name, "shape": t.shape.as_list()} for t in g_init],
        "checkpoint_variables": variables,
        "bundle": {
            "generator_id": bundle.generator_details.id,
            "generator_description": bundle.generator_details.description,
            "bundle_description": bundle.bundle_details.description,
            "checkpoint_files": len(bundle.checkpoint_file),
            "checkpoint_bytes": len(bundle.checkpoint_file[0]),
            "metagraph_bytes": len(bundle.metagraph_file),
            "checkpoint_format": "TensorFlow V1 single-file (SSTable of SavedTensorSlices)",
            "checkpoint_table": describe_v1_table(bundle.checkpoint_file[0]),
        },
        "loglik_checks": checks,
    }
    generator.close()
    return arrays, meta


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40, help="training steps")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=32,
        help="training batch size (magenta default 128; no variable shape depends on it)",
    )
    parser.add_argument(
        "--rnn-layer-sizes",
        default=None,
        help="comma-separated layer sizes instead of magenta's default 256,256,256",
    )
    parser.add_argument("--name", default=CONFIG_ID, help="fixture file stem")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--work", default=None, help="scratch dir (default: a temp dir, removed)")
    parser.add_argument(
        "--magenta-reader",
        action="store_true",
        help="use magenta's queue-based (nondeterministic) TFRecord reader",
    )
    args = parser.parse_args(argv)
    random.seed(args.seed)
    np.random.seed(args.seed)

    config = copy.deepcopy(drums_rnn_model.default_configs[CONFIG_ID])
    config.hparams.batch_size = args.batch_size
    if args.rnn_layer_sizes:
        config.hparams.rnn_layer_sizes = [int(s) for s in args.rnn_layer_sizes.split(",")]
    work = args.work or tempfile.mkdtemp(prefix="drums_rnn_fixtures_")
    os.makedirs(work, exist_ok=True)
    started = time.time()
    try:
        train_files = midi_files(args.data, "train")
        sequences = read_sequences(train_files, args.data)
        data = build_dataset(config, sequences, os.path.join(work, "data"))
        log(
            f"{len(sequences)} grooves -> {data['records']} SequenceExamples, "
            f"{data['steps_total']} steps"
        )
        trained = train(
            config,
            data["path"],
            os.path.join(work, "train"),
            args.steps,
            args.seed,
            args.magenta_reader,
        )
        log(
            f"trained to step {trained['global_step']} in {trained['train_seconds']}s; "
            f"loss {trained['loss_by_step']}"
        )
        bundle_path = os.path.join(args.out, f"{args.name}.mag")
        sizes = "x".join(map(str, config.hparams.rnn_layer_sizes))
        make_bundle(
            config,
            os.path.join(work, "train"),
            bundle_path,
            f"Magenta Bridge parity fixture: drum_kit ({sizes} LSTM, attn_length "
            f"{config.hparams.attn_length}), {trained['global_step']} training steps on drum "
            f"tracks rendered from MMA's groove library. Not a useful model.",
        )
        log(f"wrote {bundle_path} ({os.path.getsize(bundle_path)} bytes)")

        with open(os.path.join(args.data, "manifest.json")) as fh:
            manifest = json.load(fh)
        grooves = {
            os.path.join(args.data, g["midi_file"]): g
            for g in manifest["grooves"]
            if g["midi_file"]
        }
        primers = extract_primers(midi_files(args.data, "test"), grooves, config.steps_per_quarter)
        arrays, meta = reference_outputs(config, bundle_path, primers)
        npz_path = os.path.join(args.out, f"{args.name}_reference.npz")
        np.savez_compressed(npz_path, **arrays)
        encoder = config.encoder_decoder
        doc = {
            "config_id": CONFIG_ID,
            "description": config.details.description,
            "hparams_training": config.hparams.values(),
            "hparams_generate_graph": generation_config(config).hparams.values(),
            "encoder_decoder": type(encoder).__name__,
            "one_hot_encoding": "MultiDrumOneHotEncoding (DEFAULT_DRUM_TYPE_PITCHES)",
            "lookback_distances": list(encoder._lookback_distances),  # pylint: disable=protected-access
            "binary_counter_bits": encoder._binary_counter_bits,  # pylint: disable=protected-access
            "input_size": int(encoder.input_size),
            "num_classes": int(encoder.num_classes),
            "default_event_label": int(encoder.default_event_label),
            "steps_per_quarter": config.steps_per_quarter,
            "versions": magenta_runtime.versions(),
            "training": {
                "steps": trained["global_step"],
                "batch_size": args.batch_size,
                "seconds": trained["train_seconds"],
                "loss_by_step": trained["loss_by_step"],
                "loop": "magenta.models.shared.events_rnn_train.run_training "
                "(tf_slim.training.train, Adam, clip_norm)",
                "reader": (
                    "magenta.common.get_padded_batch (queues)"
                    if args.magenta_reader
                    else "seeded tf.data replacement for magenta.common.get_padded_batch"
                ),
                "dynamic_rnn_parallel_iterations": 1,
            },
            "data": {
                "source": "MMA groove library rendered by models/training/export_mma_grooves.py "
                "(drums only) -> note_seq.midi_file_to_note_sequence",
                "license": manifest["license"],
                "mma_version": manifest["mma_version"],
                "bars_per_groove": manifest["bars"],
                "training_files": len(train_files),
                "pipeline": "magenta drums_rnn_pipeline.get_pipeline(config, eval_ratio=0) "
                "via pipeline.run_pipeline_serial",
                "sequence_examples": data["records"],
                "sequence_example_steps_total": data["steps_total"],
                "sequence_example_steps_min_max": data["steps_min_max"],
                "primer_split": "test",
                "primer_lengths": list(PRIMER_LENGTHS),
                "primer_extraction": "quantize 4 steps/quarter, drum_pipelines."
                "extract_drum_tracks(min_bars=0, gap_bars=inf, ignore_is_drum=True) "
                "(as DrumsRnnSequenceGenerator), set_length(N); the first test grooves "
                "(sorted by path) long enough, hitting at least 3 drum classes in those N "
                "steps, one per MMA file",
            },
            "primers": {
                "stored": "none: the grooves are GPL-2+ data, which this project installs at "
                "build time and never commits. Each primer is rebuilt from its recipe.",
                "rebuild": "render `bars` bars of `groove` from MMA library file "
                "`library_file` with models/training/export_mma_grooves.py (render_groove "
                "then drum_part, as the export and tests/conftest.py do); "
                "note_seq.midi_to_note_sequence, quantize at 4 steps per quarter, "
                "DrumTrack.from_quantized_sequence(gap_bars=inf, ignore_is_drum=True) (the "
                "drum track starts at the bar of the first hit); keep `steps` steps from "
                "quantized step `start_step`",
                "bars": manifest["bars"],
                "hash": PRIMER_HASH,
                "recipes": [p["recipe"] for p in primers],
            },
            "reference": {
                "method": "teacher-forced: encoder_decoder.get_inputs_batch([track], "
                "full_length=True) fed to collection 'inputs' of the bundle's generate "
                "graph, 'temperature'=1.0, zero 'initial_state'; collection 'softmax' "
                "recorded. softmax_i[t] is the distribution of step t+1 given steps 0..t.",
                "npz": os.path.basename(npz_path),
                "shapes": {k: list(v.shape) for k, v in sorted(arrays.items())},
            },
            "seeds": {
                "tf_graph_seed": args.seed,
                "numpy": args.seed,
                "python_random": args.seed,
                "tf_data_shuffle": None if args.magenta_reader else args.seed,
            },
            "bundle_file": os.path.basename(bundle_path),
            "bundle_sha256": sha256(bundle_path),
            "checkpoint_sha256": hashlib.sha256(
                sequence_generator_bundle.read_bundle_file(bundle_path).checkpoint_file[0]
            ).hexdigest(),
            "bundle_bytes": os.path.getsize(bundle_path),
        }
        doc.update(meta)
        with open(os.path.join(args.out, f"{args.name}_reference.json"), "w") as fh:
            json.dump(doc, fh, indent=1)
            fh.write("\n")
        log(f"reference written; loglik checks {meta['loglik_checks']}")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    log(f"all done in {time.time() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
