#!/usr/bin/env python
"""Make MusicVAE and GrooVAE parity fixtures with Google's own `magenta` 2.1.4 code.

Run with the reference virtualenv's python (see setup_magenta_env.sh), after exporting the
folk tunes (models/training/export_folk_corpus.py -> data/folk_midi) and the MMA grooves
(models/training/export_mma_grooves.py -> data/mma_drums; `mma` must be installed, the trio
config renders whole grooves with it)::

    .venv-magenta/bin/python models/reference/make_music_vae_fixtures.py \
        [--configs cat-mel_2bar_small,...] [--steps N] [--out tests/fixtures/music_vae]

For each config of ``magenta.models.music_vae.configs.CONFIG_MAP`` named in CONFIGS:

1. Checkpoint.  The config with smaller layers (every ``enc_rnn_size``/``dec_rnn_size`` entry
   64 or 32, ``z_size`` 32, same number of layers; ``max_seq_len``, level lengths, data
   converter, output depths, free bits and beta untouched), given as the ``--hparams`` string
   of ``music_vae_train``, is trained by magenta's own ``music_vae_train.train`` (the graph,
   loss, Adam, gradient clipping and tf_slim loop of ``music_vae_train.py``) for the config's
   steps (300 to 2,000: after a few dozen, every greedy decode is silence) on real data
   converted by the config's own ``data_converter`` in training mode (and
   its ``note_sequence_augmenter``).  Then only the variables of the inference graph that
   ``TrainedModel`` builds are saved, by ``tf.compat.v1.train.Saver``, as a V2 checkpoint
   (``checkpoint``, ``model.ckpt-N.index``, ``model.ckpt-N.data-00000-of-00001``): the Adam
   slots are dropped.
2. Converter references: the converter (in the ``infer`` mode ``TrainedModel`` sets) on a few
   held-out NoteSequences: ``to_tensors`` (inputs, outputs, controls, lengths) and
   ``from_tensors`` of each output tensor.
3. Model references: ``TrainedModel.encode_tensors`` (mu, sigma) for a few of those tensors;
   for the mus plus seeded random z, the decoder's outputs under teacher forcing, from
   magenta's own ``decoder.reconstruction_loss`` (its ``LstmDecodeResults.rnn_output``, with
   the conductor embeddings of hierarchical decoders); greedy decodes
   (``TrainedModel.decode_to_tensors``/``decode`` at temperature 1e-5, with the free-running
   logits); and ``TrainedModel.interpolate``'s latent path and output.
4. ``full_size_variables.json``: the config's full-size hparams and every variable (name ->
   shape) of the inference graph at full size, the names an official checkpoint has.

Folk tunes (music21 corpus, non-commercial) are stored as small excerpts and tensors, as the
MelodyRNN fixtures store primers.  MMA grooves are GPL: no tensor or note derived from them is
stored, only a recipe to render them again and SHA-256 digests (see ``tensor_digest`` and
``notes_digest``); model outputs (mu, logits, decodes) are stored for every config.

Deviations from ``music_vae_train.py``, none of which changes the model, the graph or the
checkpoint format: the training examples are converted once in Python (seeded) and served by a
seeded ``tf.data`` pipeline instead of ``data.get_dataset`` (its parallel, unordered maps and
unseeded converter sampling make it nondeterministic); the graph seed is set; the RNN while
loops run one iteration at a time (dropout and scheduled sampling draw from stateful random ops
inside them, which otherwise race); summaries are saved more often, to record the loss; the
training batch size is smaller (no variable depends on it).
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
import random
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import magenta_runtime

tf = magenta_runtime.setup(verbose=bool(os.environ.get("MAGENTA_VERBOSE")))

import numpy as np
import note_seq
import tf_slim
import magenta.contrib.rnn as contrib_rnn
import magenta.contrib.seq2seq as contrib_seq2seq
from magenta.models.music_vae import TrainedModel
from magenta.models.music_vae import base_model
from magenta.models.music_vae import configs
from magenta.models.music_vae import data as mvae_data
from magenta.models.music_vae import lstm_models
from magenta.models.music_vae import music_vae_train

import fixture_common
from fixture_common import REPO

sys.path.insert(0, os.path.join(REPO, "models", "training"))
import export_mma_grooves  # the GPL grooves are rendered by the export's own code

DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "music_vae")
DEFAULT_FOLK = os.path.join(REPO, "data", "folk_midi")
DEFAULT_MMA = os.path.join(REPO, "data", "mma_drums")
DECODE_TEMPERATURE = 1e-5
INTERPOLATION_STEPS = 5
TRIO_BARS = 17  # 16-bar windows at bars 0 and 1 of each rendering

# hparams: the `--hparams` string of music_vae_train (layer sizes, z, training batch size).
# data: where training and reference NoteSequences come from.
# excerpt_bars: the reference NoteSequences are cut to this many bars (None: whole rendering),
#   so that a converter that dedupes through a Python set and keeps the first
#   max_tensors_per_notesequence (5) keeps them all.
# examples: how many reference tensors are encoded; random_z: extra seeded latent codes.
# steps: training steps; enough for greedy decodes to hold notes (after a few dozen steps
#   every greedy decode is all rests or all silence, which leaves the decode loop untested).
CONFIGS = {
    "cat-mel_2bar_small": dict(
        hparams="enc_rnn_size=[64],dec_rnn_size=[64,64],z_size=32,batch_size=32",
        data="folk",
        excerpt_bars=4,
        examples=4,
        random_z=2,
        steps=1500,
    ),
    "cat-mel_2bar_big": dict(
        hparams="enc_rnn_size=[64],dec_rnn_size=[64,64,64],z_size=32,batch_size=32",
        data="folk",
        excerpt_bars=4,
        examples=4,
        random_z=2,
        steps=2000,
    ),
    "hierdec-mel_16bar": dict(
        hparams="enc_rnn_size=[64,64],dec_rnn_size=[64,64],z_size=32,batch_size=16",
        data="folk",
        excerpt_bars=17,
        examples=4,
        random_z=2,
        steps=300,
    ),
    "cat-drums_2bar_small": dict(
        hparams="enc_rnn_size=[64],dec_rnn_size=[64,64],z_size=32,batch_size=32",
        data="mma_drums",
        excerpt_bars=4,
        examples=4,
        random_z=2,
        steps=1000,
    ),
    "hierdec-trio_16bar": dict(
        hparams="enc_rnn_size=[32,32],dec_rnn_size=[32,32],z_size=32,batch_size=8",
        data="mma_trio",
        excerpt_bars=None,
        examples=2,
        random_z=1,
        steps=400,
        training_tensors=600,  # 0.35 MB each (256 x 692 booleans, twice)
    ),
    "groovae_2bar_humanize": dict(
        hparams="enc_rnn_size=[64],dec_rnn_size=[64,64],z_size=32,batch_size=32",
        data="mma_drums",
        excerpt_bars=None,
        examples=4,
        random_z=2,
        steps=1000,
    ),
    "groovae_2bar_tap_fixed_velocity": dict(
        hparams="enc_rnn_size=[64],dec_rnn_size=[64,64],z_size=32,batch_size=32",
        data="mma_drums",
        excerpt_bars=None,
        examples=4,
        random_z=2,
        steps=1000,
    ),
    "groovae_4bar": dict(
        hparams="enc_rnn_size=[64],dec_rnn_size=[64,64],z_size=32,batch_size=32",
        data="mma_drums",
        excerpt_bars=None,
        examples=4,
        random_z=2,
        steps=1000,
    ),
}
REFERENCE_SOURCES = 4  # held-out NoteSequences per config for the converter references
TRAINING_TENSORS = 1500  # converted training tensors per config (at most, unless it says)

NOTE_COLUMNS = ["pitch", "velocity", "start_time", "end_time", "program", "instrument", "is_drum"]
TENSOR_DIGEST = (
    "sha256 of ASCII text: the shape joined by 'x', ':', then every value in C order "
    "rounded to 6 decimals and written '%.6f' (booleans as 0/1, -0 as 0), comma-separated"
)
NOTES_DIGEST = (
    "sha256 of ASCII text: one 'pitch,velocity,start_time,end_time,program,instrument,is_drum' "
    "row per note in NoteSequence order (times '%.6f', the rest integers), joined by ';'"
)

log = fixture_common.logger("music_vae fixtures")


# --------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------


@contextlib.contextmanager
def deterministic_graphs(seed: int):
    """Every MusicVAE graph built inside gets graph seed `seed`, and the RNN while loops run
    one iteration at a time (stateful random ops inside them otherwise race)."""
    patches = [
        (base_model.MusicVAE, "build"),
        (contrib_seq2seq, "dynamic_decode"),
        (contrib_rnn, "stack_bidirectional_dynamic_rnn"),
    ]
    originals = [getattr(owner, name) for owner, name in patches]
    build, dynamic_decode, stack_bidirectional = originals

    def seeded_build(self, *args, **kwargs):
        tf.set_random_seed(seed)
        return build(self, *args, **kwargs)

    base_model.MusicVAE.build = seeded_build
    contrib_seq2seq.dynamic_decode = functools.partial(dynamic_decode, parallel_iterations=1)
    contrib_rnn.stack_bidirectional_dynamic_rnn = functools.partial(
        stack_bidirectional, parallel_iterations=1
    )
    try:
        yield
    finally:
        for (owner, name), original in zip(patches, originals, strict=True):
            setattr(owner, name, original)


def fixture_config(name: str, hparams: str | None):
    """A private copy of CONFIG_MAP[name], with the `--hparams` string applied as
    music_vae_train does (`config.hparams.parse`)."""
    config = copy.deepcopy(configs.CONFIG_MAP[name])
    if hparams:
        config.hparams.parse(hparams)
    return config


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def seconds_per_bar(ns) -> float | None:
    """Bar length of a NoteSequence with one tempo and one time signature, else None."""
    if len(ns.tempos) > 1 or len(ns.time_signatures) > 1:
        return None
    qpm = ns.tempos[0].qpm if ns.tempos else note_seq.DEFAULT_QUARTERS_PER_MINUTE
    ts = ns.time_signatures[0] if ns.time_signatures else None
    quarters = ts.numerator * 4 / ts.denominator if ts else 4.0
    return 60.0 / qpm * quarters


def excerpt(ns, bars: int | None):
    """The first `bars` bars (note_seq.extract_subsequence), or `ns` itself."""
    if bars is None:
        return ns
    return note_seq.extract_subsequence(ns, 0.0, bars * seconds_per_bar(ns))


def notes_array(ns) -> np.ndarray:
    return np.array(
        [
            [n.pitch, n.velocity, n.start_time, n.end_time, n.program, n.instrument, n.is_drum]
            for n in ns.notes
        ],
        np.float64,
    ).reshape(-1, len(NOTE_COLUMNS))


def notes_digest(ns) -> str:
    rows = [
        f"{n.pitch},{n.velocity},{n.start_time + 0.0:.6f},{n.end_time + 0.0:.6f},"
        f"{n.program},{n.instrument},{int(n.is_drum)}"
        for n in ns.notes
    ]
    return hashlib.sha256(";".join(rows).encode("ascii")).hexdigest()


def tensor_digest(t) -> str:
    a = np.round(np.asarray(t, np.float64), 6) + 0.0
    text = "x".join(map(str, a.shape)) + ":" + ",".join(f"{v:.6f}" for v in a.ravel())
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def sequence_meta(ns) -> dict:
    return {
        "tempos_qpm": [t.qpm for t in ns.tempos],
        "time_signatures": [f"{t.numerator}/{t.denominator}" for t in ns.time_signatures],
        "ticks_per_quarter": ns.ticks_per_quarter,
        "total_time": ns.total_time,
        "notes": len(ns.notes),
    }


class FolkTunes:
    """Folk tunes exported by export_folk_corpus.py (abc2midi MIDI) as NoteSequences."""

    kind = "folk"
    gpl = False

    def __init__(self, root: str):
        self.root = root

    def files(self, split: str) -> list[str]:
        files = sorted(glob.glob(os.path.join(self.root, split, "*", "*.mid")))
        if not files:
            raise SystemExit(
                f"no MIDI under {os.path.join(self.root, split)}; "
                "run models/training/export_folk_corpus.py first"
            )
        return files

    def training(self, seed: int):
        files = self.files("train")
        random.Random(seed).shuffle(files)
        for path in files:
            yield os.path.relpath(path, self.root), note_seq.midi_file_to_note_sequence(path)

    def references(self):
        """Test tunes, the collections taken in turn (sorted by path within each)."""
        by_collection: dict[str, list[str]] = {}
        for path in self.files("test"):
            by_collection.setdefault(os.path.basename(os.path.dirname(path)), []).append(path)
        queues = [list(v) for _, v in sorted(by_collection.items())]
        while any(queues):
            for queue in queues:
                if queue:
                    path = queue.pop(0)
                    yield (
                        {"file": os.path.relpath(path, self.root)},
                        note_seq.midi_file_to_note_sequence(path),
                    )

    def record(self) -> dict:
        with open(os.path.join(self.root, "manifest.json")) as fh:
            manifest = json.load(fh)
        return {
            "source": "music21 corpus folk tunes as MIDI by models/training/export_folk_corpus.py "
            "(abc2midi) -> note_seq.midi_file_to_note_sequence",
            "license": manifest["license"],
            "abc2midi_version": manifest["abc2midi_version"],
        }


class MmaGrooves:
    """Grooves of Debian's MMA library (GPL-2+): drum parts exported by export_mma_grooves.py,
    or (trio) whole renderings, melody/chord, bass and drum tracks, made here with its
    render_groove."""

    gpl = True

    def __init__(self, root: str, trio: bool):
        self.root = root
        self.trio = trio
        self.kind = "mma_trio" if trio else "mma_drums"
        path = os.path.join(root, "manifest.json")
        if not os.path.exists(path):
            raise SystemExit(f"{path} missing; run models/training/export_mma_grooves.py first")
        with open(path) as fh:
            self.manifest = json.load(fh)
        self.mma = shutil.which("mma")
        if trio and self.mma is None:
            raise SystemExit("mma missing (apt-get install mma): the trio config renders grooves")

    def grooves(self, split: str) -> list[dict]:
        """4/4 grooves of `split` with drums, in manifest order (sorted by library file)."""
        return [
            g
            for g in self.manifest["grooves"]
            if g["split"] == split and g["midi_file"] and g["time_signature"] == "4/4"
        ]

    def recipe(self, groove: dict) -> dict:
        if self.trio:
            return {
                "library_file": groove["file"],
                "groove": groove["name"],
                "bars": TRIO_BARS,
                "render": "export_mma_grooves.render_groove(mma, library_file, groove, bars): "
                "all tracks (no drum_part)",
            }
        return {
            "library_file": groove["file"],
            "groove": groove["name"],
            "bars": self.manifest["bars"],
            "render": "export_mma_grooves.drum_part(render_groove(mma, library_file, groove, "
            "bars), bars).midi (tests/conftest.py render_groove)",
        }

    def sequence(self, groove: dict):
        if self.trio:
            midi = export_mma_grooves.render_groove(
                self.mma, groove["file"], groove["name"], TRIO_BARS
            )
            return note_seq.midi_to_note_sequence(midi)
        return note_seq.midi_file_to_note_sequence(os.path.join(self.root, groove["midi_file"]))

    def training(self, seed: int):
        grooves = self.grooves("train")
        random.Random(seed).shuffle(grooves)
        for groove in grooves:
            yield f"{groove['file']}:{groove['name']}", self.sequence(groove)

    def references(self):
        """Test grooves, one per library file."""
        used = set()
        for groove in self.grooves("test"):
            if groove["file"] in used:
                continue
            used.add(groove["file"])
            yield self.recipe(groove), self.sequence(groove)

    def record(self) -> dict:
        return {
            "source": "MMA groove library (Debian mma) rendered at 120 qpm with RndSeed 1 by "
            "models/training/export_mma_grooves.py's render_groove"
            + (
                f" ({TRIO_BARS} bars, every track)"
                if self.trio
                else " (drum_part: channel 10 only, the files of data/mma_drums)"
            )
            + " -> note_seq",
            "license": self.manifest["license"],
            "mma_version": self.manifest["mma_version"],
            "only_time_signature": "4/4",
        }


def pitch_filter(converter):
    """GrooveConverter looks every note's pitch up in its class map and raises KeyError for
    others (the Groove MIDI Dataset it was made for has only Roland pitches); MMA's grooves use
    more of General MIDI.  Returns a function keeping the notes the map knows, or None."""
    if not isinstance(converter, mvae_data.GrooveConverter):
        return None

    def keep_known(ns):
        known = converter.pitch_class_map
        kept = [n for n in ns.notes if n.pitch in known]
        dropped = len(ns.notes) - len(kept)
        if dropped:
            ns = copy.deepcopy(ns)
            del ns.notes[:]
            ns.notes.extend(kept)
        return ns, dropped

    return keep_known


def training_tensors(config, source, seed: int, wanted: int) -> dict:
    """About `wanted` training tensors, made by the config's
    converter in 'train' mode (its random sampling seeded), after its
    note_sequence_augmenter, as data.get_dataset makes them."""
    random.seed(seed)
    np.random.seed(seed)
    converter = config.data_converter
    converter.set_mode("train")
    keep_known = pitch_filter(converter)
    augmenter = config.note_sequence_augmenter
    inputs, outputs, lengths = [], [], []
    used, dropped = 0, 0
    for _, ns in source.training(seed):
        if keep_known:
            ns, n = keep_known(ns)
            dropped += n
        if augmenter is not None:
            ns = augmenter.augment(ns)
        tensors = converter.to_tensors(ns)
        if not tensors.inputs:
            continue
        used += 1
        inputs.extend(tensors.inputs)
        outputs.extend(tensors.outputs)
        lengths.extend(tensors.lengths)
        if len(inputs) >= wanted:
            break
    converter.set_mode("infer")
    return {
        "inputs": np.stack(inputs),
        "outputs": np.stack(outputs),
        "lengths": np.asarray(lengths, np.int32),
        "sequences_used": used,
        "notes_dropped_by_pitch_filter": dropped,
        "description": f"{source.kind} train split, converted by make_music_vae_fixtures.py",
    }


# --------------------------------------------------------------------------
# Training and the checkpoint
# --------------------------------------------------------------------------


def train(config, tensors: dict, train_dir: str, steps: int, seed: int) -> dict:
    """magenta's music_vae_train.train on a seeded tf.data of `tensors`."""
    batch_size = config.hparams.batch_size
    control_depth = config.data_converter.control_depth

    inputs, outputs, lengths = tensors["inputs"], tensors["outputs"], tensors["lengths"]
    controls = np.zeros((inputs.shape[1], control_depth), np.bool_)

    def examples():
        """Epoch after epoch, each in an order drawn from RandomState(seed)."""
        rng = np.random.RandomState(seed)
        while True:
            for i in rng.permutation(len(lengths)):
                yield inputs[i], outputs[i], controls, lengths[i]

    def dataset_fn():
        ds = tf.data.Dataset.from_generator(
            examples,
            output_types=(tf.as_dtype(inputs.dtype), tf.as_dtype(outputs.dtype), tf.bool, tf.int32),
            output_shapes=(inputs.shape[1:], outputs.shape[1:], controls.shape, ()),
        )
        return ds.batch(batch_size, drop_remainder=True)

    original = tf_slim.training.train
    tf_slim.training.train = functools.partial(original, save_summaries_steps=max(1, steps // 8))
    t0 = time.time()
    try:
        with deterministic_graphs(seed):
            music_vae_train.train(
                train_dir,
                # _trial_summary writes the examples path; the tensors come from dataset_fn.
                config=configs.update_config(
                    copy.deepcopy(config), {"train_examples_path": tensors["description"]}
                ),
                dataset_fn=dataset_fn,
                checkpoints_to_keep=1,
                num_steps=steps,
            )
    finally:
        tf_slim.training.train = original
    elapsed = time.time() - t0
    losses = []
    for ev_file in sorted(glob.glob(os.path.join(train_dir, "events.out.tfevents.*"))):
        for ev in tf.train.summary_iterator(ev_file):
            for v in ev.summary.value:
                if v.tag == "loss":
                    losses.append((int(ev.step), round(float(v.simple_value), 4)))
    ckpt = tf.train.latest_checkpoint(train_dir)
    reader = tf.train.load_checkpoint(ckpt)
    trained = {
        "checkpoint": ckpt,
        "global_step": int(reader.get_tensor("global_step")),
        "seconds": round(elapsed, 1),
        "loss_by_step": losses,
        "variables": reader.get_variable_to_shape_map(),
    }
    log(f"trained to step {trained['global_step']} in {trained['seconds']}s; loss {losses}")
    return trained


def build_inference_graph(config, batch_size: int):
    """The graph TrainedModel.__init__ builds (model.build with is_training=False, sample and
    encode on placeholders), without restoring; returns (graph, its global variables)."""
    config = copy.deepcopy(config)
    config.data_converter.set_mode("infer")
    config.hparams.batch_size = batch_size
    converter = config.data_converter
    graph = tf.Graph()
    with graph.as_default():
        model = config.model
        model.build(config.hparams, converter.output_depth, is_training=False)
        z = tf.placeholder(tf.float32, [batch_size, config.hparams.z_size])
        c_input = (
            tf.placeholder(tf.float32, [None, converter.control_depth])
            if converter.control_depth
            else None
        )
        model.sample(
            batch_size,
            max_length=tf.placeholder(tf.int32, ()),
            z=z,
            c_input=c_input,
            temperature=tf.placeholder(tf.float32, ()),
        )
        model.encode(
            tf.placeholder(tf.float32, [batch_size, None, converter.input_depth]),
            tf.placeholder(tf.int32, [batch_size, *converter.length_shape]),
            tf.placeholder(tf.float32, [batch_size, None, converter.control_depth]),
        )
        variables = tf.global_variables()
    return graph, variables


def variable_shapes(variables) -> dict:
    return {v.op.name: v.shape.as_list() for v in sorted(variables, key=lambda v: v.op.name)}


def save_inference_checkpoint(config, trained: dict, ckpt_dir: str) -> dict:
    """Restore the inference graph's variables from the training checkpoint and save only
    them (no Adam slots), as a V2 checkpoint with a relative `checkpoint` file."""
    if os.path.exists(ckpt_dir):
        shutil.rmtree(ckpt_dir)
    os.makedirs(ckpt_dir)
    graph, variables = build_inference_graph(config, batch_size=1)
    kept = variable_shapes(variables)
    training_only = sorted(set(trained["variables"]) - set(kept))
    rule = {
        f"{name}/{slot}" for name in kept if name != "global_step" for slot in ("Adam", "Adam_1")
    } | {"beta1_power", "beta2_power"}
    if set(training_only) != rule or not set(kept) <= set(trained["variables"]):
        raise RuntimeError(f"training checkpoint has unexpected variables: {training_only}")
    with graph.as_default(), tf.Session() as sess:
        saver = tf.train.Saver(variables, save_relative_paths=True)
        saver.restore(sess, trained["checkpoint"])
        saver.save(
            sess,
            os.path.join(ckpt_dir, "model.ckpt"),
            global_step=trained["global_step"],
            write_meta_graph=False,
        )
    files = sorted(os.listdir(ckpt_dir))
    return {
        "folder": os.path.basename(ckpt_dir),
        "format": "TensorFlow V2 (tf.compat.v1.train.Saver, save_relative_paths=True, no .meta)",
        "files": {f: os.path.getsize(os.path.join(ckpt_dir, f)) for f in files},
        "sha256": {
            f: fixture_common.sha256(os.path.join(ckpt_dir, f)) for f in files if f != "checkpoint"
        },
        "parameters": int(sum(np.prod(s) for n, s in kept.items() if n != "global_step")),
        "variables": kept,
        "dropped_training_variables": "the Adam slots `<variable>/Adam` and `<variable>/Adam_1` "
        "of every variable but global_step, and beta1_power, beta2_power (checked against the "
        "training checkpoint); TrainedModel restores without them",
    }


# --------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------


def converter_references(config, source, spec: dict) -> tuple[list[dict], dict]:
    """The converter (infer mode) on held-out NoteSequences.  Returns per source its tensors
    (and notes), and the npz arrays (folk only; MMA-derived data is recorded as digests)."""
    converter = config.data_converter
    converter.set_mode("infer")
    keep_known = pitch_filter(converter)
    sources, arrays = [], {}
    for recipe, ns in source.references():
        if keep_known:
            ns, dropped = keep_known(ns)
            if dropped:
                continue  # a reference the converter takes as it is
        if spec["excerpt_bars"] is not None:
            if seconds_per_bar(ns) is None:
                continue
            ns = excerpt(ns, spec["excerpt_bars"])
        tensors = converter.to_tensors(ns)
        if not tensors.inputs:
            continue
        i = len(sources)
        decoded = converter.from_tensors(tensors.outputs)
        entry = {
            "recipe": dict(recipe, excerpt_bars=spec["excerpt_bars"]),
            "sequence": sequence_meta(ns),
            "tensors": len(tensors.inputs),
            "lengths": [int(n) for n in tensors.lengths],
            "inputs": [np.asarray(t) for t in tensors.inputs],
            "outputs": [np.asarray(t) for t in tensors.outputs],
            "controls": [np.asarray(t) for t in tensors.controls],
        }
        if source.gpl:
            entry["digests"] = {
                "sequence_notes": notes_digest(ns),
                "inputs": [tensor_digest(t) for t in tensors.inputs],
                "outputs": [tensor_digest(t) for t in tensors.outputs],
                "from_tensors_notes": [notes_digest(d) for d in decoded],
            }
        else:
            arrays[f"src{i}_notes"] = notes_array(ns)
            arrays[f"src{i}_inputs"] = np.stack(entry["inputs"])
            arrays[f"src{i}_outputs"] = np.stack(entry["outputs"])
            arrays[f"src{i}_controls"] = np.stack(entry["controls"]).astype(np.bool_)
            arrays[f"src{i}_lengths"] = np.asarray(entry["lengths"], np.int32)
            arrays[f"src{i}_from_tensors_notes"] = np.concatenate(
                [
                    np.column_stack([np.full(len(d.notes), j, np.float64), notes_array(d)])
                    for j, d in enumerate(decoded)
                ]
            ).reshape(-1, 1 + len(NOTE_COLUMNS))
        sources.append(entry)
        if len(sources) == REFERENCE_SOURCES:
            break
    if len(sources) < REFERENCE_SOURCES:
        raise RuntimeError(f"only {len(sources)} held-out sources give tensors")
    return sources, arrays


def pick_examples(sources: list[dict], count: int) -> list[tuple[int, int]]:
    """(source, tensor) pairs: the first tensor of each source in turn, then the second..."""
    picks, j = [], 0
    while len(picks) < count:
        for s, entry in enumerate(sources):
            if j < entry["tensors"] and len(picks) < count:
                picks.append((s, j))
        j += 1
    return picks


def decoder_kind(config) -> str:
    decoder = config.model.decoder
    if isinstance(decoder, lstm_models.HierarchicalLstmDecoder):
        decoder = decoder._core_decoder  # pylint: disable=protected-access
        prefix = "hierarchical/"
    else:
        prefix = ""
    if isinstance(decoder, lstm_models.SplitMultiOutLstmDecoder):
        return prefix + "split_multi_out_categorical"
    if isinstance(decoder, lstm_models.GrooveLstmDecoder):
        return prefix + "groove"
    return prefix + "categorical"


def output_depths(config) -> list[int]:
    decoder = config.model.decoder
    core = getattr(decoder, "_core_decoder", decoder)
    depths = getattr(core, "_output_depths", None)
    return list(depths) if depths else [config.data_converter.output_depth]


def _capture_calls(decoder, sink: list, pick):
    """Wrap `decoder.reconstruction_loss` (this instance only) to append pick(args, result)."""
    original = decoder.reconstruction_loss

    def reconstruction_loss(x_input, x_target, x_length, z=None, c_input=None):
        result = original(x_input, x_target, x_length, z, c_input)
        sink.append(pick(z, result))
        return result

    decoder.reconstruction_loss = reconstruction_loss


def teacher_forced(config, ckpt_dir: str, outputs, lengths, z, seed: int) -> dict:
    """magenta's decoder under teacher forcing: `decoder.reconstruction_loss` on the targets
    `outputs` (decoder inputs: the targets shifted right by one step with a zero first step,
    as MusicVAE._compute_model_loss makes them) with latent codes `z`.

    The graph is the inference graph (is_training=False) with the sampling schedule set to
    constant 0 (a config with scheduled sampling would otherwise feed its own samples back),
    restored from the fixture checkpoint.  The logits are the decoder's
    `LstmDecodeResults.rnn_output`.  Hierarchical decoders also give the embedding the
    conductor passes to the core decoder for each segment (the `z` argument of the core
    decoder's reconstruction_loss, captured on the way).  Under a hierarchical decoder,
    SplitMultiOutLstmDecoder's merged results assert a sequence length of max_seq_len (256)
    while each segment has 16 steps, so they cannot be evaluated (magenta's training never
    evaluates them); there the rnn_output of each part decoder is captured per segment and
    concatenated (parts along depth, segments along time).
    """
    config = copy.deepcopy(config)
    batch_size, length, depth = outputs.shape
    config.hparams.batch_size = batch_size
    config.hparams.sampling_schedule = "constant"
    config.hparams.sampling_rate = 0.0
    model = config.model
    decoder = model.decoder
    embeddings, part_outputs = [], []
    core = getattr(decoder, "_core_decoder", None)
    if isinstance(decoder, lstm_models.HierarchicalLstmDecoder):
        _capture_calls(core, embeddings, lambda z, result: z)
    parts = getattr(core, "_core_decoders", None)
    for part in parts or []:
        _capture_calls(part, part_outputs, lambda z, result: result[2].rnn_output)
    graph = tf.Graph()
    with deterministic_graphs(seed), graph.as_default():
        model.build(config.hparams, depth, is_training=False)
        x_target = tf.placeholder(tf.float32, [batch_size, length, depth])
        x_length = tf.placeholder(tf.int32, [batch_size])
        z_input = tf.placeholder(tf.float32, [batch_size, config.hparams.z_size])
        x_input = tf.pad(x_target[:, : length - 1], [(0, 0), (1, 0), (0, 0)])
        r_loss, _, results = decoder.reconstruction_loss(x_input, x_target, x_length, z_input)
        if parts:
            n = len(parts)
            segments = [
                tf.concat(part_outputs[k : k + n], axis=-1) for k in range(0, len(part_outputs), n)
            ]
            logits = tf.concat(segments, axis=1)
        else:
            logits = results.rnn_output
        fetch = {"logits": logits, "r_loss": r_loss}
        if embeddings:
            fetch["conductor_embeddings"] = tf.stack(embeddings, axis=1)
        if isinstance(decoder, lstm_models.GrooveLstmDecoder):
            flat = tf.reshape(logits, [-1, depth])
            hits, velocities, offsets = decoder._activate_outputs(flat)  # pylint: disable=protected-access
            for key, t in (("hits", hits), ("velocities", velocities), ("offsets", offsets)):
                fetch[key] = tf.reshape(t, [batch_size, length, depth // 3])
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, tf.train.latest_checkpoint(ckpt_dir))
            values = sess.run(fetch, {x_target: outputs, x_length: lengths, z_input: z})
    return {k: np.asarray(v, np.float32) for k, v in values.items()}


def encoder_outputs(config, ckpt_dir: str, inputs, lengths, seed: int) -> dict:
    """magenta's MusicVAE.encode on `inputs`: mu, sigma and, captured on the way, what the
    encoder hands to the mu and sigma layers (BidirectionalLstmEncoder.encode: the final h
    of the last forward and backward layers, concatenated).  With a posterior near collapse
    mu is mostly the dense layer's bias; this output shows the LSTM stack's own numbers."""
    config = copy.deepcopy(config)
    model = config.model
    converter = config.data_converter
    captured = []
    encode = model.encoder.encode

    def capture(sequence, sequence_length):
        captured.append(encode(sequence, sequence_length))
        return captured[-1]

    model.encoder.encode = capture
    graph = tf.Graph()
    with deterministic_graphs(seed), graph.as_default():
        model.build(config.hparams, converter.output_depth, is_training=False)
        x = tf.placeholder(tf.float32, inputs.shape)
        x_length = tf.placeholder(tf.int32, [len(lengths)])
        q_z = model.encode(x, x_length)
        fetch = {"encoder_output": captured[0], "mu": q_z.loc, "sigma": q_z.scale.diag}
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, tf.train.latest_checkpoint(ckpt_dir))
            values = sess.run(fetch, {x: inputs, x_length: lengths})
    return {k: np.asarray(v, np.float32) for k, v in values.items()}


def sample_ids(samples, depths: list[int]) -> np.ndarray:
    """Categorical samples (one-hot per output part) as class indices [batch, time, parts]."""
    parts = np.split(np.asarray(samples), np.cumsum(depths)[:-1], axis=-1)
    return np.stack([p.argmax(-1) for p in parts], axis=-1).astype(np.int16)


def logit_margin(logits, depths: list[int], groove: bool) -> float:
    """The smallest gap a greedy decode relied on: top-1 minus top-2 logit per part and step
    (GrooVAE: |hit logit|, the distance from the Bernoulli's 0.5)."""
    logits = np.asarray(logits, np.float64)
    if groove:
        return float(np.abs(logits[..., : logits.shape[-1] // 3]).min())
    gaps = []
    for part in np.split(logits, np.cumsum(depths)[:-1], axis=-1):
        top = np.sort(part, axis=-1)
        gaps.append((top[..., -1] - top[..., -2]).min())
    return float(min(gaps))


def stack_notes(sequences) -> np.ndarray:
    """Notes of several NoteSequences, each row led by the sequence's index."""
    return np.concatenate(
        [np.zeros((0, 1 + len(NOTE_COLUMNS)))]
        + [
            np.column_stack([np.full(len(ns.notes), i, np.float64), notes_array(ns)])
            for i, ns in enumerate(sequences)
        ]
    )


def model_references(config, ckpt_dir: str, sources, spec: dict, seed: int, gpl: bool):
    """Encoder, teacher-forced decoder, greedy decodes and an interpolation, by magenta."""
    converter = config.data_converter
    picks = pick_examples(sources, spec["examples"])
    inputs = [sources[s]["inputs"][j].astype(np.float32) for s, j in picks]
    outputs = np.stack([sources[s]["outputs"][j] for s, j in picks]).astype(np.float32)
    lengths = [sources[s]["lengths"][j] for s, j in picks]
    controls = [sources[s]["controls"][j] for s, j in picks]
    n_random = spec["random_z"]
    batch = len(picks) + n_random
    z_size = config.hparams.z_size
    length = config.hparams.max_seq_len
    depths = output_depths(config)
    kind = decoder_kind(config)
    groove = kind.endswith("groove")
    split_parts = kind == "hierarchical/split_multi_out_categorical"

    with deterministic_graphs(seed):
        model = TrainedModel(config, batch_size=batch, checkpoint_dir_or_path=ckpt_dir)
    _, mu, sigma = model.encode_tensors(list(inputs), list(lengths), list(controls))
    encoded = encoder_outputs(config, ckpt_dir, np.stack(inputs), np.asarray(lengths), seed)
    encode_check = float(
        max(np.abs(encoded["mu"] - mu).max(), np.abs(encoded["sigma"] - sigma).max())
    )
    random_z = np.random.RandomState(seed).randn(n_random, z_size).astype(np.float32)
    z = np.concatenate([mu, random_z]).astype(np.float32)
    target_index = np.array([i % len(picks) for i in range(batch)], np.int32)

    # Greedy decodes.  Under the hierarchical trio decoder the full decode results cannot be
    # evaluated (see teacher_forced), so there only the samples are taken.
    if split_parts:
        decode_samples = np.asarray(
            model.decode_to_tensors(z, length=length, temperature=DECODE_TEMPERATURE)
        )
        decode_logits = None
    else:
        full = model.decode_to_tensors(
            z, length=length, temperature=DECODE_TEMPERATURE, return_full_results=True
        )
        decode_logits, decode_samples = np.asarray(full[1], np.float32), np.asarray(full[2])
    # What TrainedModel.decode returns: from_tensors of the samples.  A second draw by
    # decode itself gives the same notes unless a hit logit or top-2 gap is below ~1e-4.
    decoded = converter.from_tensors(decode_samples)
    redrawn = model.decode(z, length=length, temperature=DECODE_TEMPERATURE)
    same_redraw = [notes_digest(a) for a in decoded] == [notes_digest(b) for b in redrawn]

    # Teacher forcing, in one batch: the examples' targets, then the decoded samples (which
    # gives the free-running decoder's logits again: it fed back exactly those samples).
    forced = teacher_forced(
        config,
        ckpt_dir,
        np.concatenate([outputs[target_index], decode_samples.astype(np.float32)]),
        np.concatenate([np.asarray(lengths, np.int32)[target_index], np.full(batch, length)]),
        np.concatenate([z, z]),
        seed,
    )
    resampled = forced["logits"][batch:]
    forced = {k: v[:batch] for k, v in forced.items()}
    if decode_logits is None:
        decode_logits = resampled
        decode_check = "decode logits not available (trio); margin from teacher forcing on samples"
    else:
        decode_check = float(np.abs(resampled - decode_logits).max())

    captured = {}
    decode_to_tensors = model.decode_to_tensors

    def capture(z, *args, **kwargs):
        captured["z"] = np.array(z)
        captured["samples"] = decode_to_tensors(z, *args, **kwargs)
        return captured["samples"]

    model.decode_to_tensors = capture
    pair = (0, 1)
    ends = [converter.from_tensors([outputs[i]])[0] for i in pair]
    interpolated = model.interpolate(
        ends[0], ends[1], INTERPOLATION_STEPS, length=length, temperature=DECODE_TEMPERATURE
    )
    model.decode_to_tensors = decode_to_tensors
    _, end_mu, _ = model.encode(ends)
    # _slerp divides by sin(angle between the mus): parallel mus (cosine 1.0 in float32, as
    # the hierarchical fixtures' collapsed posteriors give) make every code NaN.
    interpolated_ok = not np.isnan(captured["z"]).any()

    arrays = {
        "mu": mu.astype(np.float32),
        "sigma": sigma.astype(np.float32),
        "z": z,
        "tf_target_index": target_index,
        "tf_logits": forced["logits"],
        "tf_r_loss": forced["r_loss"],
        "encoder_output": encoded["encoder_output"],
        "decode_notes": stack_notes(decoded),
        "interp_endpoint_mu": end_mu.astype(np.float32),
    }
    if interpolated_ok:
        arrays["interp_z"] = captured["z"]
        arrays["interp_notes"] = stack_notes(interpolated)
    if not gpl:
        arrays["example_inputs"] = np.stack(inputs).astype(np.bool_)
        arrays["example_outputs"] = outputs.astype(np.bool_)
        arrays["example_lengths"] = np.asarray(lengths, np.int32)
    if "conductor_embeddings" in forced:
        arrays["tf_conductor_embeddings"] = forced["conductor_embeddings"]
    if groove:
        for key in ("hits", "velocities", "offsets"):
            arrays[f"tf_{key}"] = forced[key]
        arrays["decode_samples"] = decode_samples.astype(np.float32)
        if interpolated_ok:
            arrays["interp_samples"] = np.asarray(captured["samples"], np.float32)
    else:
        arrays["decode_sample_ids"] = sample_ids(decode_samples, depths)
        if interpolated_ok:
            arrays["interp_sample_ids"] = sample_ids(captured["samples"], depths)
    if not split_parts:  # trio: 0.7 MB a sequence
        arrays["decode_logits"] = decode_logits
    meta = {
        "examples": [{"source": s, "tensor": j} for s, j in picks],
        "batch_size": batch,
        "decoder_kind": kind,
        "output_depths": depths,
        "decode_min_margin": logit_margin(decode_logits, depths, groove),
        "decode_redraw_same_notes": same_redraw,
        "decode_logits_vs_teacher_forcing_on_samples_max_abs_diff": decode_check,
        "encode_graph_vs_trained_model_max_abs_diff": encode_check,
        "interp_endpoints": list(pair),
        "interp_endpoint_cosine": float(
            np.dot(end_mu[0] / np.linalg.norm(end_mu[0]), end_mu[1] / np.linalg.norm(end_mu[1]))
        ),
        "interpolation": "stored (interp_z, samples, notes)"
        if interpolated_ok
        else "not stored: the endpoint mus are parallel to float32 precision (the encoder of "
        "this briefly trained model barely depends on its input), so TrainedModel.interpolate's "
        "_slerp divides 0 by sin(0) and decodes NaN codes; a port should not copy that",
        "interp_endpoint_tensors": [tensor_digest(converter.to_tensors(e).inputs[0]) for e in ends],
    }
    model._sess.close()  # pylint: disable=protected-access
    return arrays, meta


def smoke_test(config, ckpt_dir: str, npz_path: str, sources, spec: dict, seed: int) -> dict:
    """Load the written checkpoint in a fresh TrainedModel and the npz without pickle; encode
    the examples again and compare mu with the stored one."""
    with np.load(npz_path, allow_pickle=False) as ref:
        stored = {k: ref[k] for k in ref.files}
    picks = pick_examples(sources, spec["examples"])
    with deterministic_graphs(seed):
        model = TrainedModel(config, batch_size=len(picks), checkpoint_dir_or_path=ckpt_dir)
    _, mu, _ = model.encode_tensors(
        [sources[s]["inputs"][j].astype(np.float32) for s, j in picks],
        [sources[s]["lengths"][j] for s, j in picks],
        [sources[s]["controls"][j] for s, j in picks],
    )
    model._sess.close()  # pylint: disable=protected-access
    diff = float(np.abs(mu - stored["mu"]).max())
    if diff > 1e-6:
        raise RuntimeError(f"reloaded checkpoint encodes differently: {diff}")
    return {"arrays": len(stored), "reloaded_mu_max_abs_diff": diff}


# --------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------


def describe_model(config) -> dict:
    """Encoder, decoder and converter classes and the facts a port needs."""
    model, converter = config.model, config.data_converter
    decoder = model.decoder
    out = {
        "encoder": type(model.encoder).__name__,
        "decoder": type(decoder).__name__,
        "converter": type(converter).__name__,
        "input_depth": int(converter.input_depth),
        "output_depth": int(converter.output_depth),
        "control_depth": int(converter.control_depth),
        "end_token": converter.end_token,
        "length_shape": list(converter.length_shape),
        "max_tensors_per_notesequence": converter.max_tensors_per_notesequence,
        "output_depths": output_depths(config),
    }
    if isinstance(decoder, lstm_models.HierarchicalLstmDecoder):
        core = decoder._core_decoder  # pylint: disable=protected-access
        out["hierarchical"] = {
            "level_lengths": list(decoder._level_lengths),  # pylint: disable=protected-access
            "disable_autoregression": list(decoder._disable_autoregression),  # pylint: disable=protected-access
            "core_decoder": type(core).__name__,
            "core_decoders": [
                type(c).__name__
                for c in getattr(core, "_core_decoders", [])  # pylint: disable=protected-access
            ],
        }
    settings = {}
    for key, value in sorted(vars(converter).items()):
        if isinstance(value, (bool, int, float, str, type(None))):
            settings[key.lstrip("_")] = value
        elif isinstance(value, (list, tuple, range)) and all(
            isinstance(v, (int, list, tuple)) for v in value
        ):
            settings[key.lstrip("_")] = [list(v) if isinstance(v, tuple) else v for v in value]
    out["converter_settings"] = settings
    return out


def port_notes(config) -> list[str]:
    """What magenta's graph does that a port must do the same way (read from its code)."""
    kind = decoder_kind(config)
    notes = [
        "LSTM cells are contrib LSTMBlockCell: kernel [input + hidden, 4 * hidden], gates in "
        "the order i, j (cell input), f, o; forget_bias 1.0 added to f; no peepholes, no clip",
        "encoder: stacked bidirectional LSTM (layer k reads the concatenated fw and bw outputs "
        "of layer k-1; bw runs over the valid length only); its output is concat(final h of "
        "the last fw layer, final h of the last bw layer); mu = dense, sigma = softplus(dense)",
        "decoder: initial state = tanh(dense(z)) split in MultiRNNCell state order "
        "(c0, h0, c1, h1, ...); step t reads concat(previous target or sample (zeros at t=0), "
        "z); output_projection gives the logits",
    ]
    if kind.startswith("hierarchical"):
        notes.append(
            "conductor (decoder/hierarchical_level_0): 16 steps whose input is zeros [batch, 1] "
            "(disable_autoregression); initial state tanh(dense(z)); its h is the core "
            "decoder's z for that segment (16 steps). A segment's first input is the previous "
            "segment's last target (teacher forcing) or sample (decoding); zeros only for "
            "segment 0"
        )
    if kind.endswith("split_multi_out_categorical"):
        notes.append(
            "SplitMultiOutLstmDecoder: three independent core decoders (scopes "
            "core_decoder/core_decoder_{0,1,2}: melody 90, bass 90, drums 512), each with its "
            "own LSTM, z_to_initial_state and output_projection, each reading only its own "
            "part's previous output and the conductor embedding"
        )
    if kind.endswith("groove"):
        notes.append(
            "GrooveLstmDecoder: 27 outputs = 9 hit logits, 9 velocity logits, 9 offset "
            "logits; hits sigmoid, velocities sigmoid, offsets tanh; sampling draws hits "
            "Bernoulli(logits / temperature) and feeds back [hits, sigmoid velocities, tanh "
            "offsets]"
        )
    return notes


def full_size_variables(name: str, path: str) -> None:
    config = fixture_config(name, None)
    _, variables = build_inference_graph(config, batch_size=1)
    shapes = variable_shapes(variables)
    fixture_common.write_json(
        path,
        {
            "config": name,
            "hparams": configs.CONFIG_MAP[name].hparams.values(),
            "how": "magenta's inference graph at the config's own sizes, as TrainedModel "
            "builds it (model.build(is_training=False), sample and encode on placeholders), "
            "without training or saving; the variables TrainedModel restores",
            "variables": shapes,
            "parameters": int(sum(np.prod(s) for n, s in shapes.items() if n != "global_step")),
            "training_checkpoint_extra": "a checkpoint saved by music_vae_train also holds "
            "`<name>/Adam` and `<name>/Adam_1` (same shape) for every variable here but "
            "global_step, and scalars beta1_power, beta2_power (checked on the small "
            "checkpoint); TrainedModel ignores them",
        },
    )


def array_record(arrays: dict) -> dict:
    return {k: {"shape": list(v.shape), "dtype": v.dtype.name} for k, v in sorted(arrays.items())}


ARRAY_NOTES = {
    "src<i>_*": "converter references (folk only): the excerpt's notes (columns NOTE_COLUMNS), "
    "data_converter.to_tensors(excerpt) inputs/outputs/controls/lengths in magenta's order, and "
    "from_tensors of each output tensor (first column: the tensor's index)",
    "example_inputs/outputs/lengths": "(folk only) the tensors encoded, `examples` in the JSON",
    "mu, sigma": "TrainedModel.encode_tensors(example inputs, lengths, controls): q(z|x)'s loc "
    "and scale_diag (softplus); float32",
    "encoder_output": "what the encoder gives the mu and sigma layers for those inputs: "
    "concat(final h of the last forward layer, final h of the last backward layer), captured "
    "from BidirectionalLstmEncoder.encode in MusicVAE.encode's graph",
    "z": "latent codes decoded: mu, then `random_z` codes numpy RandomState(seed).randn",
    "tf_target_index": "z[b] is teacher-forced on the outputs of example tf_target_index[b]",
    "tf_logits": "teacher-forced decoder outputs: LstmDecodeResults.rnn_output of magenta's "
    "decoder.reconstruction_loss (logits before softmax/sigmoid; for split outputs the parts "
    "concatenated in output_depths order; softmax each part to compare probabilities)",
    "tf_r_loss": "reconstruction_loss's per-sequence loss (summed over steps, over parts)",
    "tf_conductor_embeddings": "hierarchical: the conductor's output for segment k (h of its "
    "last layer), passed as `z` to the core decoder(s): initial state through "
    "z_to_initial_state (dense, tanh) and concatenated to every step's input",
    "tf_hits, tf_velocities, tf_offsets": "GrooVAE: GrooveLstmDecoder._activate_outputs of "
    "tf_logits: sigmoid(hit logits), sigmoid(velocity logits), tanh(offset logits)",
    "decode_logits": "TrainedModel.decode_to_tensors(z, length=max_seq_len, temperature=1e-5, "
    "return_full_results=True).rnn_output: the free-running decoder's logits (not for trio)",
    "decode_sample_ids / decode_samples": "its samples: class index per output part "
    "(categorical) or the [hits, velocities, offsets] vectors fed back (GrooVAE)",
    "decode_notes": "from_tensors of those samples, as TrainedModel.decode(z, length, "
    "temperature=1e-5) returns them; first column the z index",
    "interp_*": "(see model_reference.interpolation) "
    "TrainedModel.interpolate(a, b, 5 steps, temperature=1e-5) where a, b = "
    "from_tensors(outputs of examples 0 and 1): interp_endpoint_mu = encode([a, b]) mu, "
    "interp_z = the slerp path on those mus it decodes (float64, as numpy computes it), its "
    "samples and notes",
}


def make_config(name: str, spec: dict, args, sources_by_kind: dict) -> dict:
    t0 = time.time()
    plog = fixture_common.prefixed(log, name)
    out_dir = os.path.join(args.out, name)
    os.makedirs(out_dir, exist_ok=True)
    config = fixture_config(name, spec["hparams"])
    source = sources_by_kind[spec["data"]]
    steps = args.steps or spec["steps"]
    random.seed(args.seed)
    np.random.seed(args.seed)

    with fixture_common.work_dir(args.work and os.path.join(args.work, name), "mvae_") as work:
        tensors = training_tensors(
            config,
            source,
            args.seed,
            min(steps * config.hparams.batch_size, spec.get("training_tensors", TRAINING_TENSORS)),
        )
        plog(
            f"{len(tensors['lengths'])} training tensors {tensors['outputs'].shape[1:]} from "
            f"{tensors['sequences_used']} sequences"
        )
        trained = train(config, tensors, os.path.join(work, "train"), steps, args.seed)
        ckpt_dir = os.path.join(out_dir, "checkpoint")
        checkpoint = save_inference_checkpoint(config, trained, ckpt_dir)
    plog(f"checkpoint {checkpoint['files']} ({checkpoint['parameters']} parameters)")

    sources, conv_arrays = converter_references(config, source, spec)
    model_arrays, model_meta = model_references(
        config, ckpt_dir, sources, spec, args.seed, source.gpl
    )
    arrays = {**conv_arrays, **model_arrays}
    npz_path = os.path.join(out_dir, "reference.npz")
    np.savez_compressed(npz_path, **arrays)
    smoke = smoke_test(config, ckpt_dir, npz_path, sources, spec, args.seed)
    plog(f"reference written; min greedy margin {model_meta['decode_min_margin']:.4f}; {smoke}")

    full_size_variables(name, os.path.join(out_dir, "full_size_variables.json"))
    doc = {
        "config": name,
        "description": "Magenta Bridge parity fixture: magenta's own MusicVAE code at smaller "
        "layer sizes, a few dozen training steps. Not a useful model.",
        "model": describe_model(config),
        "port_notes": port_notes(config),
        "hparams_override": spec["hparams"],
        "hparams_override_how": "config.hparams.parse(override), as music_vae_train --hparams",
        "hparams_full_size": configs.CONFIG_MAP[name].hparams.values(),
        "hparams_fixture": config.hparams.values(),
        "versions": magenta_runtime.versions(),
        "seed": args.seed,
        "training": {
            "steps": trained["global_step"],
            "batch_size": config.hparams.batch_size,
            "seconds": trained["seconds"],
            "loss_by_step": trained["loss_by_step"],
            "loop": "magenta.models.music_vae.music_vae_train.train (MusicVAE.train: Adam, "
            "learning-rate decay, KL with free bits and beta annealing; global-norm clipping; "
            "tf_slim.training.train)",
            "deviations": "tensors converted once in Python, served in epochs of "
            f"numpy RandomState({args.seed}) permutations by tf.data.Dataset.from_generator "
            "(batched, drop_remainder) instead of data.get_dataset; graph seed "
            f"{args.seed}; RNN while loops with parallel_iterations=1; summaries every "
            f"{max(1, steps // 8)} steps",
            "data": {
                **source.record(),
                "split": "train",
                "order": f"file list shuffled by random.Random({args.seed})",
                "converter_mode": "train (random sampling of max_tensors_per_notesequence, "
                "numpy seeded)",
                "augmenter": repr(vars(config.note_sequence_augmenter))
                if config.note_sequence_augmenter
                else None,
                "sequences_used": tensors["sequences_used"],
                "tensors": len(tensors["lengths"]),
                "tensor_shape": list(tensors["outputs"].shape[1:]),
                "pitch_filter": (
                    "notes whose pitch is not in GrooveConverter.pitch_class_map (train mode: "
                    "ROLAND_DRUM_PITCH_CLASSES) removed before to_tensors, which raises KeyError "
                    f"on them: {tensors['notes_dropped_by_pitch_filter']} notes"
                )
                if pitch_filter(config.data_converter)
                else None,
            },
        },
        "checkpoint": checkpoint,
        "converter_reference": {
            "mode": "infer (what TrainedModel sets)",
            "split": "test (held out)",
            "sources": [
                {k: v for k, v in s.items() if k not in ("inputs", "outputs", "controls")}
                for s in sources
            ],
            "stored": "digests only (GPL-derived): rebuild each source from its recipe"
            if source.gpl
            else "excerpt notes and tensors in reference.npz (src<i>_*)",
            "rebuild": (
                "MIDI bytes as recipe.render says -> note_seq.midi_to_note_sequence"
                if source.gpl
                else "the MIDI file recipe.file under data/folk_midi -> "
                "note_seq.midi_file_to_note_sequence (or the stored src<i>_notes with "
                "sequences[i]'s tempo, time signature and total_time)"
            )
            + "; with recipe.excerpt_bars, note_seq.extract_subsequence(ns, 0, excerpt_bars * "
            "seconds per bar) (one tempo, one time signature); then data_converter.to_tensors"
            + (
                "; GrooVAE sources hold only pitches in the converter's infer-mode classes "
                "(REDUCED_DRUM_PITCH_CLASSES), as GrooveConverter raises KeyError on others"
                if pitch_filter(config.data_converter)
                else ""
            ),
            "tensor_digest": TENSOR_DIGEST,
            "notes_digest": NOTES_DIGEST,
            "note_columns": NOTE_COLUMNS,
            "order": "the converter's order. OneHotMelodyConverter and DrumsConverter dedupe "
            "slices through a Python set, so their order is CPython's set order: compare as "
            "multisets. TrioConverter and GrooveConverter keep a fixed order (instrument "
            "product then windows; windows in time).",
        },
        "model_reference": {
            **model_meta,
            "random_z": spec["random_z"],
            "decode_temperature": DECODE_TEMPERATURE,
            "interpolation_steps": INTERPOLATION_STEPS,
            "arrays": array_record(arrays),
            "array_notes": ARRAY_NOTES,
            "tolerance": "float32 TensorFlow CPU numbers: a port should match mu, sigma, "
            "logits, activations and conductor embeddings within 1e-4 absolute; greedy decodes "
            "exactly where decode_min_margin (the smallest top-1/top-2 logit gap, or |hit "
            "logit|) is well above that",
        },
        "smoke_test": smoke,
        "sizes_bytes": {
            "checkpoint": sum(checkpoint["files"].values()),
            "reference.npz": os.path.getsize(npz_path),
        },
        "seconds": round(time.time() - t0, 1),
    }
    fixture_common.write_json(os.path.join(out_dir, "reference.json"), doc)
    plog(f"done in {doc['seconds']}s: {doc['sizes_bytes']}")
    return doc


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument(
        "--steps", type=int, default=None, help="training steps (default: each config's own)"
    )
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--folk", default=DEFAULT_FOLK, help="export_folk_corpus.py output")
    parser.add_argument("--mma", default=DEFAULT_MMA, help="export_mma_grooves.py output")
    parser.add_argument("--work", default=None, help="scratch dir (default: a temp dir, removed)")
    args = parser.parse_args(argv)
    names = [c.strip() for c in args.configs.split(",") if c.strip()]
    for name in names:
        if name not in CONFIGS:
            parser.error(f"unknown config {name} (known: {', '.join(CONFIGS)})")
    kinds = {CONFIGS[n]["data"] for n in names}
    sources = {}
    if "folk" in kinds:
        sources["folk"] = FolkTunes(args.folk)
    if "mma_drums" in kinds:
        sources["mma_drums"] = MmaGrooves(args.mma, trio=False)
    if "mma_trio" in kinds:
        sources["mma_trio"] = MmaGrooves(args.mma, trio=True)
    started = time.time()
    for name in names:
        make_config(name, CONFIGS[name], args, sources)
    log(f"all done in {time.time() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
