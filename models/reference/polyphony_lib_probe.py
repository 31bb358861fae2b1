#!/usr/bin/env python
"""Magenta's own polyphony_lib, encoder and generator on given data, for the polyphony tests.

Run with the reference virtualenv's python (see setup_magenta_env.sh); reads one JSON object
on stdin and writes one on stdout::

    {"extract": [{"midi": base64 MIDI, "start_step": s, "steps": n}, ...],
     "decode": [{"events": [class, ...], "steps": n}, ...],
     "bundle": path, "generate": [{"midi": base64 MIDI, "steps": p, "new_steps": n,
                                   "temperature": t, "beam_size": b, "branch_factor": f,
                                   "steps_per_iteration": i, "seed": s}, ...]}
 -> {"extract": [{"events": [class, ...], "inputs": [class, ...], "labels": [class, ...]}, ...],
     "decode": [{"events": [class, ...], "notes": [[pitch, start_step, end_step], ...]}, ...],
     "generate": [{"notes": [[pitch, start_step, end_step], ...]}, ...]}

extract: note_seq.midi_to_note_sequence, quantize at 4 steps per quarter,
polyphony_lib.extract_polyphonic_sequences(start_step=s), set_length(n),
trim_trailing_end_events() (a primer as PolyphonyRnnSequenceGenerator prepares one); its
event classes (PolyphonyOneHotEncoding), and the polyphony config's encoder_decoder.encode()
of it: the class of each one-hot input row (the script fails unless every row is one-hot)
and the labels.

decode: a PolyphonicSequence of the given classes (the first must be START), then
set_length(n) and to_sequence() at 120 qpm; the classes after set_length and the notes in
steps.

generate: the bundle's PolyphonyRnnSequenceGenerator continues the MIDI's first p steps by
n steps, conditioned on the primer and without injecting it (polyphony_rnn_generate's
--condition_on_primer=true --inject_primer_during_generation=false: the RNN reads the
primer first, and the primer is not replayed into the new steps). The generate section runs
from a quarter step before step p (notes sounding there are cut there; both quantize to
step p) to a quarter step after step p + n, so magenta's rounding (quantize_to_step with
cutoff 0 at the start, 1 at the end, 0.5 for note ends and the total time) lands exactly
on those steps whatever the float error. numpy and random are seeded with s before each
request. All the notes of the result (primer included), in steps.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import magenta_runtime

magenta_runtime.setup()

import numpy as np
import note_seq
from magenta.models.polyphony_rnn import polyphony_encoder_decoder
from magenta.models.polyphony_rnn import polyphony_lib
from magenta.models.polyphony_rnn import polyphony_model

STEPS_PER_QUARTER = 4
QPM = 120.0


def extract(request: dict, encoding, encoder) -> dict:
    midi = base64.b64decode(request["midi"])
    quantized = note_seq.quantize_note_sequence(
        note_seq.midi_to_note_sequence(midi), STEPS_PER_QUARTER
    )
    (sequence,), _ = polyphony_lib.extract_polyphonic_sequences(
        quantized, start_step=request["start_step"]
    )
    sequence.set_length(request["steps"])
    sequence.trim_trailing_end_events()
    inputs, labels = encoder.encode(sequence)
    inputs = np.asarray(inputs)
    if not (np.all(inputs.sum(axis=1) == 1) and np.all(inputs.max(axis=1) == 1)):
        raise SystemExit("an input row is not one-hot")
    return {
        "events": [encoding.encode_event(event) for event in sequence],
        "inputs": inputs.argmax(axis=1).tolist(),
        "labels": [int(label) for label in labels],
    }


def decode(request: dict, encoding) -> dict:
    classes = request["events"]
    if classes[0] != 0:
        raise SystemExit("a sequence to decode must start with START (class 0)")
    sequence = polyphony_lib.PolyphonicSequence(steps_per_quarter=STEPS_PER_QUARTER)
    for index in classes[1:]:
        event = encoding.decode_event(index)
        sequence.append(polyphony_lib.PolyphonicEvent(event.event_type, event.pitch))
    sequence.set_length(request["steps"])
    seconds_per_step = 60.0 / QPM / STEPS_PER_QUARTER
    notes = [
        [
            note.pitch,
            round(note.start_time / seconds_per_step),
            round(note.end_time / seconds_per_step),
        ]
        for note in sequence.to_sequence(qpm=QPM).notes
    ]
    return {"events": [encoding.encode_event(event) for event in sequence], "notes": notes}


def generate(request: dict, generator) -> dict:
    from note_seq.protobuf import generator_pb2

    sequence = note_seq.midi_to_note_sequence(base64.b64decode(request["midi"]))
    qpm = sequence.tempos[0].qpm if sequence.tempos else note_seq.DEFAULT_QUARTERS_PER_MINUTE
    seconds_per_step = 60.0 / qpm / STEPS_PER_QUARTER
    start = (request["steps"] - 0.25) * seconds_per_step
    primer = copy.deepcopy(sequence)
    del primer.notes[:]
    for note in sequence.notes:
        if note_seq.quantize_to_step(note.start_time, 1 / seconds_per_step) < request["steps"]:
            kept = primer.notes.add()
            kept.CopyFrom(note)
            kept.end_time = min(note.end_time, start)
    primer.total_time = start
    options = generator_pb2.GeneratorOptions()
    options.generate_sections.add(
        start_time=start,
        end_time=(request["steps"] + request["new_steps"] + 0.25) * seconds_per_step,
    )
    options.args["temperature"].float_value = request["temperature"]
    for name in ("beam_size", "branch_factor", "steps_per_iteration"):
        options.args[name].int_value = request[name]
    options.args["condition_on_primer"].bool_value = True
    options.args["no_inject_primer_during_generation"].bool_value = True
    np.random.seed(request["seed"])
    random.seed(request["seed"])
    result = generator.generate(primer, options)
    notes = [
        [
            note.pitch,
            round(note.start_time / seconds_per_step),
            round(note.end_time / seconds_per_step),
        ]
        for note in result.notes
    ]
    return {"notes": notes}


def load_generator(path: str):
    from magenta.models.polyphony_rnn import polyphony_sequence_generator
    from magenta.models.shared import sequence_generator_bundle

    bundle = sequence_generator_bundle.read_bundle_file(path)
    creator = polyphony_sequence_generator.get_generator_map()[bundle.generator_details.id]
    generator = creator(checkpoint=None, bundle=bundle)
    generator.initialize()
    return generator


def main() -> int:
    request = json.load(sys.stdin)
    encoding = polyphony_encoder_decoder.PolyphonyOneHotEncoding()
    encoder = polyphony_model.default_configs["polyphony"].encoder_decoder
    reply = {
        "extract": [extract(item, encoding, encoder) for item in request.get("extract", [])],
        "decode": [decode(item, encoding) for item in request.get("decode", [])],
    }
    if request.get("generate"):
        generator = load_generator(request["bundle"])
        reply["generate"] = [generate(item, generator) for item in request["generate"]]
    json.dump(reply, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
