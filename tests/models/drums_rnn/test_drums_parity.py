"""A DrumsRNN bundle made by Google's magenta loads natively and gives Magenta's probabilities.

The fixture was written by models/reference/make_drums_rnn_fixtures.py: magenta's drum_kit
config at its default size, trained with magenta's own pipeline and loop on drum tracks
rendered from MMA's groove library, saved with its own create_bundle_file, and Magenta's
teacher-forced softmax recorded for primers from held-out grooves. No TensorFlow is needed.

The grooves are GPL data, so the primers are not stored: the reference says how to rebuild
each one (library file, groove, start step, steps) and holds the SHA-256 of its step values.
Here the groove is rendered again with mma (the `render_groove` fixture), the primer rebuilt
as Magenta's generator extracts one, checked against that hash, and encoded natively.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import note_seq
import numpy as np
import pytest
import torch

from bridge.models.checkpoints.tf_v1 import CheckpointError
from bridge.models.drums_rnn.model import DrumsRnn
from bridge.models.events_rnn.steppers import NumpyStepper
from bridge.music.drums import extract_drum_track
from bridge.music.midi import read_midi

FIXTURES = Path(__file__).parents[2] / "fixtures" / "drums_rnn"
BUNDLE = FIXTURES / "drum_kit.mag"
REFERENCE = json.loads((FIXTURES / "drum_kit_reference.json").read_text())
RECIPES = REFERENCE["primers"]["recipes"]
TOLERANCE = 1e-4


@dataclass(frozen=True)
class Primer:
    recipe: dict
    midi: bytes
    track: note_seq.DrumTrack  # as Magenta's DrumsRnnSequenceGenerator extracts a primer
    events: np.ndarray  # its step values: bit c set when drum class c is hit
    softmax: np.ndarray  # magenta's, [steps, 512]


def primer_sha256(events) -> str:
    """models/reference/fixture_common.primer_sha256: the steps, decimal, comma-separated."""
    return hashlib.sha256(",".join(str(int(e)) for e in events).encode("ascii")).hexdigest()


def rebuild(recipe: dict, midi: bytes) -> note_seq.DrumTrack:
    """The recipe's primer, extracted as DrumsRnnSequenceGenerator._generate extracts one."""
    sequence = note_seq.quantize_note_sequence(note_seq.midi_to_note_sequence(midi), 4)
    track = note_seq.DrumTrack()
    track.from_quantized_sequence(sequence, gap_bars=float("inf"), ignore_is_drum=True)
    offset = recipe["start_step"] - track.start_step
    assert offset >= 0 and offset + recipe["steps"] <= len(track), (
        f"{recipe['library_file']}:{recipe['groove']} renders {len(track)} drum steps from "
        f"step {track.start_step}; the primer needs steps {recipe['start_step']} to "
        f"{recipe['start_step'] + recipe['steps'] - 1}"
    )
    return note_seq.DrumTrack(
        list(track)[offset : offset + recipe["steps"]],
        start_step=recipe["start_step"],
        steps_per_bar=track.steps_per_bar,
        steps_per_quarter=track.steps_per_quarter,
    )


@pytest.fixture(scope="module")
def primers(render_groove) -> list[Primer]:
    one_hot = note_seq.MultiDrumOneHotEncoding()
    cases = []
    with np.load(FIXTURES / "drum_kit_reference.npz") as softmaxes:
        assert sorted(softmaxes.files) == [f"softmax_{i}" for i in range(len(RECIPES))]
        for i, recipe in enumerate(RECIPES):
            midi = render_groove(
                recipe["library_file"], recipe["groove"], REFERENCE["primers"]["bars"]
            )
            track = rebuild(recipe, midi)
            events = np.array([one_hot.encode_event(event) for event in track])
            if primer_sha256(events) != recipe["primer_sha256"]:
                pytest.fail(
                    f"primer {i} ({recipe['library_file']}:{recipe['groove']}, "
                    f"{recipe['steps']} steps from step {recipe['start_step']}) is not the one "
                    f"magenta's softmax was recorded for: the groove renders differently "
                    f"than it did with mma {REFERENCE['data']['mma_version']} (another mma, "
                    f"or a change to models/training/export_mma_grooves.py). Remake the "
                    f"fixture with models/reference/make_drums_rnn_fixtures.py."
                )
            cases.append(Primer(recipe, midi, track, events, softmaxes[f"softmax_{i}"]))
    return cases


@pytest.fixture(scope="module")
def model() -> DrumsRnn:
    return DrumsRnn.load(BUNDLE, "cpu")


def test_the_fixture_is_magentas_default_size(model):
    hparams = REFERENCE["hparams_training"]
    assert hparams["rnn_layer_sizes"] == [256, 256, 256]
    assert model.config.layer_sizes == (256, 256, 256)
    assert model.config.attn_length == hparams["attn_length"] == 32
    assert sorted(path.name for path in FIXTURES.iterdir()) == [
        "drum_kit.mag",
        "drum_kit_reference.json",
        "drum_kit_reference.npz",
    ]


def test_no_primer_is_stored():
    with np.load(FIXTURES / "drum_kit_reference.npz") as data:
        assert all(key.startswith("softmax_") for key in data.files)
    assert len(RECIPES) >= 3
    for recipe in RECIPES:  # how to rebuild the primer, and its hash: nothing of the groove
        assert set(recipe) == {"library_file", "groove", "start_step", "steps", "primer_sha256"}


def test_primers_are_rebuilt_natively(primers):
    """The native reading of the groove gives the primer Magenta's generator extracts."""
    for primer in primers:
        native = extract_drum_track(read_midi(primer.midi))
        offset = primer.recipe["start_step"] - native.start_step
        np.testing.assert_array_equal(
            native.events[offset : offset + primer.recipe["steps"]], primer.events
        )


def test_native_softmax_matches_magenta(model, primers):
    magenta_encoder = note_seq.LookbackEventSequenceEncoderDecoder(
        note_seq.MultiDrumOneHotEncoding(), lookback_distances=[], binary_counter_bits=6
    )
    lengths = set()
    for primer in primers:
        state = model.encoder.start(primer.events[None, :])
        magenta_inputs = magenta_encoder.get_inputs_batch([primer.track], full_length=True)
        np.testing.assert_array_equal(state.all_inputs[0], np.array(magenta_inputs[0]))
        native = model.softmax(primer.events)
        assert native.shape == primer.softmax.shape == (len(primer.events), 512)
        assert np.abs(native - primer.softmax).max() <= TOLERANCE
        lengths.add(len(primer.events))
    assert max(lengths) > 64, "past the attention window (32) and the 6-bit counter's wrap"


def test_cpu_fast_path_matches_magenta(model, primers):
    stepper = NumpyStepper(model.network)
    for primer in primers:
        inputs = model.encoder.start(primer.events[None, :]).all_inputs
        state, worst = stepper.zero_state(1), 0.0
        for t in range(inputs.shape[1]):
            logits, state = stepper.step(inputs[:, t], state)
            probs = torch.softmax(torch.from_numpy(logits[0]).double(), dim=-1).numpy()
            worst = max(worst, float(np.abs(probs - primer.softmax[t]).max()))
        assert worst <= TOLERANCE


def test_a_melody_bundle_is_refused_by_name():
    melody = Path(__file__).parents[2] / "fixtures" / "melody_rnn" / "basic_rnn.mag"
    with pytest.raises(CheckpointError, match=r"'basic_rnn' is not a supported DrumsRNN"):
        DrumsRnn.load(melody, "cpu")
