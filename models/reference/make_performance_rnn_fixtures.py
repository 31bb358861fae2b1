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
   ``tf.data`` reader of fixture_common.py (``--magenta-reader`` keeps magenta's
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
and tests/models/performance_rnn/test_performance_parity.py rebuilds it from music21.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import magenta_runtime

tf = magenta_runtime.setup(verbose=bool(os.environ.get("MAGENTA_VERBOSE")))

import numpy as np
import note_seq
from magenta.models.performance_rnn import performance_model
from magenta.models.performance_rnn import performance_sequence_generator
from magenta.pipelines import performance_pipeline
from note_seq.protobuf import music_pb2

import fixture_common
from fixture_common import REPO, chorale_paths, primer_sha256

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


log = fixture_common.logger("performance fixtures")


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


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
    generator would start a generate section.
    tests/models/performance_rnn/test_performance_parity.py makes the same excerpt.
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


# --------------------------------------------------------------------------
# Bundle + reference outputs
# --------------------------------------------------------------------------


def make_generator(config, **source):
    """magenta's PerformanceRnnSequenceGenerator bound to our config (the generator map's
    would rebuild default layer sizes), on a `checkpoint` or a `bundle`."""
    config = fixture_common.generation_config(config)
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


def reference_outputs(config, bundle_path: str, primers: list[dict]) -> tuple[dict, dict]:
    def describe(i, performance, model, loglik):
        return {
            "primer": i,
            "events": len(performance),
            "loglik_from_softmax": loglik,
            "loglik_magenta_performance_log_likelihood": float(
                model.performance_log_likelihood(performance, None, None)
            ),
        }

    sequences = [primer["performance"] for primer in primers]
    return fixture_common.softmax_reference(
        make_generator, config, bundle_path, sequences, describe
    )


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
    parser = fixture_common.fixture_parser(
        __doc__,
        DEFAULT_OUT,
        batch_size=16,
        magenta_batch_size=64,
        steps_help="training steps per config",
        magenta_layer_sizes="512,512,512",
        layer_sizes=SMALL_LAYERS,
    )
    parser.add_argument("--configs", default=",".join(ALL_CONFIGS))
    parser.add_argument("--chorales", type=int, default=10, help="chorales to train on")
    args = parser.parse_args(argv)
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    for config_id in configs:
        if config_id not in ALL_CONFIGS:
            parser.error(f"unknown config {config_id} (expected one of {', '.join(ALL_CONFIGS)})")
    random.seed(args.seed)
    np.random.seed(args.seed)

    started = time.time()
    with fixture_common.work_dir(args.work, "performance_rnn_fixtures_") as work:
        names = chorale_paths()
        held_out = {name for name, _, _ in PRIMERS}
        training_names = [name for name in names if name not in held_out][: args.chorales]
        assert held_out.isdisjoint(training_names)
        sequences = [chorale_sequence(name) for name in training_names]
        log(f"parsed {len(sequences)} training chorales in {time.time() - started:.1f}s")

        for config_id in configs:
            config_started = time.time()
            config = fixture_common.training_config(
                performance_model.default_configs[config_id], args.batch_size, args.rnn_layer_sizes
            )
            config_dir = os.path.join(work, config_id)
            shutil.rmtree(config_dir, ignore_errors=True)
            data = fixture_common.build_dataset(
                performance_pipeline.get_pipeline(
                    config=config, min_events=32, max_events=512, eval_ratio=0.0
                ),
                sequences,
                os.path.join(config_dir, "data"),
                "training_performances.tfrecord",
            )
            log(f"{config_id}: {data['records']} SequenceExamples, {data['total']} events")
            train_dir = os.path.join(config_dir, "train")
            trained = fixture_common.train(
                config,
                data["path"],
                train_dir,
                args.steps,
                args.seed,
                args.magenta_reader,
                fixture_common.prefixed(log, config_id),
            )
            bundle_path = os.path.join(args.out, f"{config_id}.mag")
            sizes = "x".join(map(str, config.hparams.rnn_layer_sizes))
            fixture_common.write_bundle(
                make_generator(config, checkpoint=train_dir),
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
                "hparams_generate_graph": fixture_common.generation_config(config).hparams.values(),
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
                "training": fixture_common.training_record(
                    trained, args.batch_size, args.magenta_reader
                ),
                "data": {
                    "source": "music21 corpus Bach chorales (MusicXML) -> music21 MIDI -> "
                    "note_seq.midi_to_note_sequence",
                    "license": "music21 corpus: non-commercial use; not committed",
                    "training_chorales": training_names,
                    "pipeline": "magenta performance_pipeline.get_pipeline(config, "
                    "min_events=32, max_events=512, eval_ratio=0) via "
                    "pipeline.run_pipeline_serial",
                    "sequence_examples": data["records"],
                    "sequence_example_events_total": data["total"],
                    "sequence_example_events_min_max": data["min_max"],
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
            }
            fixture_common.write_reference_json(
                os.path.join(args.out, f"{config_id}_reference.json"), doc, args, bundle_path, meta
            )
            log(
                f"{config_id}: reference written; loglik checks {meta['loglik_checks']}; "
                f"took {time.time() - config_started:.1f}s"
            )
    log(f"all done in {time.time() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
