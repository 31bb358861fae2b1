#!/usr/bin/env python
"""Check the native polyphony corpus against Google's own PolyphonyRNN pipeline.

Run with the reference virtualenv's python (see setup_magenta_env.sh)::

    .venv-magenta/bin/python models/reference/check_polyphony_pipeline.py \
        data/bach_chorales/train data/bach_chorales/valid data/bach_chorales/test

Every MIDI file under the folders is read with note_seq and goes through both:

- magenta 2.1.4's ``polyphony_rnn_pipeline.get_pipeline`` with the arguments of
  ``polyphony_rnn_create_dataset`` (``min_steps=80``, ``max_steps=512``, the ``polyphony``
  config) and ``eval_ratio=0``, so that every sequence lands in its training output; each
  SequenceExample is decoded back to event classes (the class of its first input, then
  every label);
- ``bridge.training.polyphony_rnn.corpus.PolyphonyExtractionRules()`` (Magenta's
  transpositions) through ``bridge.training.corpus``, as ``build_corpus`` runs it.

Both must give the same sequences in the same order, event for event, and the same
statistics under magenta's names. Exits 1 on the first files that differ.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
import magenta_runtime

magenta_runtime.setup(verbose=bool(os.environ.get("MAGENTA_VERBOSE")))

import note_seq
import numpy as np
from magenta.models.polyphony_rnn import polyphony_model, polyphony_rnn_pipeline

from bridge.training.corpus import sequences_from_note_sequence
from bridge.training.polyphony_rnn.corpus import PolyphonyExtractionRules

MIN_STEPS, MAX_STEPS = 80, 512  # polyphony_rnn_create_dataset's arguments
OUTPUT = "training_poly_tracks"
# Statistics both count, by the name of the magenta pipeline unit that counts them.
STATS = (
    "transpositions_generated",
    "skipped_due_to_range_exceeded",
    "polyphonic_tracks_discarded_too_short",
    "polyphonic_tracks_discarded_too_long",
    "polyphonic_tracks_discarded_more_than_1_program",
)


def decode(example) -> np.ndarray:
    """A SequenceExample's event classes: the first input's one-hot class, then the labels."""
    features = example.feature_lists.feature_list
    first = int(np.argmax(features["inputs"].feature[0].float_list.value))
    labels = [feature.int64_list.value[0] for feature in features["labels"].feature]
    return np.array([first, *labels])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folders", nargs="+", help="folders of MIDI files")
    args = parser.parse_args(argv)
    files = sorted(
        os.path.join(root, name)
        for folder in args.folders
        for root, _, names in os.walk(folder)
        for name in names
        if name.lower().endswith((".mid", ".midi"))
    )
    pipeline = polyphony_rnn_pipeline.get_pipeline(
        polyphony_model.default_configs["polyphony"], MIN_STEPS, MAX_STEPS, eval_ratio=0.0
    )
    rules = PolyphonyExtractionRules()
    native_stats: Counter[str] = Counter()
    magenta_stats: Counter[str] = Counter()
    differing, sequences, events = [], 0, 0
    started = time.perf_counter()
    for path in files:
        sequence = note_seq.midi_file_to_note_sequence(path)
        theirs = [decode(example) for example in pipeline.transform(sequence)[OUTPUT]]
        for stat in pipeline.get_stats():  # the last input's, as run_pipeline_serial merges them
            for name in STATS:
                if stat.name.endswith(name):
                    magenta_stats[name] += stat.count
        ours = sequences_from_note_sequence(sequence, rules, native_stats)
        same = len(theirs) == len(ours) and all(
            np.array_equal(a, b) for a, b in zip(theirs, ours, strict=True)
        )
        if not same:
            differing.append(f"{path}: magenta {len(theirs)} sequences, native {len(ours)}")
        sequences += len(theirs)
        events += sum(len(s) for s in theirs)
    native = {name: native_stats[name] for name in STATS}
    print(f"{len(files)} files, {sequences} sequences, {events} events from magenta's pipeline")
    print(f"statistics: magenta { ({name: magenta_stats[name] for name in STATS}) }")
    print(f"            native  {native}")
    print(f"{time.perf_counter() - started:.0f} s")
    if differing or native != {name: magenta_stats[name] for name in STATS}:
        print(f"DIFFERENT: {len(differing)} files", *differing[:20], sep="\n")
        return 1
    print("IDENTICAL: same sequences, event for event, in the same order")
    return 0


if __name__ == "__main__":
    sys.exit(main())
