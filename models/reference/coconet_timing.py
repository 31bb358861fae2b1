#!/usr/bin/env python
"""Time Google's magenta `coconet_sample` harmonizing a melody, for bench/bench_coconet.py,
which runs the same work natively on the same checkpoint folders.

Run with the reference virtualenv's python (see setup_magenta_env.sh)::

    .venv-magenta/bin/python models/reference/coconet_timing.py REQUEST.json

REQUEST.json::

    {"folder": "...", "models": {"name": {lib_hparams names: values}},
     "melody": [MIDI pitch or null per 16th], "batches": [1, 8], "repeats": 3}

A model whose folder lacks a checkpoint is made first: magenta's own graph for those
hyperparameters (`lib_graph.build_graph`), initialised at random (seeded), saved as
`coconet_train` saves one (`config` + `best_model.ckpt`): speed does not depend on what the
weights learned. Sampling is coconet_sample's default path (`--tfsample`):
`lib_tfsampling.CoconetSampleGraph.run` with lib_sampling's HarmonizationMasker, the default
schedule (time x voices Gibbs steps after one fill) and temperature 0.99. TensorFlow keeps its
own defaults here (oneDNN on), its fastest configuration on this CPU. Prints one JSON object
of median seconds per model and batch size.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
import magenta_runtime

tf = magenta_runtime.setup(verbose=bool(os.environ.get("MAGENTA_VERBOSE")))
magenta_runtime.patch_coconet_dilated_conv()

import numpy as np
from magenta.models.coconet import lib_graph, lib_hparams, lib_sampling, lib_tfsampling

CHECKPOINT_PREFIX = "best_model.ckpt"  # what coconet_train saves and lib_graph restores


def checkpoint(folder: str, hparams: dict) -> str:
    """`folder` holding a random checkpoint of a Coconet with `hparams`, made if missing."""
    if os.path.exists(os.path.join(folder, "checkpoint")):
        return folder
    os.makedirs(folder, exist_ok=True)
    params = lib_hparams.Hyperparameters(**hparams)
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        lib_graph.build_graph(is_training=False, hparams=params)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            tf.train.Saver().save(
                session, os.path.join(folder, CHECKPOINT_PREFIX), write_meta_graph=False
            )
    with open(os.path.join(folder, "config"), "w") as config:
        params.dump(config)
    return folder


def melody_rolls(melody: list, batch: int, hparams) -> np.ndarray:
    """[batch, time, pitch, voice] with the melody as the first voice, the rest silent."""
    rolls = np.zeros((batch, len(melody), hparams.num_pitches, hparams.num_instruments), np.float32)
    for step, pitch in enumerate(melody):
        if pitch is not None:
            rolls[:, step, pitch - hparams.min_pitch, 0] = 1
    return rolls


def median_seconds(work, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def main() -> None:
    with open(sys.argv[1]) as handle:
        request = json.load(handle)
    results = {}
    for name, hparams in request["models"].items():
        folder = checkpoint(os.path.join(request["folder"], name), hparams)
        with tf.Graph().as_default():
            sampler = lib_tfsampling.CoconetSampleGraph(folder)
            timings = {}
            for batch in request["batches"]:
                rolls = melody_rolls(request["melody"], batch, sampler.hparams)
                masks = lib_sampling.HarmonizationMasker()(rolls.shape)

                def harmonize(sampler=sampler, rolls=rolls, masks=masks):
                    filled = sampler.run(rolls, masks, temperature=0.99)["pianorolls"]
                    assert filled.shape == rolls.shape

                harmonize()  # builds the graph and restores the checkpoint on first use
                timings[str(batch)] = median_seconds(harmonize, request["repeats"])
            sampler.sess.close()
        results[name] = {"folder": folder, "seconds": timings}
    print(json.dumps({"magenta": results}))


if __name__ == "__main__":
    main()
