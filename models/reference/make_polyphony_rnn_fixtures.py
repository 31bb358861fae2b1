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
   ``tf.data`` reader of fixture_common.py in place of magenta's nondeterministic
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

import functools
import os
import random
import sys
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

import fixture_common
from fixture_common import REPO, chorale_paths, primer_sha256

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


log = fixture_common.logger("polyphony fixtures")


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


make_generator = functools.partial(
    fixture_common.make_generator,
    polyphony_sequence_generator.PolyphonyRnnSequenceGenerator,
    polyphony_model.PolyphonyRnnModel,
)


def reference_outputs(config, bundle_path: str, primers: list[dict]) -> tuple[dict, dict]:
    def describe(i, sequence, model, loglik):
        return {
            "primer": i,
            "chorale": primers[i]["recipe"]["chorale"],
            "events": len(sequence),
            "steps": sequence.num_steps,
            "loglik_from_softmax": loglik,
            "loglik_magenta_polyphonic_sequence_log_likelihood": float(
                model.polyphonic_sequence_log_likelihood(sequence)
            ),
        }

    sequences = [primer["sequence"] for primer in primers]
    return fixture_common.softmax_reference(
        make_generator, config, bundle_path, sequences, describe
    )


def main(argv=None) -> int:
    parser = fixture_common.fixture_parser(
        __doc__,
        DEFAULT_OUT,
        batch_size=16,
        magenta_batch_size=64,
        magenta_layer_sizes="256,256,256",
    )
    parser.add_argument("--chorales", type=int, default=40, help="chorales to train on")
    parser.add_argument("--name", default=CONFIG_ID, help="fixture file stem")
    args = parser.parse_args(argv)
    random.seed(args.seed)
    np.random.seed(args.seed)

    config = fixture_common.training_config(
        polyphony_model.default_configs[CONFIG_ID], args.batch_size, args.rnn_layer_sizes
    )
    started = time.time()
    with fixture_common.work_dir(args.work, "polyphony_rnn_fixtures_") as work:
        paths = chorale_paths()
        train_chorales = paths[: args.chorales]
        held_out = paths[::-1][: len(paths) - args.chorales]  # from the end: never trained on
        sequences, rejected = load_chorales(train_chorales)
        data = fixture_common.build_dataset(
            polyphony_rnn_pipeline.get_pipeline(
                config, min_steps=MIN_STEPS, max_steps=MAX_STEPS, eval_ratio=0.0
            ),
            sequences,
            os.path.join(work, "data"),
            "training_poly_tracks.tfrecord",
        )
        log(
            f"{len(sequences)} chorales ({len(rejected)} rejected by music21) -> "
            f"{data['records']} SequenceExamples, {data['total']} events ({data['min_max']})"
        )
        train_dir = os.path.join(work, "train")
        trained = fixture_common.train(
            config, data["path"], train_dir, args.steps, args.seed, args.magenta_reader, log
        )
        bundle_path = os.path.join(args.out, f"{args.name}.mag")
        sizes = "x".join(map(str, config.hparams.rnn_layer_sizes))
        fixture_common.write_bundle(
            make_generator(config, checkpoint=train_dir),
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
            "hparams_generate_graph": fixture_common.generation_config(config).hparams.values(),
            "encoder_decoder": type(encoder).__name__,
            "one_hot_encoding": "PolyphonyOneHotEncoding",
            "input_size": int(encoder.input_size),
            "num_classes": int(encoder.num_classes),
            "default_event_label": int(encoder.default_event_label),
            "steps_per_quarter": config.steps_per_quarter,
            "versions": magenta_runtime.versions(),
            "training": fixture_common.training_record(
                trained, args.batch_size, args.magenta_reader
            ),
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
                "sequence_example_events_total": data["total"],
                "sequence_example_events_min_max": data["min_max"],
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
        }
        fixture_common.write_reference_json(
            os.path.join(args.out, f"{args.name}_reference.json"), doc, args, bundle_path, meta
        )
        log(f"reference written; loglik checks {meta['loglik_checks']}")
    log(f"all done in {time.time() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
