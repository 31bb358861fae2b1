#!/usr/bin/env python
"""Time Google's magenta `TrainedModel` on the MusicVAE tools' workloads, for
bench/bench_music_vae.py, which runs the same workloads natively on the same checkpoints.

Run with the reference virtualenv's python (see setup_magenta_env.sh)::

    .venv-magenta/bin/python models/reference/music_vae_timing.py REQUEST.json

REQUEST.json names the checkpoint folder, the MIDI files and the repeats. When a config's
checkpoint is missing it is made first: the config's model at its FULL default size, built
by magenta and initialised at random (seeded): speed does not depend on what the weights
learned. Prints one JSON object of median milliseconds.
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import magenta_runtime

tf = magenta_runtime.setup(verbose=bool(os.environ.get("MAGENTA_VERBOSE")))

import note_seq
import numpy as np
from magenta.models.music_vae import TrainedModel, configs


def checkpoint(folder: str, name: str) -> str:
    """The folder of `name`'s full-size random checkpoint, made if missing."""
    path = os.path.join(folder, name)
    if not os.path.exists(os.path.join(path, "checkpoint")):
        config = copy.deepcopy(configs.CONFIG_MAP[name])  # TrainedModel copies the pristine one
        with tf.Graph().as_default():
            tf.compat.v1.set_random_seed(0)
            config.model.build(config.hparams, config.data_converter.output_depth, False)
            # Variables are made when the graph is first used: encode and decode once.
            steps, depth = config.hparams.max_seq_len, config.data_converter.output_depth
            inputs = tf.zeros([1, steps, config.data_converter.input_depth])
            posterior = config.model.encode(inputs, tf.fill([1], steps))
            outputs = tf.zeros([1, steps, depth])
            config.model.decoder.reconstruction_loss(
                outputs, outputs, tf.fill([1], steps), posterior.loc
            )
            with tf.compat.v1.Session() as session:
                session.run(tf.compat.v1.global_variables_initializer())
                os.makedirs(path, exist_ok=True)
                tf.compat.v1.train.Saver().save(session, os.path.join(path, "model.ckpt"))
    return path


def median_ms(work, repeats: int) -> float:
    work()  # warm-up: graph and session caches
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def main() -> None:
    with open(sys.argv[1]) as file:
        request = json.load(file)
    repeats, steps, variations = request["repeats"], request["steps"], request["variations"]
    read = note_seq.midi_file_to_note_sequence
    results = {}

    melody = TrainedModel(
        configs.CONFIG_MAP["cat-mel_2bar_small"],
        steps,
        checkpoint(request["folder"], "cat-mel_2bar_small"),
    )
    start, end = read(request["start"]), read(request["end"])
    results["interpolate_ms"] = median_ms(
        lambda: melody.interpolate(start, end, steps, length=32, temperature=0.5), repeats
    )

    drums_path = checkpoint(request["folder"], "cat-drums_2bar_small")
    drums = TrainedModel(configs.CONFIG_MAP["cat-drums_2bar_small"], variations, drums_path)
    loop = read(request["loop"])
    rng = np.random.default_rng(0)

    def vary(sequence, model, count):
        _, mu, _ = model.encode([sequence])
        z = mu + 0.2 * rng.standard_normal((count, mu.shape[1]))  # as native vary, distance 0.2
        return model.decode(z, length=32, temperature=0.5)

    results["vary_ms"] = median_ms(lambda: vary(loop, drums, variations), repeats)
    per_loop = request["folder_variations"]
    batch = TrainedModel(configs.CONFIG_MAP["cat-drums_2bar_small"], per_loop, drums_path)
    loops = [read(path) for path in request["loops"]]
    results["folder_ms"] = median_ms(
        lambda: [vary(sequence, batch, per_loop) for sequence in loops], max(1, repeats // 5)
    )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
