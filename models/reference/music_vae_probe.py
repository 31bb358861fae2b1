#!/usr/bin/env python
"""Small MusicVAE/GrooVAE checkpoints and their outputs, made live by Google's magenta.

Run with the reference virtualenv's python (see setup_magenta_env.sh)::

    .venv-magenta/bin/python models/reference/music_vae_probe.py OUT CONFIG [CONFIG ...]

For each config of magenta's CONFIG_MAP: the config's model, built by magenta's own
`MusicVAE.build` with its architecture (layer counts, hierarchy, decoder type, data
depths) at small widths, its variables initialised at random with random biases, saved by
`tf.compat.v1.train.Saver` as a V2 checkpoint (the format Magenta distributes) in
`OUT/CONFIG/`, and `OUT/CONFIG/reference.npz` with what magenta computes from it:

- `mu`, `sigma`: the posterior of random inputs `x` with lengths `lengths`
  (`MusicVAE.encode`), for three sequences of different lengths (full length for the
  hierarchical configs, whose decoder splits fixed segments);
- `logits`: the decoder's raw outputs under teacher forcing (`reconstruction_loss` with
  `sampling_schedule` set to constant 0: magenta's eval mode otherwise feeds the decoder its
  own samples), for latent codes `mu` and decoder inputs `x_input`.

Random weights test the plumbing (names, gate order, forget bias, state layout, sequence
reversal, hierarchy) on every value, which trained weights do not make stronger; the native
tests compare against these numbers (tests/models/music_vae/test_music_vae_parity.py).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import magenta_runtime

tf = magenta_runtime.setup(verbose=bool(os.environ.get("MAGENTA_VERBOSE")))

import numpy as np
from magenta.models.music_vae import configs

BATCH = 3
Z_SIZE = 8
ENCODER_UNITS = 16
DECODER_UNITS = 12


def probe(name: str, out: str, seed: int) -> None:
    config = configs.CONFIG_MAP[name]
    hparams = config.hparams
    hparams.sampling_schedule, hparams.sampling_rate = "constant", 0.0
    hparams.batch_size, hparams.z_size = BATCH, Z_SIZE
    hparams.enc_rnn_size = [ENCODER_UNITS] * len(hparams.enc_rnn_size)
    hparams.dec_rnn_size = [DECODER_UNITS] * len(hparams.dec_rnn_size)
    in_depth = config.data_converter.input_depth
    out_depth = config.data_converter.output_depth
    steps = hparams.max_seq_len
    rng = np.random.default_rng(seed)
    x = (rng.random((BATCH, steps, in_depth)) < 0.2).astype(np.float32)
    hierarchical = "hierdec" in name
    lengths = np.array([steps, steps] if hierarchical else [steps, steps - 5], np.int32)
    lengths = np.append(lengths, steps if hierarchical else steps - 9).astype(np.int32)
    if config.data_converter.output_depth == 27:  # groove: hits, velocities, offsets
        targets = rng.random((BATCH, steps, out_depth)).astype(np.float32)
    else:
        targets = np.eye(out_depth, dtype=np.float32)[rng.integers(0, out_depth, (BATCH, steps))]
    x_input = np.concatenate([np.zeros((BATCH, 1, out_depth), np.float32), targets[:, :-1]], 1)
    with tf.Graph().as_default():
        tf.compat.v1.set_random_seed(seed)
        model = config.model
        model.build(hparams, out_depth, is_training=False)
        posterior = model.encode(tf.constant(x), tf.constant(lengths))
        _, _, decoded = model.decoder.reconstruction_loss(
            tf.constant(x_input), tf.constant(targets), tf.fill([BATCH], steps), posterior.loc
        )
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            for variable in tf.compat.v1.global_variables():
                if variable.name.endswith("bias:0"):
                    value = rng.normal(0.0, 0.1, variable.shape.as_list()).astype(np.float32)
                    session.run(variable.assign(value))
            mu, sigma, logits = session.run([posterior.loc, posterior.stddev(), decoded.rnn_output])
            folder = os.path.join(out, name)
            os.makedirs(folder, exist_ok=True)
            tf.compat.v1.train.Saver().save(session, os.path.join(folder, "model.ckpt"))
    np.savez(
        os.path.join(out, name, "reference.npz"),
        x=x,
        lengths=lengths,
        x_input=x_input,
        mu=mu,
        sigma=sigma,
        logits=logits,
    )


def main() -> None:
    out, names = sys.argv[1], sys.argv[2:]
    for seed, name in enumerate(names):
        probe(name, out, seed)
        print(name, flush=True)


if __name__ == "__main__":
    main()
