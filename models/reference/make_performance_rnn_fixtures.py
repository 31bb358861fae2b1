#!/usr/bin/env python
"""Make the PerformanceRNN parity fixtures with Google's own `magenta` 2.1.4 code.

Run with the reference virtualenv's python (see setup_magenta_env.sh)::

    .venv-magenta/bin/python models/reference/make_performance_rnn_fixtures.py \
        [--configs performance,performance_with_dynamics] [--steps 40] \
        [--rnn-layer-sizes 128,128,128] [--out tests/fixtures/performance_rnn]

For each of magenta's `performance` and `performance_with_dynamics` configs
(PerformanceOneHotEncoding in a OneHotEventSequenceEncoderDecoder; 32 velocity bins for
the second), with magenta's default hparams except the layer sizes: the default 3x512
LSTM makes a 25 MB bundle and trains slowly on two cores, so the fixtures use 3x128
(about 2.3 MB each; the issue allows smaller PerformanceRNN layers for fixtures):

1. Training data: Bach chorales of the music21 corpus (MusicXML, the first
   ``--chorales`` files ``bach/bwv*.mxl`` by sorted name), each parsed by music21,
   written to MIDI in memory and read back with ``note_seq.midi_to_note_sequence``.  The
   NoteSequences go through magenta's own ``performance_pipeline.get_pipeline(config,
   min_events=32, max_events=512)`` (as performance_rnn_create_dataset calls it: sustain,
   stretch, 30 s split, quantize at 100 steps a second, transpositions -3..3, performance
   extraction, encode); ``pipeline.run_pipeline_serial`` writes
   ``training_performances.tfrecord``.
2. Training: magenta's graph and loop (``events_rnn_train.run_training``) with the seeded
   ``tf.data`` reader of make_melody_rnn_fixtures.py (``--magenta-reader`` keeps magenta's
   nondeterministic queue reader).
3. Bundle: ``PerformanceRnnSequenceGenerator(checkpoint=train_dir)`` with the generation
   graph at batch size 1, then magenta's own ``create_bundle_file`` -> ``<config>.mag``.
4. Reference outputs: three excerpts of chorales never used for training (see PRIMERS),
   read as ``PerformanceRnnSequenceGenerator._generate`` reads a primer: quantized at 100
   steps a second (``quantize_note_sequence_absolute``), ``extract_performances(start_step=0,
   num_velocity_bins)``, then ``set_length`` up to the generate section's start step
   (``quantize_to_step(total_time, 100, quantize_cutoff=0.0)``).  Their full-length
   encoder inputs are fed to the ``inputs`` collection with temperature 1.0 and the zero
   initial state, and the ``softmax`` collection is recorded -> ``<config>_reference.npz``
   (float32 softmax only) / ``<config>_reference.json``.

The music21 corpus is under non-commercial terms: the weights may be committed, the data
may not.  So the reference stores no primer (no events, inputs or labels): the JSON holds
a recipe per primer (chorale, first beat, number of beats) and the SHA-256 of its events,
and tests/models/test_performance_parity.py rebuilds it from music21.
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
from magenta.models.performance_rnn import performance_model
from magenta.models.performance_rnn import performance_sequence_generator
from magenta.models.shared import sequence_generator_bundle
from magenta.pipelines import performance_pipeline
from magenta.pipelines import pipeline as magenta_pipeline
from note_seq.protobuf import music_pb2

# The training loop, reader and checkpoint description are the melody fixtures' own.
from make_melody_rnn_fixtures import describe_v1_table, sha256, train

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "performance_rnn")
ALL_CONFIGS = ("performance", "performance_with_dynamics")
SMALL_LAYERS = "128,128,128"
# Held-out excerpts (the training set is the first chorales by name; these sort last):
# chorale, first beat, beats.  bwv97.9 doubles voices (the same pitch sounds twice at
# once) and its fermata holds every voice past a second (a full TIME_SHIFT of 100 steps).
# Short, so the float32 softmax stays small (about 0.3 MB a config).
PRIMERS = (
    ("bach/bwv99.6.mxl", 0, 4),
    ("bach/bwv97.9.mxl", 20, 6),
    ("bach/bwv95.7.mxl", 12, 4),
)
# The chorales have one velocity (90); these give each voice (the MIDI track music21
# writes it to: note.instrument) its own, so the primers carry several VELOCITY events.
VOICE_VELOCITIES = (100, 84, 68, 116)
PRIMER_HASH = (
    "sha256 of the primer's events as PerformanceOneHotEncoding(num_velocity_bins) "
    "indices (NOTE_ON p: p; NOTE_OFF p: 128+p; TIME_SHIFT s: 255+s; VELOCITY b: 355+b) "
    "written in decimal, comma-separated, ASCII"
)


def log(msg: str) -> None:
    print(f"[performance fixtures {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def chorale_paths() -> list[str]:
    """Corpus-relative paths of the Bach chorales in MusicXML, sorted ("bach/bwv1.6.mxl")."""
    import music21

    root = os.path.join(os.path.dirname(music21.__file__), "corpus")
    return sorted(
        os.path.relpath(path, root) for path in glob.glob(os.path.join(root, "bach", "bwv*.mxl"))
    )


def chorale_sequence(name: str):
    """music21 MusicXML -> MIDI bytes -> NoteSequence, as the parity test rebuilds it."""
    import music21

    score = music21.corpus.parse(name)
    midi = music21.midi.translate.music21ObjectToMidiFile(score).writestr()
    sequence = note_seq.midi_to_note_sequence(midi)
    sequence.id = sequence.filename = name
    sequence.collection_name = "music21 corpus bach chorales"
    return sequence


def excerpt(sequence, start_beat: int, beats: int):
    """Notes starting in [start_beat, start_beat + beats), cut there, from time 0.

    Beats are at the chorale's first tempo; each note takes its voice's velocity
    (VOICE_VELOCITIES by MIDI track); total_time is the excerpt's length, where magenta's
    generator would start a generate section.  tests/models/test_performance_parity.py
    makes the same excerpt.
    """
    qpm = sequence.tempos[0].qpm
    start, end = start_beat * 60.0 / qpm, (start_beat + beats) * 60.0 / qpm
    out = music_pb2.NoteSequence(ticks_per_quarter=sequence.ticks_per_quarter)
    out.tempos.add(time=0.0, qpm=qpm)
    signature = sequence.time_signatures[0]
    out.time_signatures.add(
        time=0.0, numerator=signature.numerator, denominator=signature.denominator
    )
    for note in sequence.notes:
        if start <= note.start_time < end:
            out.notes.add(
                pitch=note.pitch,
                velocity=VOICE_VELOCITIES[note.instrument % len(VOICE_VELOCITIES)],
                start_time=note.start_time - start,
                end_time=min(note.end_time, end) - start,
            )
    out.total_time = end - start
    return out


def generator_primer(sequence, config):
    """The Performance PerformanceRnnSequenceGenerator._generate extends for `sequence`
    with a generate section from its total_time."""
    quantized = note_seq.quantize_note_sequence_absolute(sequence, config.steps_per_second)
    performances, _ = performance_pipeline.extract_performances(
        quantized, start_step=0, num_velocity_bins=config.num_velocity_bins
    )
    assert len(performances) == 1
    performance = performances[0]
    start_step = note_seq.quantize_to_step(
        sequence.total_time, config.steps_per_second, quantize_cutoff=0.0
    )
    performance.set_length(start_step - performance.start_step)
    return performance


def primer_sha256(labels) -> str:
    """See PRIMER_HASH; tests/models/test_performance_parity.py computes the same."""
    return hashlib.sha256(",".join(str(int(label)) for label in labels).encode("ascii")).hexdigest()


def build_dataset(config, note_sequences, out_dir: str) -> dict:
    """performance_rnn_create_dataset's pipeline, on NoteSequences in memory."""
    pipe = performance_pipeline.get_pipeline(
        config=config, min_events=32, max_events=512, eval_ratio=0.0
    )
    os.makedirs(out_dir, exist_ok=True)
    magenta_pipeline.run_pipeline_serial(pipe, iter(note_sequences), out_dir)
    path = os.path.join(out_dir, "training_performances.tfrecord")
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


# --------------------------------------------------------------------------
# Bundle + reference outputs
# --------------------------------------------------------------------------


def generation_config(config):
    config = copy.deepcopy(config)
    config.hparams.batch_size = 1  # generation graph: one sequence
    return config


def make_generator(config, **source):
    config = generation_config(config)
    return performance_sequence_generator.PerformanceRnnSequenceGenerator(
        model=performance_model.PerformanceRnnModel(config),
        details=config.details,
        steps_per_second=config.steps_per_second,
        num_velocity_bins=config.num_velocity_bins,
        control_signals=config.control_signals,
        optional_conditioning=config.optional_conditioning,
        note_performance=config.note_performance,
        **source,
    )


def make_bundle(config, train_dir: str, bundle_path: str, description: str) -> None:
    generator = make_generator(config, checkpoint=train_dir)
    os.makedirs(os.path.dirname(bundle_path), exist_ok=True)
    tmp = bundle_path + ".tmp"
    generator.create_bundle_file(tmp, description)
    generator.close()
    os.replace(tmp, bundle_path)


def reference_outputs(config, bundle_path: str, primers: list[dict]) -> tuple[dict, dict]:
    bundle = sequence_generator_bundle.read_bundle_file(bundle_path)
    # The generator map's config would rebuild default layer sizes; bind ours instead.
    generator = make_generator(config, bundle=bundle)
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
        performance = primer["performance"]
        inputs = np.asarray(encoder.get_inputs_batch([performance], full_length=True), np.float32)
        feed = {g_inputs: inputs, tuple(g_init): zero_state, g_temperature: 1.0}
        softmax = session.run(g_softmax, feed)[0].astype(np.float32)
        arrays[f"softmax_{i}"] = softmax  # no primer, inputs or labels: non-commercial data
        loglik = float(
            sum(
                np.log(softmax[t, encoder.events_to_label(performance, t + 1)])
                for t in range(len(performance) - 1)
            )
        )
        checks.append(
            {
                "primer": i,
                "events": len(performance),
                "loglik_from_softmax": loglik,
                "loglik_magenta_performance_log_likelihood": float(
                    model.performance_log_likelihood(performance, None, None)
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


def make_primers(config) -> list[dict]:
    one_hot = config.encoder_decoder._one_hot_encoding  # pylint: disable=protected-access
    primers = []
    for name, start_beat, beats in PRIMERS:
        sequence = excerpt(chorale_sequence(name), start_beat, beats)
        performance = generator_primer(sequence, config)
        labels = [one_hot.encode_event(event) for event in performance]
        primers.append(
            {
                "performance": performance,
                "recipe": {
                    "chorale": name,
                    "start_beat": start_beat,
                    "beats": beats,
                    "events": len(performance),
                    "steps": performance.num_steps,
                    "primer_sha256": primer_sha256(labels),
                },
            }
        )
    return primers


# --------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default=",".join(ALL_CONFIGS))
    parser.add_argument("--steps", type=int, default=40, help="training steps per config")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=16,
        help="training batch size (magenta default 64; no variable shape depends on it)",
    )
    parser.add_argument(
        "--rnn-layer-sizes",
        default=SMALL_LAYERS,
        help="comma-separated LSTM sizes (magenta's default is 512,512,512)",
    )
    parser.add_argument("--chorales", type=int, default=10, help="chorales to train on")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--work", default=None, help="scratch dir (default: a temp dir, removed)")
    parser.add_argument(
        "--magenta-reader",
        action="store_true",
        help="use magenta's queue-based (nondeterministic) TFRecord reader",
    )
    args = parser.parse_args(argv)
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    for config_id in configs:
        if config_id not in ALL_CONFIGS:
            parser.error(f"unknown config {config_id} (expected one of {', '.join(ALL_CONFIGS)})")
    random.seed(args.seed)
    np.random.seed(args.seed)

    work = args.work or tempfile.mkdtemp(prefix="performance_rnn_fixtures_")
    os.makedirs(work, exist_ok=True)
    started = time.time()
    try:
        names = chorale_paths()
        held_out = {name for name, _, _ in PRIMERS}
        training_names = [name for name in names if name not in held_out][: args.chorales]
        assert held_out.isdisjoint(training_names)
        sequences = [chorale_sequence(name) for name in training_names]
        log(f"parsed {len(sequences)} training chorales in {time.time() - started:.1f}s")

        for config_id in configs:
            config_started = time.time()
            config = copy.deepcopy(performance_model.default_configs[config_id])
            config.hparams.batch_size = args.batch_size
            config.hparams.rnn_layer_sizes = [int(s) for s in args.rnn_layer_sizes.split(",")]
            config_dir = os.path.join(work, config_id)
            shutil.rmtree(config_dir, ignore_errors=True)
            data = build_dataset(config, sequences, os.path.join(config_dir, "data"))
            log(f"{config_id}: {data['records']} SequenceExamples, {data['steps_total']} events")
            trained = train(
                config,
                data["path"],
                os.path.join(config_dir, "train"),
                args.steps,
                args.seed,
                args.magenta_reader,
            )
            log(
                f"{config_id}: trained to step {trained['global_step']} in "
                f"{trained['train_seconds']}s; loss {trained['loss_by_step']}"
            )
            bundle_path = os.path.join(args.out, f"{config_id}.mag")
            sizes = "x".join(map(str, config.hparams.rnn_layer_sizes))
            make_bundle(
                config,
                os.path.join(config_dir, "train"),
                bundle_path,
                f"Magenta Bridge parity fixture: {config_id} ({sizes} LSTM instead of "
                f"3x512), {trained['global_step']} training steps on music21 Bach chorales. "
                "Not a useful model.",
            )
            log(f"{config_id}: wrote {bundle_path} ({os.path.getsize(bundle_path)} bytes)")

            primers = make_primers(config)
            arrays, meta = reference_outputs(config, bundle_path, primers)
            npz_path = os.path.join(args.out, f"{config_id}_reference.npz")
            np.savez_compressed(npz_path, **arrays)
            encoder = config.encoder_decoder
            doc = {
                "config_id": config_id,
                "description": config.details.description,
                "hparams_training": config.hparams.values(),
                "hparams_generate_graph": generation_config(config).hparams.values(),
                "hparams_note": "magenta's defaults except rnn_layer_sizes (default "
                "[512, 512, 512]) and the training batch size (default 64)",
                "encoder_decoder": type(encoder).__name__,
                "one_hot_encoding": "PerformanceOneHotEncoding(num_velocity_bins="
                f"{config.num_velocity_bins})",
                "num_velocity_bins": config.num_velocity_bins,
                "steps_per_second": config.steps_per_second,
                "input_size": int(encoder.input_size),
                "num_classes": int(encoder.num_classes),
                "default_event_label": int(encoder.default_event_label),
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
                    "source": "music21 corpus Bach chorales (MusicXML) -> music21 MIDI -> "
                    "note_seq.midi_to_note_sequence",
                    "license": "music21 corpus: non-commercial use; not committed",
                    "training_chorales": training_names,
                    "pipeline": "magenta performance_pipeline.get_pipeline(config, "
                    "min_events=32, max_events=512, eval_ratio=0) via "
                    "pipeline.run_pipeline_serial",
                    "sequence_examples": data["records"],
                    "sequence_example_events_total": data["steps_total"],
                    "sequence_example_events_min_max": data["steps_min_max"],
                },
                "primers": {
                    "stored": "none: the music21 corpus is non-commercial data, which this "
                    "project never commits. Each primer is rebuilt from its recipe.",
                    "rebuild": "music21.corpus.parse(chorale) -> "
                    "music21.midi.translate.music21ObjectToMidiFile(score).writestr() -> "
                    "note_seq.midi_to_note_sequence; keep the notes starting in "
                    "[start_beat, start_beat + beats) at the first tempo, cut at the end, "
                    "moved to time 0, velocity voice_velocities[note.instrument % 4], "
                    "total_time the excerpt's length; quantize_note_sequence_absolute(100), "
                    "extract_performances(start_step=0, num_velocity_bins), set_length("
                    "quantize_to_step(total_time, 100, quantize_cutoff=0.0)), as "
                    "PerformanceRnnSequenceGenerator._generate reads a primer",
                    "voice_velocities": list(VOICE_VELOCITIES),
                    "hash": PRIMER_HASH,
                    "recipes": [p["recipe"] for p in primers],
                },
                "reference": {
                    "method": "teacher-forced: encoder_decoder.get_inputs_batch([performance],"
                    " full_length=True) fed to collection 'inputs' of the bundle's generate "
                    "graph, 'temperature'=1.0, zero 'initial_state'; collection 'softmax' "
                    "recorded. softmax_i[t] is the distribution of event t+1 given events "
                    "0..t.",
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
            with open(os.path.join(args.out, f"{config_id}_reference.json"), "w") as fh:
                json.dump(doc, fh, indent=1)
                fh.write("\n")
            log(
                f"{config_id}: reference written; loglik checks {meta['loglik_checks']}; "
                f"took {time.time() - config_started:.1f}s"
            )
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    log(f"all done in {time.time() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
