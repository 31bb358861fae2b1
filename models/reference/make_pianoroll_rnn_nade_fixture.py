#!/usr/bin/env python
"""Make a tiny PianorollRNN-NADE bundle with Google's own `magenta` 2.1.4 code.

PianorollRNN-NADE is not ported natively; the bundle lets the tests show that the
optional magenta backend (bridge/models/magenta_backend) serves a family only magenta
can run. Run with the reference virtualenv's python (see setup_magenta_env.sh)::

    .venv-magenta/bin/python models/reference/make_pianoroll_rnn_nade_fixture.py \
        [--steps 1500] [--chorales 60] [--out tests/fixtures/pianoroll_rnn_nade]

1. Training data: Bach chorales from the music21 corpus (all four voices), each parsed
   by music21, written to MIDI in memory and read back with
   ``note_seq.midi_to_note_sequence``.  They go through magenta's own
   ``pianoroll_pipeline.get_pipeline(config, min_steps=80, max_steps=2048)`` (as
   ``pianoroll_rnn_nade_create_dataset`` calls it: time-change split, quantize at 4
   steps/quarter, transpositions -4..4, pianoroll extraction, encode) and
   ``pipeline.run_pipeline_serial`` writes ``training_pianoroll_tracks.tfrecord``.
2. Training: magenta's graph (``pianoroll_rnn_nade_graph.get_build_graph_fn('train')``)
   and loop (``events_rnn_train.run_training``) for ``--steps`` steps at small sizes
   (one 64-unit LSTM layer, 64 NADE hidden units: a 0.5 MB bundle), with the seeded
   ``tf.data`` reader of fixture_common.py.  Fewer steps leave a model whose
   every note probability stays under 0.5, and magenta's RNN-NADE generator keeps the
   notes above 0.5 (it thresholds, it does not sample), so it would generate silence.
3. Bundle: ``PianorollRnnNadeSequenceGenerator(checkpoint=train_dir)`` with the
   generation graph at batch size 1, then magenta's ``create_bundle_file`` ->
   ``rnn-nade.mag``; ``rnn-nade.json`` records data, hparams, losses and versions.

Not a useful model: it exists to be loaded and sampled.
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import magenta_runtime

tf = magenta_runtime.setup(verbose=bool(os.environ.get("MAGENTA_VERBOSE")))

import numpy as np
import note_seq
from magenta.models.pianoroll_rnn_nade import pianoroll_rnn_nade_graph
from magenta.models.pianoroll_rnn_nade import pianoroll_rnn_nade_model
from magenta.models.pianoroll_rnn_nade import pianoroll_rnn_nade_sequence_generator
from magenta.pipelines import pianoroll_pipeline

import fixture_common
from fixture_common import REPO

DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "pianoroll_rnn_nade")
CONFIG_ID = "rnn-nade"
SMALL_HPARAMS = "rnn_layer_sizes=[64],nade_hidden_units=64,batch_size=16,learning_rate=0.003"


log = fixture_common.logger("pianoroll fixture")


def load_chorales(count: int):
    """The first `count` Bach chorales of music21's corpus as NoteSequences (sorted paths)."""
    import music21

    paths = sorted(str(p) for p in music21.corpus.getComposer("bach"))
    sequences, rejected = [], 0
    for path in paths:
        if len(sequences) >= count:
            break
        try:
            score = music21.converter.parse(path)
            midi = music21.midi.translate.music21ObjectToMidiFile(score).writestr()
            sequence = note_seq.midi_to_note_sequence(midi)
        except Exception:  # music21 rejects a few files; they are skipped
            rejected += 1
            continue
        if not sequence.notes:
            continue
        name = os.path.basename(path)
        sequence.id = sequence.filename = f"bach/{name}"
        sequence.collection_name = "music21 corpus bach"
        sequences.append(sequence)
    return sequences, rejected


def make_bundle(config, train_dir: str, bundle_path: str, description: str) -> None:
    generator = fixture_common.make_generator(
        pianoroll_rnn_nade_sequence_generator.PianorollRnnNadeSequenceGenerator,
        pianoroll_rnn_nade_model.PianorollRnnNadeModel,
        config,
        checkpoint=train_dir,
    )
    fixture_common.write_bundle(generator, bundle_path, description)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1500, help="training steps")
    parser.add_argument("--chorales", type=int, default=60, help="chorales to train on")
    parser.add_argument("--hparams", default=SMALL_HPARAMS, help="overrides of rnn-nade's")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    random.seed(args.seed)
    np.random.seed(args.seed)

    config = copy.deepcopy(pianoroll_rnn_nade_model.default_configs[CONFIG_ID])
    config.hparams.parse(args.hparams)
    with fixture_common.work_dir(None, "pianoroll_fixture_") as work:
        started = time.time()
        chorales, rejected = load_chorales(args.chorales)
        log(
            f"parsed {len(chorales)} chorales ({rejected} rejected) in {time.time() - started:.1f}s"
        )
        data = fixture_common.build_dataset(
            pianoroll_pipeline.get_pipeline(
                config=config, min_steps=80, max_steps=2048, eval_ratio=0.0
            ),
            chorales,
            os.path.join(work, "data"),
            "training_pianoroll_tracks.tfrecord",
        )
        log(f"{data['records']} SequenceExamples")
        trained = fixture_common.train(
            config,
            data["path"],
            os.path.join(work, "train"),
            args.steps,
            args.seed,
            False,
            log,
            pianoroll_rnn_nade_graph.get_build_graph_fn,
        )
        bundle_path = os.path.join(args.out, f"{CONFIG_ID}.mag")
        make_bundle(
            config,
            os.path.join(work, "train"),
            bundle_path,
            f"Magenta Bridge fixture: {CONFIG_ID} ({args.hparams}), "
            f"{trained['global_step']} training steps on music21 Bach chorales. "
            "Not a useful model.",
        )
        doc = {
            "config_id": CONFIG_ID,
            "hparams": config.hparams.values(),
            "data": {
                "source": "music21 corpus bach (MusicXML) -> music21 MIDI -> "
                "note_seq.midi_to_note_sequence",
                "chorales": [s.id for s in chorales],
                "rejected_by_music21": rejected,
                "pipeline": "pianoroll_pipeline.get_pipeline(config, min_steps=80, "
                "max_steps=2048, eval_ratio=0) via pipeline.run_pipeline_serial",
                "sequence_examples": data["records"],
            },
            "training": {
                **trained,
                "reader": "seeded tf.data replacement for magenta.common.get_padded_batch",
                "seed": args.seed,
            },
            "versions": magenta_runtime.versions(),
            "bundle_file": os.path.basename(bundle_path),
            "bundle_bytes": os.path.getsize(bundle_path),
            "bundle_sha256": fixture_common.sha256(bundle_path),
        }
        fixture_common.write_json(os.path.join(args.out, f"{CONFIG_ID}.json"), doc)
        log(
            f"wrote {bundle_path} ({os.path.getsize(bundle_path)} bytes) in "
            f"{time.time() - started:.1f}s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
