#!/usr/bin/env python
"""Make the Coconet parity fixtures with Google's own `magenta` 2.1.4 code.

Run with the reference virtualenv's python (see setup_magenta_env.sh)::

    .venv-magenta/bin/python models/reference/make_coconet_fixtures.py \
        [--configs straight-8-32,...] [--out tests/fixtures/coconet] [--work DIR]

For each config of CONFIGS:

1. Data.  Bach chorales of the music21 corpus with exactly four parts (sorted corpus paths),
   written to MIDI by music21, read by ``note_seq.midi_to_note_sequence`` and quantized at
   4 steps per quarter; each part becomes a column of MIDI pitches per 16th (NaN where it
   rests), soprano first, which is what ``lib_data``'s ``Jsb16thSeparated`` dataset holds.
   Chorales are cut into windows of WINDOW steps (every WINDOW / 2 steps) so that every fold
   of ``Jsb16thSeparated.npz`` is a plain float array (no pickled object arrays);
   ``lib_data`` crops them to ``crop_piece_len`` as it crops whole chorales.  Training and
   validation windows come from the first chorales, the reference inputs from chorales at
   the end of the list, never trained on.
2. Training.  magenta's own ``coconet_train.main`` (its flags, ``lib_data``, ``lib_graph``,
   Adam, the batch-norm population statistics and the ``Tracker`` that saves
   ``best_model.ckpt`` after each validation that improves) for a few epochs.  The graph
   seed and numpy's seed are set first (and the two runtime patches below apply).
3. Checkpoint.  The folder is written as Google's ``coconet-64layers-128filters`` is laid
   out: ``config`` (the YAML ``coconet_train`` dumped), ``checkpoint`` (naming
   ``best_model.ckpt``) and the V2 files ``best_model.ckpt.index`` and
   ``best_model.ckpt.data-00000-of-00001``.  A config with ``slim`` set is saved again from
   the graph ``lib_graph.load_checkpoint`` builds (only the inference variables: no Adam
   slots, learning rate or step); the others keep ``best_model.ckpt`` exactly as the
   Tracker wrote it, optimizer state included.
4. References.  ``lib_graph.load_checkpoint`` on that folder (magenta's own loader) and its
   ``predictions`` (softmax over pitch per instrument and time) for given piano rolls and
   masks: held-out chorale windows (not stored: the corpus is for non-commercial use; the
   JSON holds the recipe and a SHA-256 of the pitches) under orderless, harmonization and
   Bernoulli masks, and seeded random rolls (stored) under random masks, at two lengths.
   For the configs with ``gibbs`` set, magenta's numpy sampler ``lib_sampling.GibbsSampler``
   (BernoulliMasker, IndependentSampler, YaoSchedule) is run from ``np.random.seed(seed)``
   on a stored random melody with the harmonization mask; its result is stored so the
   native sampler can replay the same uniforms and must land on the same piano roll.

The official shape (``straight-64-128``: 64 layers of 128 filters) is 9.1 M parameters,
36 MB in float32 however few steps it is trained for (32 MB gzipped: trained weights do not
compress), so its checkpoint folder goes to ``--weights-out`` (default ``data/coconet``,
git-ignored) and only its references are committed; tests/models/coconet runs its parity
check when that folder (or ``$COCONET_FULL_CHECKPOINT``) is there.

Two runtime patches, in this script: lib_util.batches calls ``int()`` on a 1-element array,
which numpy 2.4 refuses (``_NumpyForLibUtil``), and TensorFlow's CPU Conv2D kernel refuses
the dilated architecture's dilations (``magenta_runtime.patch_coconet_dilated_conv``).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import magenta_runtime

tf = magenta_runtime.setup(verbose=bool(os.environ.get("MAGENTA_VERBOSE")))

import numpy as np
import note_seq
from magenta.models.coconet import coconet_train
from magenta.models.coconet import lib_graph
from magenta.models.coconet import lib_logging
from magenta.models.coconet import lib_mask
from magenta.models.coconet import lib_sampling
from magenta.models.coconet import lib_util

import fixture_common
from fixture_common import REPO, chorale_paths

DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "coconet")
DEFAULT_WEIGHTS_OUT = os.path.join(REPO, "data", "coconet")  # git-ignored
DATASET = "Jsb16thSeparated"  # lib_data's key: pitches 36-81, 4 voices, 16ths
MIN_PITCH, MAX_PITCH, VOICES = 36, 81, 4
WINDOW = 64  # steps per training window (4 bars of 4/4)
STEPS_PER_QUARTER = 4
CHECKPOINT_PREFIX = "best_model.ckpt"  # what lib_graph.load_checkpoint restores
PITCH_HASH = (
    "sha256 of ASCII text: the window's pitches (time-major, soprano to bass per step), "
    "each written as an integer or 'nan', comma-separated"
)

# flags: coconet_train's own flags (anything else keeps coconet_train's default, e.g.
#   mask_indicates_context=True, maskout_method=orderless, corrupt_ratio=0.5).
# epochs / train_windows / valid_windows: how much magenta trains (steps per epoch are
#   train_windows // batch_size); eval_freq 1 validates, and may save, after every epoch.
# slim: save only the inference graph's variables (see 3. above).
# gibbs: also record magenta's numpy Gibbs sampler (see 4. above).
CONFIGS = {
    "straight-64-128": dict(
        flags=dict(num_layers=64, num_filters=128, batch_size=4, crop_piece_len=32),
        epochs=4,
        train_windows=32,
        valid_windows=8,
        slim=True,
        gibbs=False,
    ),
    "straight-64-16": dict(
        flags=dict(num_layers=64, num_filters=16, batch_size=8, crop_piece_len=64),
        epochs=5,
        train_windows=64,
        valid_windows=16,
        slim=True,
        gibbs=True,
    ),
    "straight-8-32": dict(
        flags=dict(
            num_layers=8,
            num_filters=32,
            batch_size=8,
            crop_piece_len=64,
            mask_indicates_context=False,
        ),
        epochs=5,
        train_windows=64,
        valid_windows=16,
        slim=False,
        gibbs=True,
    ),
    "dilated-9-16": dict(
        flags=dict(
            architecture="dilated",
            num_dilation_blocks=1,
            num_filters=16,
            batch_size=8,
            crop_piece_len=32,
        ),
        epochs=5,
        train_windows=64,
        valid_windows=16,
        slim=True,
        gibbs=False,
    ),
    "sepconv-6-16": dict(
        flags=dict(
            num_layers=6,
            num_filters=16,
            use_sep_conv=True,
            sep_conv_depth_multiplier=2,
            batch_size=8,
            crop_piece_len=32,
        ),
        epochs=5,
        train_windows=64,
        valid_windows=16,
        slim=True,
        gibbs=False,
    ),
}
REFERENCE_LENGTHS = (32, 48)  # time steps of the reference rolls (any length convolves)
REFERENCE_BATCH = 2
# (rolls, length, mask) of each reference: probs_<rolls>_<length>_<mask>.
REFERENCE_CASES = (
    ("chorale", 32, "orderless"),
    ("chorale", 32, "harmonization"),
    ("chorale", 32, "bernoulli"),
    ("random", 32, "orderless"),
    ("chorale", 48, "orderless"),
    ("random", 48, "all"),
    ("chorale", 48, "none"),
)
GIBBS_SHAPE = (2, 16)  # batch, time steps of the sampler replay
GIBBS_TEMPERATURE = 0.9

log = fixture_common.logger("coconet fixtures")


class _NumpyForLibUtil:
    """numpy as lib_util sees it, with one difference: `np.unique` of equal lengths is a
    0-d array. `lib_util.batches` does `int(np.unique(lengths))`, which numpy 2.4 refuses
    for a 1-element array ("only 0-dimensional arrays can be converted to Python scalars");
    magenta 2.1.4 pinned numpy 1.21."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def unique(values, *args, **kwargs):
        result = np.unique(values, *args, **kwargs)
        return result.reshape(()) if isinstance(result, np.ndarray) and result.size == 1 else result


lib_util.np = _NumpyForLibUtil()


magenta_runtime.patch_coconet_dilated_conv()


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def chorale_pitches(chorale: str) -> np.ndarray | None:
    """A four-part chorale as [steps, 4] MIDI pitches per 16th (NaN: rest), soprano first;
    None for a chorale with another number of parts, a part that overlaps itself or a pitch
    outside Jsb16thSeparated's range."""
    try:
        midi = fixture_common_chorale_midi(chorale)
        sequence = note_seq.midi_to_note_sequence(midi)
    except Exception:  # music21 rejects a few files
        return None
    quantized = note_seq.quantize_note_sequence(sequence, STEPS_PER_QUARTER)
    instruments = sorted({note.instrument for note in quantized.notes})
    if len(instruments) != VOICES:
        return None
    pitches = np.full((quantized.total_quantized_steps, VOICES), np.nan)
    for note in quantized.notes:
        span = slice(note.quantized_start_step, note.quantized_end_step)
        column = instruments.index(note.instrument)
        if not np.isnan(pitches[span, column]).all():
            return None
        pitches[span, column] = note.pitch
    if np.nanmin(pitches) < MIN_PITCH or np.nanmax(pitches) > MAX_PITCH:
        return None
    return pitches


def fixture_common_chorale_midi(chorale: str) -> bytes:
    """The chorale as MIDI bytes written by music21 (what tests/conftest.py's chorale_midi
    fixture gives the parity test)."""
    import music21

    score = music21.converter.parse(
        os.path.join(os.path.dirname(music21.__file__), "corpus", chorale)
    )
    return music21.midi.translate.music21ObjectToMidiFile(score).writestr()


def windows(pitches: np.ndarray, length: int) -> list[tuple[int, np.ndarray]]:
    """(start step, window) every length // 2 steps."""
    return [
        (start, pitches[start : start + length])
        for start in range(0, len(pitches) - length + 1, length // 2)
    ]


class Chorales:
    """The four-part chorales in corpus order, parsed on demand; training from the front,
    references from the back."""

    def __init__(self) -> None:
        self.paths = chorale_paths()
        self.cache: dict[str, np.ndarray | None] = {}
        self.used: list[str] = []

    def pitches(self, chorale: str) -> np.ndarray | None:
        if chorale not in self.cache:
            self.cache[chorale] = chorale_pitches(chorale)
        return self.cache[chorale]

    def folds(self, train: int, valid: int) -> dict[str, np.ndarray]:
        """`train` and `valid` windows of WINDOW steps from the front of the list."""
        wanted = {"train": train, "valid": valid, "test": valid}
        folds: dict[str, list[np.ndarray]] = {name: [] for name in wanted}
        order = iter(self.paths[: len(self.paths) // 2])
        for name, count in wanted.items():
            while len(folds[name]) < count:
                chorale = next(order)
                pitches = self.pitches(chorale)
                if pitches is None:
                    continue
                self.used.append(chorale)
                folds[name] += [w for _, w in windows(pitches, WINDOW)]
            folds[name] = folds[name][:count]
        return {name: np.stack(values) for name, values in folds.items()}

    def references(self, length: int, count: int, skip: int) -> list[dict]:
        """`count` windows of `length` steps from different chorales at the back of the list,
        each with at least one rest-free step; `skip` chorales from the end are passed over."""
        cases = []
        for chorale in self.paths[::-1][skip:]:
            pitches = self.pitches(chorale)
            if pitches is None or len(pitches) < 2 * length:
                continue
            start = length // 2
            window = pitches[start : start + length]
            cases.append({"chorale": chorale, "start_step": start, "pitches": window})
            if len(cases) == count:
                return cases
        raise RuntimeError("not enough held-out chorales")


def pitches_sha256(pitches: np.ndarray) -> str:
    text = ",".join("nan" if np.isnan(p) else str(int(p)) for p in pitches.reshape(-1))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def encode(pitches: np.ndarray) -> np.ndarray:
    """[steps, 4] pitches -> [steps, 46, 4] piano roll, as lib_pianoroll encodes a sequence."""
    roll = np.zeros((len(pitches), MAX_PITCH - MIN_PITCH + 1, VOICES), np.float32)
    steps, voices = np.nonzero(~np.isnan(pitches))
    roll[steps, pitches[steps, voices].astype(int) - MIN_PITCH, voices] = 1
    return roll


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------


def train(name: str, spec: dict, data_dir: str, work: str, seed: int) -> dict:
    """coconet_train.main with the config's flags; where it wrote, and the losses."""
    logdir = os.path.join(work, "train", name)
    shutil.rmtree(logdir, ignore_errors=True)
    flags = {
        "data_dir": data_dir,
        "logdir": logdir,
        "dataset": DATASET,
        "num_epochs": spec["epochs"],
        "eval_freq": 1,
        "save_model_secs": 100000,
        **spec["flags"],
    }
    argv = ["coconet_train"] + [f"--{key}={value}" for key, value in flags.items()]
    coconet_train.FLAGS.unparse_flags()
    coconet_train.FLAGS(argv)
    epochs: list[dict] = []
    run_epoch, build_graph = coconet_train.run_epoch, lib_graph.build_graph

    def recorded_epoch(*args):
        loss = run_epoch(*args)
        epochs.append({"fold": args[6], "epoch": args[7], "loss": float(loss)})
        return loss

    def seeded_build(*args, **kwargs):
        if tf.get_default_graph().seed is None:
            tf.set_random_seed(seed)
        return build_graph(*args, **kwargs)

    coconet_train.run_epoch, lib_graph.build_graph = recorded_epoch, seeded_build
    np.random.seed(seed)
    started = time.time()
    try:
        best = coconet_train.main(None)
    finally:
        coconet_train.run_epoch, lib_graph.build_graph = run_epoch, build_graph
    (folder,) = glob.glob(os.path.join(logdir, "*", "config"))
    batch = spec["flags"]["batch_size"]
    return {
        "folder": os.path.dirname(folder),
        "argv": argv[1:],
        "epochs": spec["epochs"],
        "steps": spec["epochs"] * (spec["train_windows"] // batch),
        "batch_size": batch,
        "seconds": round(time.time() - started, 1),
        "losses": epochs,
        "best_validation_loss": float(best),
    }


def load_checkpoint(folder: str):
    """magenta's lib_graph.load_checkpoint, in a graph of its own (it builds into the
    default graph, so a second call would find the variables already there)."""
    with tf.Graph().as_default():
        return lib_graph.load_checkpoint(folder)


def write_checkpoint(trained: dict, destination: str, slim: bool) -> dict:
    """The checkpoint folder as Google ships one; its variables (name -> shape)."""
    os.makedirs(destination, exist_ok=True)
    shutil.copyfile(os.path.join(trained["folder"], "config"), os.path.join(destination, "config"))
    if slim:
        wmodel = load_checkpoint(trained["folder"])
        with wmodel.graph.as_default():
            saver = tf.train.Saver()
            saver.save(
                wmodel.sess, os.path.join(destination, CHECKPOINT_PREFIX), write_meta_graph=False
            )
        wmodel.sess.close()
    else:
        for path in glob.glob(os.path.join(trained["folder"], CHECKPOINT_PREFIX + ".*")):
            if not path.endswith(".meta"):
                shutil.copyfile(path, os.path.join(destination, os.path.basename(path)))
    with open(os.path.join(destination, "checkpoint"), "w") as state:
        state.write(f'model_checkpoint_path: "{CHECKPOINT_PREFIX}"\n')
        state.write(f'all_model_checkpoint_paths: "{CHECKPOINT_PREFIX}"\n')
    reader = tf.train.load_checkpoint(os.path.join(destination, CHECKPOINT_PREFIX))
    return {name: list(shape) for name, shape in sorted(reader.get_variable_to_shape_map().items())}


# --------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------


def reference_mask(kind: str, shape: tuple[int, int, int]) -> np.ndarray:
    """A batch of masks: lib_mask's training masks (one draw per example), lib_sampling's
    harmonization mask, or nothing / everything masked."""
    batch_shape = (REFERENCE_BATCH, *shape)
    if kind in ("orderless", "bernoulli"):
        return np.stack(
            [
                lib_mask.get_mask(kind, shape, separate_instruments=True, blankout_ratio=0.5)
                for _ in range(REFERENCE_BATCH)
            ]
        ).astype(np.float32)
    if kind == "harmonization":
        return lib_sampling.HarmonizationMasker()(batch_shape)
    return np.full(batch_shape, 1.0 if kind == "all" else 0.0, np.float32)


def random_pitches(rng: np.random.RandomState, batch: int, length: int) -> np.ndarray:
    """Seeded random [batch, steps, 4] pitches in range, one in eight a rest."""
    pitches = rng.randint(MIN_PITCH, MAX_PITCH + 1, size=(batch, length, VOICES)).astype(float)
    pitches[rng.random_sample(pitches.shape) < 0.125] = np.nan
    return pitches


def predict(wmodel, rolls: np.ndarray, masks: np.ndarray) -> np.ndarray:
    model = wmodel.model
    feed = {model.pianorolls: rolls.astype(np.float32), model.masks: masks.astype(np.float32)}
    return wmodel.sess.run(model.predictions, feed).astype(np.float32)


def references(wmodel, chorales: Chorales, seed: int) -> tuple[dict, dict]:
    """magenta's predictions for held-out chorale windows and random rolls under masks."""
    arrays: dict[str, np.ndarray] = {}
    recipes: dict[str, list[dict]] = {}
    np.random.seed(seed)  # lib_mask draws from numpy's global generator
    rng = np.random.RandomState(seed)
    rolls: dict[str, np.ndarray] = {}
    for index, length in enumerate(REFERENCE_LENGTHS):
        found = chorales.references(length, REFERENCE_BATCH, skip=index * REFERENCE_BATCH)
        rolls[f"chorale_{length}"] = np.stack([encode(w["pitches"]) for w in found])
        recipes[f"chorale_{length}"] = [
            {
                "chorale": w["chorale"],
                "start_step": w["start_step"],
                "steps": length,
                "pitches_sha256": pitches_sha256(w["pitches"]),
            }
            for w in found
        ]
        random = random_pitches(rng, REFERENCE_BATCH, length)
        arrays[f"pitches_random_{length}"] = random
        rolls[f"random_{length}"] = np.stack([encode(p) for p in random])
    for source, length, kind in REFERENCE_CASES:
        key = f"{source}_{length}_{kind}"
        masks = reference_mask(kind, (length, MAX_PITCH - MIN_PITCH + 1, VOICES))
        arrays[f"masks_{key}"] = masks.astype(np.uint8)
        arrays[f"probs_{key}"] = predict(wmodel, rolls[f"{source}_{length}"], masks)
    return arrays, recipes


def gibbs_reference(wmodel, seed: int) -> dict[str, np.ndarray]:
    """magenta's numpy Gibbs sampler harmonizing a stored random melody."""
    batch, length = GIBBS_SHAPE
    rng = np.random.RandomState(seed + 1)
    melody = np.cumsum(rng.randint(-2, 3, size=length)) + 67
    rolls = np.zeros((batch, length, MAX_PITCH - MIN_PITCH + 1, VOICES), np.float32)
    rolls[:, np.arange(length), melody - MIN_PITCH, 0] = 1
    masks = lib_sampling.HarmonizationMasker()(rolls.shape)
    # As coconet_sample's strategies make them (Generator hands every sampler its Logger;
    # lib_logging.NoLogger, the default, cannot enter a section).
    logger = lib_logging.Logger()
    sampler = lib_sampling.GibbsSampler(
        wmodel=wmodel,
        logger=logger,
        temperature=GIBBS_TEMPERATURE,
        masker=lib_sampling.BernoulliMasker(),
        sampler=lib_sampling.IndependentSampler(
            wmodel=wmodel, logger=logger, temperature=GIBBS_TEMPERATURE
        ),
        schedule=lib_sampling.YaoSchedule(),
    )
    np.random.seed(seed)
    result = sampler(rolls.copy(), masks)
    return {
        "gibbs_pianorolls": rolls.astype(np.uint8),
        "gibbs_masks": masks.astype(np.uint8),
        "gibbs_result": np.asarray(result).astype(np.uint8),
    }


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def make(name: str, spec: dict, chorales: Chorales, args, work: str) -> None:
    data_dir = os.path.join(work, "data", name)
    os.makedirs(data_dir, exist_ok=True)
    folds = chorales.folds(spec["train_windows"], spec["valid_windows"])
    np.savez(os.path.join(data_dir, f"{DATASET}.npz"), **folds)
    log(f"{name}: {', '.join(f'{k} {v.shape}' for k, v in folds.items())}")
    trained = train(name, spec, data_dir, work, args.seed)
    log(f"{name}: trained {trained['steps']} steps in {trained['seconds']}s: {trained['losses']}")
    keep_out = name in args.no_weights
    destination = os.path.join(args.weights_out if keep_out else args.out, name)
    variables = write_checkpoint(trained, destination, spec["slim"])
    wmodel = load_checkpoint(destination)
    arrays, recipes = references(wmodel, chorales, args.seed)
    if spec["gibbs"]:
        arrays.update(gibbs_reference(wmodel, args.seed))
    hparams = wmodel.hparams
    wmodel.sess.close()
    os.makedirs(os.path.join(args.out, name), exist_ok=True)
    np.savez_compressed(os.path.join(args.out, name, "reference.npz"), **arrays)
    weights = {
        path: os.path.getsize(os.path.join(destination, path))
        for path in sorted(os.listdir(destination))
        if not path.startswith("reference.")
    }
    doc = {
        "config": name,
        "architecture_name": hparams.get_conv_arch().name,
        "hparams": {k: v for k, v in sorted(vars(hparams).items()) if not k.startswith("_")},
        "versions": magenta_runtime.versions(),
        "training": {k: v for k, v in trained.items() if k != "folder"},
        "seed": args.seed,
        "checkpoint": {
            "files": weights,
            "committed": not keep_out,
            "slim": spec["slim"],
            "sha256": fixture_common.sha256(
                os.path.join(destination, CHECKPOINT_PREFIX + ".data-00000-of-00001")
            ),
            "variables": variables,
        },
        "data": data_record(chorales, folds),
        "references": reference_record(recipes, spec),
    }
    fixture_common.write_json(os.path.join(args.out, name, "reference.json"), doc)
    log(f"{name}: written ({sum(weights.values())} checkpoint bytes, committed: {not keep_out})")


def data_record(chorales: Chorales, folds: dict) -> dict:
    return {
        "source": "music21 corpus bach/bwv*.mxl with four parts (sorted corpus-relative "
        "paths): music21 MIDI -> note_seq.midi_to_note_sequence -> quantized at 4 steps per "
        "quarter; one column of pitches per part (NaN: rest)",
        "license": "music21 corpus: non-commercial use; not committed",
        "chorales_used_for_training": sorted(set(chorales.used)),
        "window_steps": WINDOW,
        "windows": {k: list(v.shape) for k, v in folds.items()},
    }


def reference_record(recipes: dict, spec: dict) -> dict:
    return {
        "method": "lib_graph.load_checkpoint(folder) (is_training=False); "
        "sess.run(model.predictions, {pianorolls, masks}): probs_<rolls>_<length>_<mask> is "
        "[batch, time, pitch, voice] float32, a softmax over pitch",
        "cases": [list(case) for case in REFERENCE_CASES],
        "rolls": "chorale_<length>: held-out windows (not stored; rebuilt from the recipes "
        "below, then encoded as lib_pianoroll does); random_<length>: pitches_random_<length> "
        "(stored, NaN a rest) encoded the same way",
        "chorale_windows": recipes,
        "pitch_hash": PITCH_HASH,
        "masks": "masks_<key>, uint8: lib_mask's orderless and bernoulli (blankout 0.5) "
        "drawn per example, lib_sampling.HarmonizationMasker, none, all",
        "gibbs": (
            {
                "sampler": "lib_sampling.GibbsSampler(masker=BernoulliMasker(), "
                "sampler=IndependentSampler(temperature), schedule=YaoSchedule()), "
                "num_steps = masked (time, voice) variables; np.random.seed(seed) first",
                "temperature": GIBBS_TEMPERATURE,
                "draws": "per step: np.random.random([batch, time, 1, voice]) for the mask, "
                "then np.random.random([batch, time, 1, voice]) for lib_util.sample",
            }
            if spec["gibbs"]
            else None
        ),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--work", default=None, help="scratch dir (default: a temp dir, removed)")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument(
        "--no-weights",
        default="straight-64-128",
        help="configs whose checkpoint folder goes to --weights-out, not --out (too big to "
        "commit; their references still go to --out)",
    )
    parser.add_argument("--weights-out", default=DEFAULT_WEIGHTS_OUT)
    args = parser.parse_args(argv)
    args.no_weights = set(filter(None, args.no_weights.split(",")))
    names = args.configs.split(",")
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        parser.error(f"unknown configs {unknown}; known: {list(CONFIGS)}")
    started = time.time()
    with fixture_common.work_dir(args.work, "coconet_fixtures_") as work:
        chorales = Chorales()
        for name in names:
            make(name, CONFIGS[name], chorales, args, work)
    log(f"all done in {time.time() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
