#!/usr/bin/env python
"""Make the PolyphonyRNN parity fixture with Google's own `magenta` 2.1.4 code.

Run with the reference virtualenv's python (see setup_magenta_env.sh)::

    .venv-magenta/bin/python models/reference/make_polyphony_rnn_fixtures.py \
        [--steps 40] [--batch-size 16] [--chorales 40] [--out tests/fixtures/polyphony_rnn]

For magenta's `polyphony` config at its DEFAULT hparams (3x256 LSTM over the one-hot
PolyphonyOneHotEncoding: START, END, STEP_END, NEW_NOTE and CONTINUED_NOTE of pitches 0-127,
259 classes), unless --rnn-layer-sizes asks for a smaller network:

1. Training data: Bach chorales from the music21 corpus (the first ``--chorales`` of its
   ``bach`` folder, sorted by path), each parsed by music21, written to MIDI in memory and
   read back with ``note_seq.midi_to_note_sequence``.  They go through magenta's own
   ``polyphony_rnn_pipeline.get_pipeline(config, min_steps=80, max_steps=512)`` (the
   arguments of ``polyphony_rnn_create_dataset``: time-change split, quantize at 4
   steps/quarter, transpositions -4..4, polyphonic sequence extraction, encode) and
   ``pipeline.run_pipeline_serial`` writes ``training_poly_tracks.tfrecord``.
2. Training: magenta's graph and loop (``events_rnn_train.run_training``), with the seeded
   ``tf.data`` reader of make_melody_rnn_fixtures.py in place of magenta's nondeterministic
   queue reader (``--magenta-reader`` keeps magenta's own).  The batch size changes no
   variable's shape; magenta's 64 is slow here, where a padded batch of chorales runs to
   about 2,500 events.
3. Bundle: ``PolyphonyRnnSequenceGenerator(checkpoint=train_dir)`` with the generation
   graph at batch size 1, then magenta's own ``create_bundle_file`` -> ``polyphony.mag``.
4. Reference outputs: the bundle is read back with ``read_bundle_file``; primers come from
   chorales never used for training, extracted as ``PolyphonyRnnSequenceGenerator._generate``
   prepares one (quantize at 4 steps per quarter, ``extract_polyphonic_sequences`` from a
   start step, ``set_length``, ``trim_trailing_end_events``: START, then each step's notes
   and its STEP_END, no END).  Their full-length encoder inputs are fed to the ``inputs``
   collection with temperature 1.0 and the zero initial state, and the ``softmax``
   collection is recorded -> ``polyphony_reference.npz`` (float32 softmax only) /
   ``polyphony_reference.json``.

The chorales' corpus terms are non-commercial, so no primer is stored: the JSON holds a
recipe per primer (chorale, start step, steps) and the SHA-256 of its event classes
(``primer_sha256``); the parity test rebuilds the primer from music21 and checks the hash.
"""

from __future__ import annotations

import argparse
import copy
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
from magenta.models.polyphony_rnn import polyphony_encoder_decoder
from magenta.models.polyphony_rnn import polyphony_lib
from magenta.models.polyphony_rnn import polyphony_model
from magenta.models.polyphony_rnn import polyphony_rnn_pipeline
from magenta.models.polyphony_rnn import polyphony_sequence_generator
from magenta.models.shared import sequence_generator_bundle
from magenta.pipelines import pipeline as magenta_pipeline

# The training loop, reader and checkpoint description are the melody fixtures' own.
from make_melody_rnn_fixtures import describe_v1_table, sha256, train

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "polyphony_rnn")
CONFIG_ID = "polyphony"
MIN_STEPS, MAX_STEPS = 80, 512  # polyphony_rnn_create_dataset's arguments
# (start step, steps) of each primer, each from its own held-out chorale.
PRIMER_SPANS = ((0, 8), (16, 16), (32, 32))
PRIMER_HASH = (
    "sha256 of the primer's event classes (PolyphonyOneHotEncoding.encode_event of each "
    "event: 0 START, 1 END, 2 STEP_END, 3 + pitch NEW_NOTE, 131 + pitch CONTINUED_NOTE) "
    "written in decimal, comma-separated, ASCII"
)


def primer_sha256(classes) -> str:
    """See PRIMER_HASH; tests/models/test_polyphony_parity.py computes the same."""
    return hashlib.sha256(",".join(str(int(c)) for c in classes).encode("ascii")).hexdigest()


def log(msg: str) -> None:
    print(f"[polyphony fixtures {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def chorale_paths() -> list[str]:
    """The chorales of music21's corpus (bach/bwv*.mxl), as corpus-relative paths, sorted.

    The bach folder also holds roman-numeral analyses and a few other formats; only the
    MusicXML chorale scores are used.
    """
    import music21

    corpus = os.path.join(os.path.dirname(music21.__file__), "corpus")
    names = os.listdir(os.path.join(corpus, "bach"))
    return sorted(
        f"bach/{name}" for name in names if name.startswith("bwv") and name.endswith(".mxl")
    )


def chorale_midi(chorale: str) -> bytes:
    """A chorale (corpus-relative path) as MIDI bytes, written by music21."""
    import music21

    path = os.path.join(os.path.dirname(music21.__file__), "corpus", chorale)
    score = music21.converter.parse(path)
    return music21.midi.translate.music21ObjectToMidiFile(score).writestr()


def load_chorales(chorales: list[str]):
    sequences, rejected = [], []
    for chorale in chorales:
        try:
            sequence = note_seq.midi_to_note_sequence(chorale_midi(chorale))
        except Exception:  # music21 rejects a few files; they are skipped
            rejected.append(chorale)
            continue
        sequence.id = sequence.filename = chorale
        sequence.collection_name = "music21 corpus bach"
        sequences.append(sequence)
    return sequences, rejected


def build_dataset(config, sequences, out_dir: str) -> dict:
    """polyphony_rnn_create_dataset's pipeline, on NoteSequences in memory -> TFRecord."""
    pipe = polyphony_rnn_pipeline.get_pipeline(
        config, min_steps=MIN_STEPS, max_steps=MAX_STEPS, eval_ratio=0.0
    )
    os.makedirs(out_dir, exist_ok=True)
    magenta_pipeline.run_pipeline_serial(pipe, iter(sequences), out_dir)
    path = os.path.join(out_dir, "training_poly_tracks.tfrecord")
    lengths = [
        len(tf.train.SequenceExample.FromString(rec).feature_lists.feature_list["inputs"].feature)
        for rec in tf.python_io.tf_record_iterator(path)
    ]
    return {
        "path": path,
        "records": len(lengths),
        "events_total": int(sum(lengths)),
        "events_min_max": [int(min(lengths)), int(max(lengths))] if lengths else [0, 0],
    }


def extract_primer(midi: bytes, start_step: int, steps: int, steps_per_quarter: int):
    """A primer as PolyphonyRnnSequenceGenerator._generate prepares one, from `start_step`."""
    quantized = note_seq.quantize_note_sequence(
        note_seq.midi_to_note_sequence(midi), steps_per_quarter
    )
    sequences, _ = polyphony_lib.extract_polyphonic_sequences(quantized, start_step=start_step)
    (sequence,) = sequences
    sequence.set_length(steps)
    sequence.trim_trailing_end_events()
    return sequence


def make_primers(held_out: list[str], steps_per_quarter: int) -> list[dict]:
    """One primer per span, each from a different held-out chorale with at least 3 voices
    sounding together at the primer's start."""
    encoding = polyphony_encoder_decoder.PolyphonyOneHotEncoding()
    primers, spans = [], list(PRIMER_SPANS)
    for chorale in held_out:
        if not spans:
            break
        try:
            midi = chorale_midi(chorale)
        except Exception:
            continue
        start, steps = spans[0]
        sequence = extract_primer(midi, start, steps, steps_per_quarter)
        classes = [encoding.encode_event(event) for event in sequence]
        first_step = classes[1 : classes.index(2)]
        if len(first_step) < 3 or not any(c >= 131 for c in classes):  # a chord, held notes
            continue
        spans.pop(0)
        primers.append(
            {
                "sequence": sequence,
                "classes": classes,
                "recipe": {
                    "chorale": chorale,
                    "start_step": start,
                    "steps": steps,
                    "primer_sha256": primer_sha256(classes),
                },
            }
        )
    if spans:
        raise RuntimeError(f"could not find primers for spans {spans}")
    return primers


def generation_config(config):
    config = copy.deepcopy(config)
    config.hparams.batch_size = 1  # generation graph: one sequence
    return config


def make_bundle(config, train_dir: str, bundle_path: str, description: str) -> None:
    config = generation_config(config)
    generator = polyphony_sequence_generator.PolyphonyRnnSequenceGenerator(
        model=polyphony_model.PolyphonyRnnModel(config),
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
    generator = polyphony_sequence_generator.PolyphonyRnnSequenceGenerator(
        model=polyphony_model.PolyphonyRnnModel(generation_config(config)),
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
        sequence = primer["sequence"]
        inputs = np.asarray(encoder.get_inputs_batch([sequence], full_length=True), np.float32)
        feed = {g_inputs: inputs, tuple(g_init): zero_state, g_temperature: 1.0}
        softmax = session.run(g_softmax, feed)[0].astype(np.float32)
        arrays[f"softmax_{i}"] = softmax  # no primer, inputs or labels: corpus data
        loglik = float(
            sum(
                np.log(softmax[t, encoder.events_to_label(sequence, t + 1)])
                for t in range(len(sequence) - 1)
            )
        )
        checks.append(
            {
                "primer": i,
                "chorale": primer["recipe"]["chorale"],
                "events": len(sequence),
                "steps": sequence.num_steps,
                "loglik_from_softmax": loglik,
                "loglik_magenta_polyphonic_sequence_log_likelihood": float(
                    model.polyphonic_sequence_log_likelihood(sequence)
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
        default=16,
        help="training batch size (magenta default 64; no variable shape depends on it)",
    )
    parser.add_argument("--chorales", type=int, default=40, help="chorales to train on")
    parser.add_argument(
        "--rnn-layer-sizes",
        default=None,
        help="comma-separated layer sizes instead of magenta's default 256,256,256",
    )
    parser.add_argument("--name", default=CONFIG_ID, help="fixture file stem")
    parser.add_argument("--seed", type=int, default=1234)
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

    config = copy.deepcopy(polyphony_model.default_configs[CONFIG_ID])
    config.hparams.batch_size = args.batch_size
    if args.rnn_layer_sizes:
        config.hparams.rnn_layer_sizes = [int(s) for s in args.rnn_layer_sizes.split(",")]
    work = args.work or tempfile.mkdtemp(prefix="polyphony_rnn_fixtures_")
    os.makedirs(work, exist_ok=True)
    started = time.time()
    try:
        paths = chorale_paths()
        train_chorales = paths[: args.chorales]
        held_out = paths[::-1][: len(paths) - args.chorales]  # from the end: never trained on
        sequences, rejected = load_chorales(train_chorales)
        data = build_dataset(config, sequences, os.path.join(work, "data"))
        log(
            f"{len(sequences)} chorales ({len(rejected)} rejected by music21) -> "
            f"{data['records']} SequenceExamples, {data['events_total']} events "
            f"({data['events_min_max']})"
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
            f"Magenta Bridge parity fixture: polyphony ({sizes} LSTM), "
            f"{trained['global_step']} training steps on Bach chorales from the music21 "
            f"corpus. Not a useful model.",
        )
        log(f"wrote {bundle_path} ({os.path.getsize(bundle_path)} bytes)")

        primers = make_primers(held_out, config.steps_per_quarter)
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
            "one_hot_encoding": "PolyphonyOneHotEncoding",
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
                "source": "music21 corpus, bach/bwv*.mxl (sorted corpus-relative paths): "
                "music21.converter.parse -> music21 MIDI -> note_seq.midi_to_note_sequence",
                "license": "music21 corpus: non-commercial use; not committed",
                "training_chorales": train_chorales,
                "chorales_rejected_by_music21": rejected,
                "pipeline": "magenta polyphony_rnn_pipeline.get_pipeline(config, "
                f"min_steps={MIN_STEPS}, max_steps={MAX_STEPS}, eval_ratio=0) via "
                "pipeline.run_pipeline_serial",
                "sequence_examples": data["records"],
                "sequence_example_events_total": data["events_total"],
                "sequence_example_events_min_max": data["events_min_max"],
                "primer_split": "chorales from the end of the sorted list, never trained on",
            },
            "primers": {
                "stored": "none: the music21 corpus is for non-commercial use, so this "
                "project never commits it. Each primer is rebuilt from its recipe.",
                "rebuild": "music21.converter.parse(<music21 corpus>/`chorale`), "
                "music21.midi.translate.music21ObjectToMidiFile(score).writestr(), "
                "note_seq.midi_to_note_sequence, quantize at 4 steps per quarter, "
                "polyphony_lib.extract_polyphonic_sequences(start_step=`start_step`), "
                "set_length(`steps`), trim_trailing_end_events() (as "
                "PolyphonyRnnSequenceGenerator prepares a primer)",
                "hash": PRIMER_HASH,
                "recipes": [p["recipe"] for p in primers],
            },
            "reference": {
                "method": "teacher-forced: encoder_decoder.get_inputs_batch([sequence], "
                "full_length=True) fed to collection 'inputs' of the bundle's generate "
                "graph, 'temperature'=1.0, zero 'initial_state'; collection 'softmax' "
                "recorded. softmax_i[t] is the distribution of event t+1 given events 0..t.",
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
