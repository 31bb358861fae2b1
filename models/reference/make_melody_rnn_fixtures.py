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

import argparse
import copy
import functools
import hashlib
import json
import os
import random
import re
import shutil
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import magenta_runtime

tf = magenta_runtime.setup(verbose=bool(os.environ.get("MAGENTA_VERBOSE")))

import numpy as np
import note_seq
import magenta.common
from magenta.models.melody_rnn import melody_rnn_model
from magenta.models.melody_rnn import melody_rnn_pipeline
from magenta.models.melody_rnn import melody_rnn_sequence_generator
from magenta.models.shared import events_rnn_graph
from magenta.models.shared import events_rnn_train
from magenta.models.shared import sequence_generator_bundle
from magenta.pipelines import melody_pipelines
from magenta.pipelines import pipeline as magenta_pipeline

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "melody_rnn")
ALL_CONFIGS = ("basic_rnn", "lookback_rnn", "attention_rnn")

# Essen folk song collections (music21 corpus, ABC).  Training tunes are taken
# from the first files, primers from a separate file never used for training.
TRAIN_FILES = ("erk10.abc", "boehme10.abc", "han1.abc", "fink0.abc")
PRIMER_FILE = "kinder0.abc"
PRIMER_LENGTHS = (16, 33, 70)


def log(msg: str) -> None:
    print(f"[fixtures {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


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


def build_dataset(config, note_sequences, out_dir: str) -> dict:
    """magenta's melody_rnn_create_dataset logic: pipeline -> TFRecord."""
    pipe = melody_rnn_pipeline.get_pipeline(config, eval_ratio=0.0)
    os.makedirs(out_dir, exist_ok=True)
    magenta_pipeline.run_pipeline_serial(pipe, iter(note_sequences), out_dir)
    path = os.path.join(out_dir, "training_melodies.tfrecord")
    n = 0
    lengths = []
    for rec in tf.python_io.tf_record_iterator(path):
        ex = tf.train.SequenceExample.FromString(rec)
        lengths.append(len(ex.feature_lists.feature_list["inputs"].feature))
        n += 1
    return {
        "path": path,
        "records": n,
        "steps_total": int(sum(lengths)),
        "steps_min": int(min(lengths)) if lengths else 0,
        "steps_max": int(max(lengths)) if lengths else 0,
    }


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
# Training
# --------------------------------------------------------------------------


def make_deterministic_reader(seed: int):
    """Drop-in for magenta.common.get_padded_batch built on a seeded tf.data."""

    def get_padded_batch(
        file_list, batch_size, input_size, label_shape=None, num_enqueuing_threads=4, shuffle=False
    ):
        del num_enqueuing_threads
        feats = {
            "inputs": tf.io.FixedLenSequenceFeature(shape=[input_size], dtype=tf.float32),
            "labels": tf.io.FixedLenSequenceFeature(shape=label_shape or [], dtype=tf.int64),
        }

        def parse(rec):
            _, seq = tf.io.parse_single_sequence_example(rec, sequence_features=feats)
            return seq["inputs"], seq["labels"], tf.shape(seq["inputs"])[0]

        ds = tf.data.TFRecordDataset(list(file_list)).map(parse).cache().repeat()
        if shuffle:
            ds = ds.shuffle(2048, seed=seed)
        ds = ds.padded_batch(batch_size, drop_remainder=True)
        inputs, labels, lengths = tf.data.make_one_shot_iterator(ds).get_next()
        inputs.set_shape([batch_size, None, input_size])
        labels.set_shape([batch_size, None, *list(label_shape or [])])
        lengths.set_shape([batch_size])
        return inputs, labels, lengths

    return get_padded_batch


def train(
    config, tfrecord: str, train_dir: str, steps: int, seed: int, magenta_reader: bool
) -> dict:
    if not magenta_reader:
        magenta.common.get_padded_batch = make_deterministic_reader(seed)
    build = events_rnn_graph.get_build_graph_fn("train", config, [tfrecord])

    def seeded_build():
        tf.set_random_seed(seed)
        # Dropout draws from a stateful random op inside dynamic_rnn's while
        # loop; with parallel iterations (default 32) the timesteps draw in a
        # racy order and the masks differ run to run.  One iteration at a
        # time changes scheduling only, not the math.
        original = tf.nn.dynamic_rnn
        tf.nn.dynamic_rnn = functools.partial(original, parallel_iterations=1)
        try:
            build()
        finally:
            tf.nn.dynamic_rnn = original

    t0 = time.time()
    events_rnn_train.run_training(
        seeded_build,
        train_dir,
        num_training_steps=steps,
        summary_frequency=max(1, steps // 4),
        save_checkpoint_secs=100000,
        checkpoints_to_keep=1,
    )
    elapsed = time.time() - t0
    ckpt = tf.train.latest_checkpoint(train_dir)
    reader = tf.train.load_checkpoint(ckpt)
    step = int(reader.get_tensor("global_step"))
    # Final-batch loss is not kept by run_training; the summary has it.
    losses = []
    for ev_file in sorted(tf.gfile.Glob(os.path.join(train_dir, "events.out.tfevents.*"))):
        for ev in tf.train.summary_iterator(ev_file):
            for v in ev.summary.value:
                if v.tag == "loss":
                    losses.append((int(ev.step), float(v.simple_value)))
    return {
        "checkpoint": ckpt,
        "global_step": step,
        "train_seconds": round(elapsed, 1),
        "loss_by_step": losses,
    }


# --------------------------------------------------------------------------
# Bundle + reference outputs
# --------------------------------------------------------------------------


def generation_config(config_id: str):
    config = copy.deepcopy(melody_rnn_model.default_configs[config_id])
    config.hparams.batch_size = 1  # generation graph: one sequence
    return config


def make_bundle(config_id: str, train_dir: str, bundle_path: str, description: str) -> None:
    config = generation_config(config_id)
    gen = melody_rnn_sequence_generator.MelodyRnnSequenceGenerator(
        model=melody_rnn_model.MelodyRnnModel(config),
        details=config.details,
        steps_per_quarter=config.steps_per_quarter,
        checkpoint=train_dir,
    )
    os.makedirs(os.path.dirname(bundle_path), exist_ok=True)
    tmp = bundle_path + ".tmp"
    gen.create_bundle_file(tmp, description)
    gen.close()
    os.replace(tmp, bundle_path)


def _varint(buf: bytes, pos: int):
    shift = result = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def describe_v1_table(data: bytes) -> dict:
    """Facts about the LevelDB-style table of a V1 checkpoint (for the report)."""
    info = {"bytes": len(data)}
    magic = struct.unpack("<Q", data[-8:])[0]
    info["footer_magic"] = f"0x{magic:016x}"
    footer = data[-48:]
    pos = 0
    meta_off, pos = _varint(footer, pos)
    meta_size, pos = _varint(footer, pos)
    idx_off, pos = _varint(footer, pos)
    idx_size, pos = _varint(footer, pos)
    info["index_block"] = {
        "offset": idx_off,
        "size": idx_size,
        "compression_type": data[idx_off + idx_size],
    }
    info["metaindex_block"] = {"offset": meta_off, "size": meta_size}
    # Walk the index block (entries: shared, non_shared, value_len, key, BlockHandle).
    block = data[idx_off : idx_off + idx_size]
    num_restarts = struct.unpack("<I", block[-4:])[0]
    end = len(block) - 4 - 4 * num_restarts
    pos, comp = 0, []
    while pos < end:
        _shared, pos = _varint(block, pos)
        non_shared, pos = _varint(block, pos)
        vlen, pos = _varint(block, pos)
        pos += non_shared
        h, hp = _varint(block, pos)
        s, _ = _varint(block, hp)
        pos += vlen
        comp.append(data[h + s])
    info["data_blocks"] = len(comp)
    info["data_block_compression_types"] = sorted(set(comp))
    return info


def reference_outputs(config_id: str, bundle_path: str, primers) -> tuple[dict, dict]:
    bundle = sequence_generator_bundle.read_bundle_file(bundle_path)
    gen = melody_rnn_sequence_generator.get_generator_map()[config_id](
        checkpoint=None, bundle=bundle
    )
    gen.initialize()
    model = gen._model  # pylint: disable=protected-access
    sess = model._session  # pylint: disable=protected-access
    g = sess.graph
    enc = melody_rnn_model.default_configs[config_id].encoder_decoder
    g_inputs = g.get_collection("inputs")[0]
    g_init = g.get_collection("initial_state")
    g_temp = g.get_collection("temperature")[0]
    g_softmax = g.get_collection("softmax")[0]
    batch = int(g_inputs.shape[0])
    zero_state = sess.run(g_init)

    arrays, checks = {}, []
    for i, events in enumerate(primers):
        mel = note_seq.Melody(events)
        inputs = np.asarray(enc.get_inputs_batch([mel], full_length=True), dtype=np.float32)
        feed = {g_inputs: inputs, tuple(g_init): zero_state, g_temp: 1.0}
        softmax = sess.run(g_softmax, feed)[0].astype(np.float32)
        arrays[f"primer_{i}"] = np.asarray(events, dtype=np.int32)
        arrays[f"inputs_{i}"] = inputs[0]
        arrays[f"softmax_{i}"] = softmax
        # Cross-check against magenta's own log-likelihood routine.
        ll_ours = float(
            sum(np.log(softmax[t, enc.events_to_label(mel, t + 1)]) for t in range(len(mel) - 1))
        )
        ll_magenta = float(model.melody_log_likelihood(mel))
        checks.append(
            {
                "primer": i,
                "steps": len(events),
                "loglik_from_softmax": ll_ours,
                "loglik_magenta_melody_log_likelihood": ll_magenta,
            }
        )
    var_shapes = {}
    with tempfile.TemporaryDirectory() as td:
        ck = os.path.join(td, "model.ckpt")
        with open(ck, "wb") as fh:
            fh.write(bundle.checkpoint_file[0])
        reader = tf.train.load_checkpoint(ck)
        for name, shape in sorted(reader.get_variable_to_shape_map().items()):
            var_shapes[name] = {
                "shape": list(shape),
                "dtype": reader.get_variable_to_dtype_map()[name].name,
            }
    meta = {
        "generate_graph_batch_size": batch,
        "initial_state_tensors": [{"name": t.name, "shape": t.shape.as_list()} for t in g_init],
        "checkpoint_variables": var_shapes,
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
    gen.close()
    return arrays, meta


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        h.update(fh.read())
    return h.hexdigest()


# --------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configs", default=",".join(ALL_CONFIGS))
    ap.add_argument("--steps", type=int, default=40, help="training steps per config")
    ap.add_argument(
        "--batch-size",
        type=int,
        default=32,
        help="training batch size (magenta default 128; no variable shape depends on it)",
    )
    ap.add_argument("--tunes-per-file", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--work", default=None, help="scratch dir (default: a temp dir, removed)")
    ap.add_argument(
        "--magenta-reader",
        action="store_true",
        help="use magenta's queue-based (nondeterministic) TFRecord reader",
    )
    ap.add_argument("--bundle-only", action="store_true", help="skip the reference npz/json")
    args = ap.parse_args(argv)

    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    for c in configs:
        if c not in melody_rnn_model.default_configs:
            ap.error(f"unknown config {c}")
    random.seed(args.seed)
    np.random.seed(args.seed)

    work = args.work or tempfile.mkdtemp(prefix="melody_rnn_fixtures_")
    os.makedirs(work, exist_ok=True)
    t_all = time.time()
    try:
        t0 = time.time()
        train_seqs, tried, failed = load_tunes(TRAIN_FILES, args.tunes_per_file)
        primer_seqs, _, _ = load_tunes((PRIMER_FILE,), 60)
        log(
            f"parsed {len(train_seqs)} training tunes ({failed} of {tried} rejected by music21) "
            f"and {len(primer_seqs)} primer tunes in {time.time() - t0:.1f}s"
        )

        for config_id in configs:
            t_cfg = time.time()
            config = copy.deepcopy(melody_rnn_model.default_configs[config_id])
            config.hparams.batch_size = args.batch_size
            cdir = os.path.join(work, config_id)
            if os.path.exists(cdir):
                shutil.rmtree(cdir)
            data = build_dataset(config, train_seqs, os.path.join(cdir, "data"))
            log(f"{config_id}: {data['records']} SequenceExamples, {data['steps_total']} steps")
            tr = train(
                config,
                data["path"],
                os.path.join(cdir, "train"),
                args.steps,
                args.seed,
                args.magenta_reader,
            )
            log(
                f"{config_id}: trained to step {tr['global_step']} in {tr['train_seconds']}s; "
                f"loss {tr['loss_by_step']}"
            )
            bundle_path = os.path.join(args.out, f"{config_id}.mag")
            make_bundle(
                config_id,
                os.path.join(cdir, "train"),
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
            gen_cfg = generation_config(config_id)
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
                "training": {
                    "steps": tr["global_step"],
                    "batch_size": args.batch_size,
                    "seconds": tr["train_seconds"],
                    "loss_by_step": tr["loss_by_step"],
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
                    "source": "music21 corpus essenFolksong (ABC) -> music21 MIDI -> "
                    "note_seq.midi_to_note_sequence",
                    "training_files": list(TRAIN_FILES),
                    "tunes_per_file": args.tunes_per_file,
                    "training_tunes": len(train_seqs),
                    "tunes_rejected_by_music21": failed,
                    "pipeline": "magenta melody_rnn_pipeline.get_pipeline(config, eval_ratio=0) "
                    "via pipeline.run_pipeline_serial",
                    "sequence_examples": data["records"],
                    "sequence_example_steps_total": data["steps_total"],
                    "sequence_example_steps_min_max": [data["steps_min"], data["steps_max"]],
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
                "seeds": {
                    "tf_graph_seed": args.seed,
                    "numpy": args.seed,
                    "python_random": args.seed,
                    "tf_data_shuffle": None if args.magenta_reader else args.seed,
                },
                "bundle_file": os.path.basename(bundle_path),
                # The checkpoint bytes and the reference outputs are reproducible
                # run to run; the metagraph is not byte-stable (protobuf map
                # order of the while-loop context's external_values), so
                # neither is this hash.
                "bundle_sha256": sha256(bundle_path),
                "checkpoint_sha256": hashlib.sha256(
                    sequence_generator_bundle.read_bundle_file(bundle_path).checkpoint_file[0]
                ).hexdigest(),
                "bundle_bytes": os.path.getsize(bundle_path),
            }
            doc.update(meta)
            with open(os.path.join(args.out, f"{config_id}_reference.json"), "w") as fh:
                json.dump(doc, fh, indent=1, sort_keys=False)
                fh.write("\n")
            log(
                f"{config_id}: reference written; loglik checks {meta['loglik_checks']}; "
                f"config took {time.time() - t_cfg:.1f}s"
            )
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    log(f"all done in {time.time() - t_all:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
