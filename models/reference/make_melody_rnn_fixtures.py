#!/usr/bin/env python
"""Make MelodyRNN parity fixtures with Google's own `magenta` 2.1.4 code.

Run with the reference virtualenv's python (see setup_magenta_env.sh)::

    .venv-magenta/bin/python models/reference/make_melody_rnn_fixtures.py \
        [--configs basic_rnn,lookback_rnn,attention_rnn] [--steps 40] \
        [--batch-size 32] [--out tests/fixtures/melody_rnn]

For each config, at magenta's DEFAULT hparams (2x128 LSTM; attn_length 40 for
attention_rnn):

1. Training data: real folk tunes from the music21 corpus (Essen collection,
   ABC).  Each tune is parsed by music21, written to MIDI in memory and read
   back with ``note_seq.midi_to_note_sequence``.  The NoteSequences go through
   magenta's own ``melody_rnn_pipeline.get_pipeline(config)`` (time-change
   split, quantize at 4 steps/quarter, melody extraction, squash, encode) and
   ``pipeline.run_pipeline_serial`` writes ``training_melodies.tfrecord``.
2. Training: magenta's graph (``events_rnn_graph.get_build_graph_fn('train')``)
   and magenta's loop (``events_rnn_train.run_training``, tf_slim + Adam +
   gradient clipping) for ``--steps`` steps.  One deviation: magenta's queue
   based TFRecord reader (``magenta.common.get_padded_batch``: 4 threads and a
   RandomShuffleQueue) is nondeterministic, so it is swapped for an equivalent
   seeded ``tf.data`` reader producing the same (inputs, labels, lengths)
   tensors.  ``--magenta-reader`` keeps magenta's own reader.  The training
   batch size does not change any variable shape.
3. Bundle: ``MelodyRnnSequenceGenerator(checkpoint=train_dir)`` with the
   generation graph at batch size 1 (as magenta's generator is used with one
   sequence, beam 1), then magenta's own ``create_bundle_file`` -> ``<config>.mag``
   (the checkpoint inside is TensorFlow's V1 single-file format).
4. Reference outputs: the bundle is read back with ``read_bundle_file`` and the
   generator map; for 3 real primers (16, 33, 70 steps, from tunes not used for
   training, squashed into the config range with transpose_to_key 0 exactly as
   ``MelodyRnnModel.generate_melody`` does) the full-length encoder inputs are
   fed to the ``inputs`` collection with temperature 1.0 and the zero initial
   state; the ``softmax`` collection is recorded ->
   ``<config>_reference.npz`` / ``<config>_reference.json``.
"""

from __future__ import annotations

import copy
import os
import random
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import magenta_runtime

tf = magenta_runtime.setup(verbose=bool(os.environ.get("MAGENTA_VERBOSE")))

import numpy as np
import note_seq
from magenta.models.melody_rnn import melody_rnn_model
from magenta.models.melody_rnn import melody_rnn_pipeline
from magenta.models.melody_rnn import melody_rnn_sequence_generator
from magenta.pipelines import melody_pipelines

import fixture_common
from fixture_common import REPO

DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "melody_rnn")
ALL_CONFIGS = ("basic_rnn", "lookback_rnn", "attention_rnn")

# Essen folk song collections (music21 corpus, ABC).  Training tunes are taken
# from the first files, primers from a separate file never used for training.
TRAIN_FILES = ("erk10.abc", "boehme10.abc", "han1.abc", "fink0.abc")
PRIMER_FILE = "kinder0.abc"
PRIMER_LENGTHS = (16, 33, 70)


log = fixture_common.logger("fixtures")


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def essen_path(name: str) -> str:
    import music21

    path = os.path.join(os.path.dirname(music21.__file__), "corpus", "essenFolksong", name)
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    return path


def split_abc_tunes(path: str) -> list[str]:
    with open(path, encoding="latin-1") as fh:
        text = fh.read()
    return [c.strip() + "\n" for c in re.split(r"\n(?=X:)", text) if c.lstrip().startswith("X:")]


def abc_tune_to_note_sequence(abc_text: str, source_id: str):
    """music21 ABC -> MIDI bytes -> NoteSequence (None if music21 cannot)."""
    import music21

    try:
        score = music21.converter.parse(abc_text, format="abc")
        midi_bytes = music21.midi.translate.music21ObjectToMidiFile(score).writestr()
        ns = note_seq.midi_to_note_sequence(midi_bytes)
    except Exception:  # music21 rejects a few tunes; they are skipped
        return None
    if not ns.notes:
        return None
    ns.id = source_id
    ns.filename = source_id
    ns.collection_name = "music21 corpus essenFolksong"
    return ns


def load_tunes(files, per_file: int):
    seqs, tried, failed = [], 0, 0
    for name in files:
        got = 0
        for idx, tune in enumerate(split_abc_tunes(essen_path(name))):
            if got >= per_file:
                break
            tried += 1
            ns = abc_tune_to_note_sequence(tune, f"essenFolksong/{name}#{idx}")
            if ns is None:
                failed += 1
                continue
            seqs.append(ns)
            got += 1
    return seqs, tried, failed


def extract_primers(seed_tunes, config) -> list[list[int]]:
    """Real melody snippets (magenta event form), squashed as generate_melody does."""
    primers = []
    wanted = list(PRIMER_LENGTHS)
    for ns in seed_tunes:
        if not wanted:
            break
        try:
            q = note_seq.quantize_note_sequence(ns, config.steps_per_quarter)
        except Exception:
            continue
        # Same extraction call as MelodyRnnSequenceGenerator._generate.
        mels, _ = melody_pipelines.extract_melodies(
            q,
            search_start_step=0,
            min_bars=0,
            min_unique_pitches=1,
            gap_bars=float("inf"),
            ignore_polyphonic_notes=True,
        )
        if not mels or len(mels[0]) < wanted[0]:
            continue
        mel = copy.deepcopy(mels[0])
        mel.set_length(wanted[0])
        mel.squash(config.min_note, config.max_note, config.transpose_to_key)
        primers.append([int(e) for e in mel])
        wanted.pop(0)
    if wanted:
        raise RuntimeError(f"could not find primers of lengths {wanted}")
    return primers


# --------------------------------------------------------------------------
# Bundle + reference outputs
# --------------------------------------------------------------------------


def make_bundle(config_id: str, train_dir: str, bundle_path: str, description: str) -> None:
    gen = fixture_common.make_generator(
        melody_rnn_sequence_generator.MelodyRnnSequenceGenerator,
        melody_rnn_model.MelodyRnnModel,
        melody_rnn_model.default_configs[config_id],
        checkpoint=train_dir,
    )
    fixture_common.write_bundle(gen, bundle_path, description)


def reference_outputs(config_id: str, bundle_path: str, primers) -> tuple[dict, dict]:
    def describe(i, mel, model, loglik):
        return {
            "primer": i,
            "steps": len(mel),
            "loglik_from_softmax": loglik,
            "loglik_magenta_melody_log_likelihood": float(model.melody_log_likelihood(mel)),
        }

    outputs, meta = fixture_common.reference_outputs(
        bundle_path,
        lambda bundle: melody_rnn_sequence_generator.get_generator_map()[config_id](
            checkpoint=None, bundle=bundle
        ),
        melody_rnn_model.default_configs[config_id].encoder_decoder,
        [note_seq.Melody(events) for events in primers],
        describe,
    )
    arrays = {}
    for i, (events, (inputs, softmax)) in enumerate(zip(primers, outputs, strict=True)):
        arrays[f"primer_{i}"] = np.asarray(events, dtype=np.int32)
        arrays[f"inputs_{i}"] = inputs
        arrays[f"softmax_{i}"] = softmax
    return arrays, meta


# --------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = fixture_common.fixture_parser(
        __doc__,
        DEFAULT_OUT,
        batch_size=32,
        magenta_batch_size=128,
        steps_help="training steps per config",
    )
    ap.add_argument("--configs", default=",".join(ALL_CONFIGS))
    ap.add_argument("--tunes-per-file", type=int, default=100)
    ap.add_argument("--bundle-only", action="store_true", help="skip the reference npz/json")
    args = ap.parse_args(argv)

    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    for c in configs:
        if c not in melody_rnn_model.default_configs:
            ap.error(f"unknown config {c}")
    random.seed(args.seed)
    np.random.seed(args.seed)

    t_all = time.time()
    with fixture_common.work_dir(args.work, "melody_rnn_fixtures_") as work:
        t0 = time.time()
        train_seqs, tried, failed = load_tunes(TRAIN_FILES, args.tunes_per_file)
        primer_seqs, _, _ = load_tunes((PRIMER_FILE,), 60)
        log(
            f"parsed {len(train_seqs)} training tunes ({failed} of {tried} rejected by music21) "
            f"and {len(primer_seqs)} primer tunes in {time.time() - t0:.1f}s"
        )

        for config_id in configs:
            t_cfg = time.time()
            config = fixture_common.training_config(
                melody_rnn_model.default_configs[config_id], args.batch_size
            )
            cdir = os.path.join(work, config_id)
            if os.path.exists(cdir):
                shutil.rmtree(cdir)
            data = fixture_common.build_dataset(
                melody_rnn_pipeline.get_pipeline(config, eval_ratio=0.0),
                train_seqs,
                os.path.join(cdir, "data"),
                "training_melodies.tfrecord",
            )
            log(f"{config_id}: {data['records']} SequenceExamples, {data['total']} steps")
            train_dir = os.path.join(cdir, "train")
            tr = fixture_common.train(
                config,
                data["path"],
                train_dir,
                args.steps,
                args.seed,
                args.magenta_reader,
                fixture_common.prefixed(log, config_id),
            )
            bundle_path = os.path.join(args.out, f"{config_id}.mag")
            make_bundle(
                config_id,
                train_dir,
                bundle_path,
                f"Magenta Bridge parity fixture: {config_id} at default hparams, "
                f"{tr['global_step']} training steps on music21 Essen folk tunes. "
                f"Not a useful model.",
            )
            log(f"{config_id}: wrote {bundle_path} ({os.path.getsize(bundle_path)} bytes)")
            if args.bundle_only:
                continue

            primers = extract_primers(primer_seqs, config)
            arrays, meta = reference_outputs(config_id, bundle_path, primers)
            npz_path = os.path.join(args.out, f"{config_id}_reference.npz")
            np.savez_compressed(npz_path, **arrays)
            enc = config.encoder_decoder
            gen_cfg = fixture_common.generation_config(melody_rnn_model.default_configs[config_id])
            doc = {
                "config_id": config_id,
                "description": config.details.description,
                "hparams_training": config.hparams.values(),
                "hparams_generate_graph": gen_cfg.hparams.values(),
                "encoder_decoder": type(enc).__name__,
                "input_size": int(enc.input_size),
                "num_classes": int(enc.num_classes),
                "default_event_label": int(enc.default_event_label),
                "min_note": config.min_note,
                "max_note": config.max_note,
                "transpose_to_key": config.transpose_to_key,
                "steps_per_quarter": config.steps_per_quarter,
                "versions": magenta_runtime.versions(),
                "training": fixture_common.training_record(
                    tr, args.batch_size, args.magenta_reader
                ),
                "data": {
                    "source": "music21 corpus essenFolksong (ABC) -> music21 MIDI -> "
                    "note_seq.midi_to_note_sequence",
                    "training_files": list(TRAIN_FILES),
                    "tunes_per_file": args.tunes_per_file,
                    "training_tunes": len(train_seqs),
                    "tunes_rejected_by_music21": failed,
                    "pipeline": "magenta melody_rnn_pipeline.get_pipeline(config, eval_ratio=0) "
                    "via pipeline.run_pipeline_serial",
                    "sequence_examples": data["records"],
                    "sequence_example_steps_total": data["total"],
                    "sequence_example_steps_min_max": data["min_max"],
                    "primer_file": PRIMER_FILE,
                    "primer_lengths": list(PRIMER_LENGTHS),
                    "primer_extraction": "quantize 4 steps/quarter, "
                    "melody_pipelines.extract_melodies "
                    "(as MelodyRnnSequenceGenerator), first N steps, "
                    "Melody.squash(min_note, max_note, transpose_to_key)",
                },
                "reference": {
                    "method": "teacher-forced: encoder_decoder.get_inputs_batch([melody], "
                    "full_length=True) fed to collection 'inputs' of the bundle's "
                    "generate graph, 'temperature'=1.0, zero 'initial_state'; "
                    "collection 'softmax' recorded. softmax_i[t] is the distribution "
                    "of event t+1 given events 0..t.",
                    "npz": os.path.basename(npz_path),
                    "npz_keys": sorted(arrays),
                    "shapes": {k: list(v.shape) for k, v in sorted(arrays.items())},
                },
            }
            fixture_common.write_reference_json(
                os.path.join(args.out, f"{config_id}_reference.json"), doc, args, bundle_path, meta
            )
            log(
                f"{config_id}: reference written; loglik checks {meta['loglik_checks']}; "
                f"config took {time.time() - t_cfg:.1f}s"
            )
    log(f"all done in {time.time() - t_all:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
