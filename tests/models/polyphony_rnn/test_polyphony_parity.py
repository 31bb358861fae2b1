"""A PolyphonyRNN bundle made by Google's magenta loads natively and gives Magenta's probabilities.

The fixture was written by models/reference/make_polyphony_rnn_fixtures.py: magenta's
polyphony config at its default size (3x256 LSTM), trained with magenta's own pipeline and
loop on Bach chorales from music21's corpus, saved with its own create_bundle_file, and
Magenta's teacher-forced softmax recorded for primers from chorales it was not trained on.
No TensorFlow is needed here.

The corpus is for non-commercial use, so the primers are not stored: the reference says how
to rebuild each one (chorale, start step, steps) and holds the SHA-256 of its event classes.
Here the chorale is written to MIDI again by music21 (the `chorale_midi` fixture), the
primer rebuilt natively as Magenta's generator prepares one, and checked against that hash.
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from bridge.models.checkpoints.tf_v1 import CheckpointError
from bridge.models.events_rnn.steppers import NumpyStepper
from bridge.models.polyphony_rnn.model import PolyphonyRnn
from bridge.music.midi import read_midi
from bridge.music.polyphony import PolyphonicSequence, polyphonic_events
from bridge.music.quantize import quantize

FIXTURES = Path(__file__).parents[2] / "fixtures" / "polyphony_rnn"
BUNDLE = FIXTURES / "polyphony.mag"
REFERENCE = json.loads((FIXTURES / "polyphony_reference.json").read_text())
RECIPES = REFERENCE["primers"]["recipes"]
TOLERANCE = 1e-4


def primer_sha256(events) -> str:
    """models/reference/fixture_common.primer_sha256: the classes, decimal, comma-separated."""
    return hashlib.sha256(",".join(str(int(e)) for e in events).encode("ascii")).hexdigest()


@pytest.fixture(scope="module")
def primers(chorale_midi) -> list[tuple[PolyphonicSequence, np.ndarray]]:
    """(primer, magenta's softmax [events, 259]) for every recipe."""
    cases = []
    with np.load(FIXTURES / "polyphony_reference.npz") as softmaxes:
        assert sorted(softmaxes.files) == [f"softmax_{i}" for i in range(len(RECIPES))]
        for i, recipe in enumerate(RECIPES):
            clip = read_midi(chorale_midi(recipe["chorale"]))
            events = polyphonic_events(quantize(clip), recipe["start_step"], recipe["steps"])
            if primer_sha256(events) != recipe["primer_sha256"]:
                pytest.fail(
                    f"primer {i} ({recipe['chorale']}, {recipe['steps']} steps from step "
                    f"{recipe['start_step']}) is not the one magenta's softmax was recorded "
                    f"for: music21 writes the chorale differently than music21 "
                    f"{REFERENCE['versions'].get('music21')} did. Remake the fixture with "
                    f"models/reference/make_polyphony_rnn_fixtures.py."
                )
            cases.append((PolyphonicSequence(np.array(events)), softmaxes[f"softmax_{i}"]))
    return cases


@pytest.fixture(scope="module")
def model() -> PolyphonyRnn:
    return PolyphonyRnn.load(BUNDLE, "cpu")


def test_the_fixture_is_magentas_default_size(model):
    assert REFERENCE["hparams_training"]["rnn_layer_sizes"] == [256, 256, 256]
    assert model.config.layer_sizes == (256, 256, 256)
    assert (REFERENCE["input_size"], REFERENCE["num_classes"]) == (259, 259)
    assert sorted(path.name for path in FIXTURES.iterdir()) == [
        "polyphony.mag",
        "polyphony_reference.json",
        "polyphony_reference.npz",
    ]


def test_no_primer_is_stored():
    with np.load(FIXTURES / "polyphony_reference.npz") as data:
        assert all(key.startswith("softmax_") for key in data.files)
    assert len(RECIPES) >= 3
    for recipe in RECIPES:  # how to rebuild the primer, and its hash: nothing of the chorale
        assert set(recipe) == {"chorale", "start_step", "steps", "primer_sha256"}


def test_native_softmax_matches_magenta(model, primers):
    worst = 0.0
    for primer, softmax in primers:
        native = model.softmax(primer.events)
        assert native.shape == softmax.shape == (len(primer), 259)
        worst = max(worst, float(np.abs(native - softmax).max()))
    assert worst <= TOLERANCE


def test_cpu_fast_path_matches_magenta(model, primers):
    stepper = NumpyStepper(model.network)
    for primer, softmax in primers:
        inputs = model.encoder.start(primer.events[None, :]).all_inputs
        state, worst = stepper.zero_state(1), 0.0
        for t in range(inputs.shape[1]):
            logits, state = stepper.step(inputs[:, t], state)
            probs = torch.softmax(torch.from_numpy(logits[0]).double(), dim=-1).numpy()
            worst = max(worst, float(np.abs(probs - softmax[t]).max()))
        assert worst <= TOLERANCE


def test_other_bundles_are_refused_by_name():
    drums = Path(__file__).parents[2] / "fixtures" / "drums_rnn" / "drum_kit.mag"
    with pytest.raises(CheckpointError, match=r"'drum_kit' is not a supported PolyphonyRNN config"):
        PolyphonyRnn.load(drums, "cpu")
