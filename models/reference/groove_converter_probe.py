#!/usr/bin/env python
"""Magenta's own GrooveConverter and TrainedModel.encode on MIDI files, for the native
groove converter's parity tests (tests/models/music_vae/test_groove_data.py).

Run with the reference virtualenv's python (see setup_magenta_env.sh)::

    .venv-magenta/bin/python models/reference/groove_converter_probe.py JOB.json OUT.npz

JOB.json names `midi` (MIDI files), `configs` (groovae configs of magenta's CONFIG_MAP),
`samples` (an .npy of decoder-like tensors `[n, steps, 27]` for `from_tensors`) and
`checkpoints` (per config, a V2 checkpoint folder and the `--hparams` string it was trained
with). Each config's converter is put in the infer mode TrainedModel sets. For config c and
file i, OUT.npz holds:

- `c/i/inputs`, `c/i/outputs`: `to_tensors` of the file's NoteSequence (float64);
- `c/i/notes`: `from_tensors` of those outputs, rows (tensor, pitch, velocity, start_time,
  end_time, program, instrument, is_drum); `c/samples/notes`: the same for `samples`;
- with a checkpoint, `c/i/mu`, `c/i/sigma` from `TrainedModel.encode([sequence])` where the
  file gives one tensor (TrainedModel refuses more), else from `encode_tensors` of them.
"""

from __future__ import annotations

import copy
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import magenta_runtime

magenta_runtime.setup(verbose=bool(os.environ.get("MAGENTA_VERBOSE")))

import note_seq
import numpy as np
from magenta.models.music_vae import TrainedModel, configs


def notes_rows(sequences) -> np.ndarray:
    rows = [
        [index, n.pitch, n.velocity, n.start_time, n.end_time, n.program, n.instrument, n.is_drum]
        for index, sequence in enumerate(sequences)
        for n in sequence.notes
    ]
    return np.array(rows, np.float64).reshape(-1, 8)


def probe(job: dict) -> dict[str, np.ndarray]:
    sequences = [note_seq.midi_file_to_note_sequence(path) for path in job["midi"]]
    samples = np.load(job["samples"])
    out = {}
    for name in job["configs"]:
        config = copy.deepcopy(configs.CONFIG_MAP[name])
        converter = config.data_converter
        converter.set_mode("infer")
        out[f"{name}/samples/notes"] = notes_rows(converter.from_tensors(samples))
        tensors = [converter.to_tensors(sequence) for sequence in sequences]
        for index, converted in enumerate(tensors):
            out[f"{name}/{index}/inputs"] = np.array(converted.inputs, np.float64)
            out[f"{name}/{index}/outputs"] = np.array(converted.outputs, np.float64)
            out[f"{name}/{index}/notes"] = notes_rows(converter.from_tensors(converted.outputs))
        checkpoint = job["checkpoints"].get(name)
        if checkpoint is None:
            continue
        config.hparams.parse(checkpoint["hparams"])
        model = TrainedModel(config, batch_size=8, checkpoint_dir_or_path=checkpoint["path"])
        for index, (sequence, converted) in enumerate(zip(sequences, tensors, strict=True)):
            if len(converted.inputs) == 1:
                _, mu, sigma = model.encode([sequence])
            elif converted.inputs:
                _, mu, sigma = model.encode_tensors(
                    list(converted.inputs), list(converted.lengths), list(converted.controls)
                )
            else:
                continue
            out[f"{name}/{index}/mu"], out[f"{name}/{index}/sigma"] = mu, sigma
    return out


def main() -> None:
    job_path, out_path = sys.argv[1:3]
    with open(job_path) as fh:
        job = json.load(fh)
    np.savez(out_path, **probe(job))


if __name__ == "__main__":
    main()
