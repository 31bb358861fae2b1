"""What the fixture scripts share: magenta's training loop, bundles, teacher-forced softmax.

Every events-RNN family is trained, bundled and probed the same way in magenta (one
events_rnn_graph, one events_rnn_train loop, one generate graph with `inputs`,
`initial_state`, `temperature` and `softmax` collections), so one copy of that code
serves make_{melody,drums,polyphony,performance}_rnn_fixtures.py and, for training and
bundling, make_pianoroll_rnn_nade_fixture.py. Run only in the reference virtualenv
(setup_magenta_env.sh); like the scripts, it sets TensorFlow up before magenta loads.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import glob
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import magenta_runtime

tf = magenta_runtime.setup(verbose=bool(os.environ.get("MAGENTA_VERBOSE")))

import numpy as np
import magenta.common
from magenta.models.shared import events_rnn_graph
from magenta.models.shared import events_rnn_train
from magenta.models.shared import sequence_generator_bundle
from magenta.pipelines import pipeline as magenta_pipeline

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def logger(name: str):
    """A `log(msg)` that prints to stderr with the script's name and the time."""

    def log(msg: str) -> None:
        print(f"[{name} {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    return log


def prefixed(log, prefix: str):
    """`log` with every message prefixed, e.g. by the config being made."""
    return lambda msg: log(f"{prefix}: {msg}")


def fixture_parser(
    doc: str,
    out: str,
    batch_size: int,
    magenta_batch_size: int,
    steps_help: str = "training steps",
    magenta_layer_sizes: str | None = None,
    layer_sizes: str | None = None,
) -> argparse.ArgumentParser:
    """The arguments every training fixture script takes; the script adds its own.

    With `magenta_layer_sizes` (the config's default), --rnn-layer-sizes may override them.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40, help=steps_help)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=batch_size,
        help=f"training batch size (magenta default {magenta_batch_size}; "
        "no variable shape depends on it)",
    )
    if magenta_layer_sizes:
        parser.add_argument(
            "--rnn-layer-sizes",
            default=layer_sizes,
            help=f"comma-separated LSTM sizes (magenta's default is {magenta_layer_sizes})",
        )
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--out", default=out)
    parser.add_argument("--work", default=None, help="scratch dir (default: a temp dir, removed)")
    parser.add_argument(
        "--magenta-reader",
        action="store_true",
        help="use magenta's queue-based (nondeterministic) TFRecord reader",
    )
    return parser


def training_config(config, batch_size: int, rnn_layer_sizes: str | None = None):
    """A copy of a magenta config with the training batch size (and layer sizes) given."""
    config = copy.deepcopy(config)
    config.hparams.batch_size = batch_size
    if rnn_layer_sizes:
        config.hparams.rnn_layer_sizes = [int(s) for s in rnn_layer_sizes.split(",")]
    return config


def generation_config(config):
    """The config of the generate graph: one sequence at a time, as magenta's generators."""
    config = copy.deepcopy(config)
    config.hparams.batch_size = 1
    return config


def make_generator(generator_class, model_class, config, **source):
    """A sequence generator on a grid of steps per quarter, bound to our `config` (the
    generator map's would rebuild default layer sizes), on a `checkpoint` or a `bundle`."""
    config = generation_config(config)
    return generator_class(
        model=model_class(config),
        details=config.details,
        steps_per_quarter=config.steps_per_quarter,
        **source,
    )


@contextlib.contextmanager
def work_dir(work: str | None, prefix: str):
    """`work` (kept), or a temporary directory removed at the end."""
    path = work or tempfile.mkdtemp(prefix=prefix)
    os.makedirs(path, exist_ok=True)
    try:
        yield path
    finally:
        if work is None:
            shutil.rmtree(path, ignore_errors=True)


def chorale_paths() -> list[str]:
    """Corpus-relative paths of the Bach chorales in MusicXML, sorted ("bach/bwv1.6.mxl").

    The bach folder also holds roman-numeral analyses and a few other formats; only the
    MusicXML chorale scores are used.
    """
    import music21

    root = os.path.join(os.path.dirname(music21.__file__), "corpus")
    return sorted(
        os.path.relpath(path, root) for path in glob.glob(os.path.join(root, "bach", "bwv*.mxl"))
    )


# --------------------------------------------------------------------------
# Data and training
# --------------------------------------------------------------------------


def build_dataset(pipe, note_sequences, out_dir: str, tfrecord: str) -> dict:
    """Run a magenta pipeline serially into `out_dir`; facts about its `tfrecord` output.

    `total` and `min_max` count the inputs of the SequenceExamples (steps or events).
    """
    os.makedirs(out_dir, exist_ok=True)
    magenta_pipeline.run_pipeline_serial(pipe, iter(note_sequences), out_dir)
    path = os.path.join(out_dir, tfrecord)
    lengths = [
        len(tf.train.SequenceExample.FromString(rec).feature_lists.feature_list["inputs"].feature)
        for rec in tf.python_io.tf_record_iterator(path)
    ]
    return {
        "path": path,
        "records": len(lengths),
        "total": int(sum(lengths)),
        "min_max": [int(min(lengths)), int(max(lengths))] if lengths else [0, 0],
    }


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
    config,
    tfrecord: str,
    train_dir: str,
    steps: int,
    seed: int,
    magenta_reader: bool,
    log,
    get_build_graph_fn=events_rnn_graph.get_build_graph_fn,
) -> dict:
    """magenta's training loop (events_rnn_train) on the graph `get_build_graph_fn` builds.

    `log` hears the steps, seconds and losses.
    """
    if not magenta_reader:
        magenta.common.get_padded_batch = make_deterministic_reader(seed)
    build = get_build_graph_fn("train", config, [tfrecord])

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
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(train_dir))
    step = int(reader.get_tensor("global_step"))
    # Final-batch loss is not kept by run_training; the summary has it.
    losses = []
    for ev_file in sorted(tf.gfile.Glob(os.path.join(train_dir, "events.out.tfevents.*"))):
        for ev in tf.train.summary_iterator(ev_file):
            for v in ev.summary.value:
                if v.tag == "loss":
                    losses.append((int(ev.step), float(v.simple_value)))
    trained = {"global_step": step, "train_seconds": round(elapsed, 1), "loss_by_step": losses}
    log(f"trained to step {step} in {trained['train_seconds']}s; loss {losses}")
    return trained


def training_record(trained: dict, batch_size: int, magenta_reader: bool) -> dict:
    """The fixture JSON's `training` entry."""
    return {
        "steps": trained["global_step"],
        "batch_size": batch_size,
        "seconds": trained["train_seconds"],
        "loss_by_step": trained["loss_by_step"],
        "loop": "magenta.models.shared.events_rnn_train.run_training "
        "(tf_slim.training.train, Adam, clip_norm)",
        "reader": (
            "magenta.common.get_padded_batch (queues)"
            if magenta_reader
            else "seeded tf.data replacement for magenta.common.get_padded_batch"
        ),
        "dynamic_rnn_parallel_iterations": 1,
    }


def seeds_record(seed: int, magenta_reader: bool) -> dict:
    """The fixture JSON's `seeds` entry."""
    return {
        "tf_graph_seed": seed,
        "numpy": seed,
        "python_random": seed,
        "tf_data_shuffle": None if magenta_reader else seed,
    }


# --------------------------------------------------------------------------
# Bundle + reference outputs
# --------------------------------------------------------------------------


def write_bundle(generator, bundle_path: str, description: str) -> None:
    """magenta's own create_bundle_file, through a temporary file; closes `generator`."""
    os.makedirs(os.path.dirname(bundle_path), exist_ok=True)
    tmp = bundle_path + ".tmp"
    generator.create_bundle_file(tmp, description)
    generator.close()
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


def reference_outputs(bundle_path: str, generator_for, encoder, sequences, describe):
    """magenta's teacher-forced softmax for each sequence, and facts about the bundle.

    `generator_for(bundle)` gives the family's sequence generator on the bundle; each
    sequence's full-length `encoder` inputs go to the generate graph's `inputs` with
    temperature 1.0 and the zero initial state. `describe(i, sequence, model, loglik)` gives
    the check recorded for sequence i (`loglik`: its log-likelihood from the softmax).
    Returns [(inputs, softmax)] (float32) and the JSON's bundle facts and checks.
    """
    bundle = sequence_generator_bundle.read_bundle_file(bundle_path)
    generator = generator_for(bundle)
    generator.initialize()
    model = generator._model  # pylint: disable=protected-access
    session = model._session  # pylint: disable=protected-access
    graph = session.graph
    g_inputs = graph.get_collection("inputs")[0]
    g_init = graph.get_collection("initial_state")
    g_temperature = graph.get_collection("temperature")[0]
    g_softmax = graph.get_collection("softmax")[0]
    zero_state = session.run(g_init)

    outputs, checks = [], []
    for i, sequence in enumerate(sequences):
        inputs = np.asarray(encoder.get_inputs_batch([sequence], full_length=True), np.float32)
        feed = {g_inputs: inputs, tuple(g_init): zero_state, g_temperature: 1.0}
        softmax = session.run(g_softmax, feed)[0].astype(np.float32)
        outputs.append((inputs[0], softmax))
        loglik = float(
            sum(
                np.log(softmax[t, encoder.events_to_label(sequence, t + 1)])
                for t in range(len(sequence) - 1)
            )
        )
        checks.append(describe(i, sequence, model, loglik))
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
    return outputs, meta


def softmax_reference(make_generator, config, bundle_path: str, sequences, describe):
    """`reference_outputs` of a generator bound to `config`, as arrays `softmax_<i>` only:
    the primers of these fixtures come from data that is never committed, so neither are
    their events, inputs or labels."""
    outputs, meta = reference_outputs(
        bundle_path,
        lambda bundle: make_generator(config, bundle=bundle),
        config.encoder_decoder,
        sequences,
        describe,
    )
    return {f"softmax_{i}": softmax for i, (_, softmax) in enumerate(outputs)}, meta


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        h.update(fh.read())
    return h.hexdigest()


def primer_sha256(values) -> str:
    """SHA-256 of a primer's event values written in decimal, comma-separated, ASCII.

    The parity tests compute the same to check that they rebuilt the primer exactly.
    """
    return hashlib.sha256(",".join(str(int(v)) for v in values).encode("ascii")).hexdigest()


def bundle_record(bundle_path: str) -> dict:
    """The fixture JSON's bundle entries: file, hashes, size.

    The checkpoint bytes and the reference outputs are reproducible run to run; the
    metagraph is not byte-stable (protobuf map order of the while-loop context's
    external_values), so neither is the bundle's hash.
    """
    return {
        "bundle_file": os.path.basename(bundle_path),
        "bundle_sha256": sha256(bundle_path),
        "checkpoint_sha256": hashlib.sha256(
            sequence_generator_bundle.read_bundle_file(bundle_path).checkpoint_file[0]
        ).hexdigest(),
        "bundle_bytes": os.path.getsize(bundle_path),
    }


def write_json(path: str, doc: dict) -> None:
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")


def write_reference_json(path: str, doc: dict, args, bundle_path: str, meta: dict) -> None:
    """The fixture JSON: the script's facts, the seeds, the bundle's and magenta's checks."""
    write_json(
        path,
        {
            **doc,
            "seeds": seeds_record(args.seed, args.magenta_reader),
            **bundle_record(bundle_path),
            **meta,
        },
    )
