"""The native performance encoder must reproduce note_seq's inputs, labels and decoding.

Real polyphony: Bach chorales from music21's corpus (rendered by the `chorale_midi` fixture)
and BWV 66.6 as committed for the music tests, read as clips and performed as note_seq
performs a NoteSequence quantized at 100 steps a second. The chorales play at one velocity,
so each note gets one of several velocities here, to exercise the VELOCITY events.
"""

from dataclasses import replace
from pathlib import Path

import note_seq
import numpy as np
import pytest

from bridge.models.performance_rnn.config import CONFIGS
from bridge.models.performance_rnn.encoding import PerformanceEncoder
from bridge.music.clip import Clip
from bridge.music.midi import read_midi
from bridge.music.notesequence import clip_to_note_sequence
from bridge.music.performance import extract_performance

CHORALES = ["bach/bwv10.7.mxl", "bach/bwv97.9.mxl", "bach/bwv177.4.mxl"]
BWV66 = Path(__file__).parents[2] / "music" / "data" / "bach_bwv66_6.mid"


def with_dynamics(clip: Clip) -> Clip:
    notes = [replace(n, velocity=20 + (37 * i) % 100) for i, n in enumerate(clip.notes)]
    return replace(clip, notes=tuple(notes))


@pytest.fixture(scope="module")
def clips(chorale_midi) -> list[Clip]:
    chorales = [read_midi(chorale_midi(name)) for name in CHORALES]
    return [read_midi(BWV66), *chorales, *(with_dynamics(clip) for clip in chorales)]


def magenta_performance(clip: Clip, num_velocity_bins: int) -> note_seq.Performance:
    quantized = note_seq.quantize_note_sequence_absolute(clip_to_note_sequence(clip), 100)
    return note_seq.Performance(quantized, num_velocity_bins=num_velocity_bins)


def magenta_encoder(num_velocity_bins: int):
    """performance_model.default_configs[...].encoder_decoder, as Magenta builds it."""
    return note_seq.OneHotEventSequenceEncoderDecoder(
        note_seq.PerformanceOneHotEncoding(num_velocity_bins=num_velocity_bins)
    )


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_inputs_and_labels_match_note_seq(clips, name):
    config = CONFIGS[name]
    magenta, encoder = magenta_encoder(config.num_velocity_bins), PerformanceEncoder(config)
    assert (encoder.input_size, encoder.num_classes) == (magenta.input_size, magenta.num_classes)
    assert encoder.num_classes == (356 if name == "performance" else 388)
    for clip in clips:
        performance = extract_performance(clip, config.num_velocity_bins)
        reference = magenta_performance(clip, config.num_velocity_bins)
        inputs, labels = encoder.encode(performance.events)
        magenta_inputs, magenta_labels = magenta.encode(reference)
        np.testing.assert_array_equal(inputs, np.array(magenta_inputs, dtype=np.float32))
        np.testing.assert_array_equal(labels, magenta_labels)
        assert performance.num_steps == reference.num_steps


def test_every_class_decodes_like_note_seq():
    for config in CONFIGS.values():
        magenta = magenta_encoder(config.num_velocity_bins)
        decoded = PerformanceEncoder(config).start(np.array([[0]])).class_events()[0]
        encoding = note_seq.PerformanceOneHotEncoding(num_velocity_bins=config.num_velocity_bins)
        expected = [
            encoding.encode_event(magenta.class_index_to_event(c, []))
            for c in range(magenta.num_classes)
        ]
        np.testing.assert_array_equal(decoded, expected)


def test_velocity_events_are_exercised(clips):
    """The dynamics clips change bin often; the chorales as music21 writes them, once."""
    counts = [int((extract_performance(clip, 32).events > 355).sum()) for clip in clips]
    assert counts[1:4] == [1, 1, 1]
    assert min(counts[4:]) > 100


def test_incremental_inputs_equal_whole_performance_inputs(clips):
    encoder = PerformanceEncoder(CONFIGS["performance_with_dynamics"])
    events = extract_performance(clips[-1], 32).events
    whole = encoder.start(events[None, :]).all_inputs[0]
    state = encoder.start(events[None, :1], capacity=2)  # grows past its capacity
    stepped = [state.all_inputs[0, 0]] + [
        state.advance(events[None, t])[0] for t in range(1, len(events))
    ]
    np.testing.assert_array_equal(np.stack(stepped), whole)
    np.testing.assert_array_equal(state.melodies()[0], events)
