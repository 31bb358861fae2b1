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
   ``tf.data`` reader of fixture_common.py in place of magenta's nondeterministic
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

import copy
import functools
import glob
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import magenta_runtime

tf = magenta_runtime.setup(verbose=bool(os.environ.get("MAGENTA_VERBOSE")))

import numpy as np
import note_seq
from magenta.models.drums_rnn import drums_rnn_model
from magenta.models.drums_rnn import drums_rnn_pipeline
from magenta.models.drums_rnn import drums_rnn_sequence_generator
from magenta.pipelines import drum_pipelines

import fixture_common
from fixture_common import REPO, primer_sha256

DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "drums_rnn")
DEFAULT_DATA = os.path.join(REPO, "data", "mma_drums")
CONFIG_ID = "drum_kit"
# 37 > attn_length (32); 70 > 64, where the 6-bit counter wraps.
PRIMER_LENGTHS = (16, 37, 70)
PRIMER_HASH = (
    "sha256 of the primer's step values (MultiDrumOneHotEncoding.encode_event of each step: "
    "bit c set when drum class c is hit) written in decimal, comma-separated, ASCII"
)


log = fixture_common.logger("drum fixtures")


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


make_generator = functools.partial(
    fixture_common.make_generator,
    drums_rnn_sequence_generator.DrumsRnnSequenceGenerator,
    drums_rnn_model.DrumsRnnModel,
)


def reference_outputs(config, bundle_path: str, primers: list[dict]) -> tuple[dict, dict]:
    def describe(i, track, model, loglik):
        return {
            "primer": i,
            "source": primers[i]["source"],
            "steps": len(track),
            "loglik_from_softmax": loglik,
            "loglik_magenta_drum_track_log_likelihood": float(
                model.drum_track_log_likelihood(track)
            ),
        }

    sequences = [primer["track"] for primer in primers]
    return fixture_common.softmax_reference(
        make_generator, config, bundle_path, sequences, describe
    )


def main(argv=None) -> int:
    parser = fixture_common.fixture_parser(
        __doc__,
        DEFAULT_OUT,
        batch_size=32,
        magenta_batch_size=128,
        magenta_layer_sizes="256,256,256",
    )
    parser.add_argument("--name", default=CONFIG_ID, help="fixture file stem")
    parser.add_argument("--data", default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    random.seed(args.seed)
    np.random.seed(args.seed)

    config = fixture_common.training_config(
        drums_rnn_model.default_configs[CONFIG_ID], args.batch_size, args.rnn_layer_sizes
    )
    started = time.time()
    with fixture_common.work_dir(args.work, "drums_rnn_fixtures_") as work:
        train_files = midi_files(args.data, "train")
        sequences = read_sequences(train_files, args.data)
        data = fixture_common.build_dataset(
            drums_rnn_pipeline.get_pipeline(config, eval_ratio=0.0),
            sequences,
            os.path.join(work, "data"),
            "training_drum_tracks.tfrecord",
        )
        log(
            f"{len(sequences)} grooves -> {data['records']} SequenceExamples, {data['total']} steps"
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
            "hparams_generate_graph": fixture_common.generation_config(config).hparams.values(),
            "encoder_decoder": type(encoder).__name__,
            "one_hot_encoding": "MultiDrumOneHotEncoding (DEFAULT_DRUM_TYPE_PITCHES)",
            "lookback_distances": list(encoder._lookback_distances),  # pylint: disable=protected-access
            "binary_counter_bits": encoder._binary_counter_bits,  # pylint: disable=protected-access
            "input_size": int(encoder.input_size),
            "num_classes": int(encoder.num_classes),
            "default_event_label": int(encoder.default_event_label),
            "steps_per_quarter": config.steps_per_quarter,
            "versions": magenta_runtime.versions(),
            "training": fixture_common.training_record(
                trained, args.batch_size, args.magenta_reader
            ),
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
                "sequence_example_steps_total": data["total"],
                "sequence_example_steps_min_max": data["min_max"],
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
        }
        fixture_common.write_reference_json(
            os.path.join(args.out, f"{args.name}_reference.json"), doc, args, bundle_path, meta
        )
        log(f"reference written; loglik checks {meta['loglik_checks']}")
    log(f"all done in {time.time() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
