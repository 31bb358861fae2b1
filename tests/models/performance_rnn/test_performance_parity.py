"""PerformanceRNN bundles made by Google's magenta load natively and give Magenta's probabilities.

The fixtures were written by models/reference/make_performance_rnn_fixtures.py: magenta's
`performance` and `performance_with_dynamics` configs (3x128 LSTM instead of the default
3x512, to keep the bundles small), trained with magenta's own pipeline and loop on Bach
chorales from music21, saved with its own create_bundle_file, and Magenta's teacher-forced
softmax recorded for excerpts of held-out chorales. No TensorFlow is needed.

The music21 corpus is non-commercial data, so the primers are not stored: the reference says
how to rebuild each one (chorale, first beat, beats) and holds the SHA-256 of its events.
Here the chorale is rendered again with music21 (the `chorale_midi` fixture), the primer
rebuilt as Magenta's generator reads one (note_seq), checked against that hash, read
natively from the same excerpt as a clip, and encoded natively.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import note_seq
import numpy as np
import pytest
import torch
from note_seq.protobuf import music_pb2

from bridge.models.checkpoints.tf_v1 import CheckpointError
from bridge.models.events_rnn.steppers import NumpyStepper
from bridge.models.performance_rnn.config import CONFIGS
from bridge.models.performance_rnn.model import PerformanceRnn
from bridge.music.notesequence import note_sequence_to_clip
from bridge.music.performance import performance_primer

FIXTURES = Path(__file__).parents[2] / "fixtures" / "performance_rnn"
NAMES = ["performance", "performance_with_dynamics"]
TOLERANCE = 1e-4


def reference(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}_reference.json").read_text())


@dataclass(frozen=True)
class Primer:
    recipe: dict
    sequence: music_pb2.NoteSequence  # the chorale excerpt, as magenta's generator gets it
    performance: note_seq.Performance  # as PerformanceRnnSequenceGenerator reads a primer
    events: np.ndarray  # its PerformanceOneHotEncoding indices
    softmax: np.ndarray  # magenta's, [events, classes]


def primer_sha256(events) -> str:
    """models/reference/fixture_common.primer_sha256: the indices, decimal, comma-separated."""
    return hashlib.sha256(",".join(str(int(e)) for e in events).encode("ascii")).hexdigest()


def excerpt(midi: bytes, start_beat: int, beats: int, voice_velocities: list[int]):
    """make_performance_rnn_fixtures.excerpt: notes starting in the beats, cut, from time 0."""
    sequence = note_seq.midi_to_note_sequence(midi)
    qpm = sequence.tempos[0].qpm
    start, end = start_beat * 60.0 / qpm, (start_beat + beats) * 60.0 / qpm
    out = music_pb2.NoteSequence(ticks_per_quarter=sequence.ticks_per_quarter)
    out.tempos.add(time=0.0, qpm=qpm)
    signature = sequence.time_signatures[0]
    out.time_signatures.add(
        time=0.0, numerator=signature.numerator, denominator=signature.denominator
    )
    for note in sequence.notes:
        if start <= note.start_time < end:
            out.notes.add(
                pitch=note.pitch,
                velocity=voice_velocities[note.instrument % len(voice_velocities)],
                start_time=note.start_time - start,
                end_time=min(note.end_time, end) - start,
            )
    out.total_time = end - start
    return out


def generator_primer(sequence, num_velocity_bins: int) -> note_seq.Performance:
    """As PerformanceRnnSequenceGenerator._generate reads a primer ending at total_time."""
    quantized = note_seq.quantize_note_sequence_absolute(sequence, 100)
    performance = note_seq.Performance(quantized, num_velocity_bins=num_velocity_bins)
    performance.set_length(note_seq.quantize_to_step(sequence.total_time, 100, 0.0))
    return performance


def one_hot(num_velocity_bins: int):
    return note_seq.PerformanceOneHotEncoding(num_velocity_bins=num_velocity_bins)


@pytest.fixture(scope="module", params=NAMES)
def case(request, chorale_midi) -> tuple[str, PerformanceRnn, list[Primer]]:
    name = request.param
    doc = reference(name)
    bins = doc["num_velocity_bins"]
    recipes = doc["primers"]["recipes"]
    primers = []
    with np.load(FIXTURES / f"{name}_reference.npz") as softmaxes:
        assert sorted(softmaxes.files) == [f"softmax_{i}" for i in range(len(recipes))]
        for i, recipe in enumerate(recipes):
            sequence = excerpt(
                chorale_midi(recipe["chorale"]),
                recipe["start_beat"],
                recipe["beats"],
                doc["primers"]["voice_velocities"],
            )
            performance = generator_primer(sequence, bins)
            events = np.array([one_hot(bins).encode_event(e) for e in performance])
            if primer_sha256(events) != recipe["primer_sha256"]:
                pytest.fail(
                    f"primer {i} ({recipe['chorale']}, {recipe['beats']} beats from beat "
                    f"{recipe['start_beat']}) is not the one magenta's softmax was recorded "
                    f"for: music21 renders the chorale differently than music21 "
                    f"{doc['versions']['music21']} did. Remake the fixtures with "
                    f"models/reference/make_performance_rnn_fixtures.py."
                )
            primers.append(Primer(recipe, sequence, performance, events, softmaxes[f"softmax_{i}"]))
    return name, PerformanceRnn.load(FIXTURES / f"{name}.mag", "cpu"), primers


def test_the_fixtures_are_small_and_store_no_primer():
    for name in NAMES:
        doc = reference(name)
        assert doc["hparams_training"]["rnn_layer_sizes"] == [128, 128, 128]
        assert doc["bundle"]["generator_id"] == name
        assert (FIXTURES / f"{name}.mag").stat().st_size < 3_000_000
        with np.load(FIXTURES / f"{name}_reference.npz") as data:
            assert all(key.startswith("softmax_") for key in data.files)
            assert all(data[key].dtype == np.float32 for key in data.files)
        for recipe in doc["primers"]["recipes"]:
            assert set(recipe) == {
                "chorale",
                "start_beat",
                "beats",
                "events",
                "steps",
                "primer_sha256",
            }


def test_configs_are_magentas():
    for name in NAMES:
        doc, config = reference(name), CONFIGS[name]
        assert doc["encoder_decoder"] == "OneHotEventSequenceEncoderDecoder"
        assert config.num_velocity_bins == doc["num_velocity_bins"]
        assert config.steps_per_second == doc["steps_per_second"] == 100
        assert config.num_classes == doc["num_classes"] == doc["input_size"]
        assert config.layer_sizes == (512, 512, 512)  # magenta's default, not the fixture's
        hparams = doc["hparams_training"]
        assert (hparams["attn_length"], hparams["dropout_keep_prob"]) == (0, 1.0)
        assert (config.clip_norm, config.learning_rate) == (
            hparams["clip_norm"],
            hparams["learning_rate"],
        )


def test_primers_are_rebuilt_natively(case):
    """The excerpt read as a clip gives the primer Magenta's generator reads."""
    name, model, primers = case
    for primer in primers:
        clip = note_sequence_to_clip(primer.sequence)
        native = performance_primer(clip, model.config.num_velocity_bins)
        np.testing.assert_array_equal(native.events, primer.events)
        assert native.num_steps == primer.performance.num_steps == primer.recipe["steps"]
    lengths = [len(primer.events) for primer in primers]
    assert lengths == [primer.recipe["events"] for primer in primers]
    every = np.concatenate([primer.events for primer in primers])
    assert (every == 355).any(), "a full one-second TIME_SHIFT"
    if name == "performance_with_dynamics":
        assert len(set(every[every > 355].tolist())) >= 3, "several VELOCITY events"


def test_native_softmax_matches_magenta(case):
    name, model, primers = case
    assert model.config.name == name and model.config.layer_sizes == (128, 128, 128)
    encoder = note_seq.OneHotEventSequenceEncoderDecoder(one_hot(model.config.num_velocity_bins))
    for primer in primers:
        state = model.encoder.start(primer.events[None, :])
        magenta_inputs = encoder.get_inputs_batch([primer.performance], full_length=True)
        np.testing.assert_array_equal(state.all_inputs[0], np.array(magenta_inputs[0]))
        native = model.softmax(primer.events)
        assert native.shape == primer.softmax.shape == (len(primer.events), encoder.num_classes)
        assert np.abs(native - primer.softmax).max() <= TOLERANCE


def test_cpu_fast_path_matches_magenta(case):
    _, model, primers = case
    stepper = NumpyStepper(model.network)
    for primer in primers:
        inputs = model.encoder.start(primer.events[None, :]).all_inputs
        state, worst = stepper.zero_state(1), 0.0
        for t in range(inputs.shape[1]):
            logits, state = stepper.step(inputs[:, t], state)
            probs = torch.softmax(torch.from_numpy(logits[0]).double(), dim=-1).numpy()
            worst = max(worst, float(np.abs(probs - primer.softmax[t]).max()))
        assert worst <= TOLERANCE


def test_other_bundles_are_refused_by_name():
    melody = Path(__file__).parents[2] / "fixtures" / "melody_rnn" / "basic_rnn.mag"
    with pytest.raises(CheckpointError, match=r"'basic_rnn' is not a supported PerformanceRNN"):
        PerformanceRnn.load(melody, "cpu")
