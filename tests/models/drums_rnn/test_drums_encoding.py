"""The native drum encoder must reproduce note_seq's inputs, labels and decoding.

Real drum tracks: grooves rendered by Debian's mma, read by note_seq exactly as Magenta's
DrumsRNN generator reads a primer.
"""

import note_seq
import numpy as np
import pytest

from bridge.models.drums_rnn.config import CONFIGS, DrumsRnnConfig
from bridge.models.drums_rnn.encoding import DrumEncoder

GROOVES = [
    ("stdlib/popballad", "PopBallad1"),  # 4/4, eight of the nine classes
    ("stdlib/lfusion", "LFusionIntro"),
    ("stdlib/modernjazzwaltz", "ModernJazzWaltz"),  # 3/4
    ("stdlib/afro-cuban", "Afro-Cuban"),  # 6/8
    ("stdlib/bvfunk", "BVFunkIntro"),  # first hit in the second bar
]
DRUM_KIT = DrumsRnnConfig()


def magenta_track(midi: bytes):
    """A note_seq DrumTrack as DrumsRnnSequenceGenerator extracts its primer."""
    quantized = note_seq.quantize_note_sequence(note_seq.midi_to_note_sequence(midi), 4)
    track = note_seq.DrumTrack()
    track.from_quantized_sequence(quantized, gap_bars=float("inf"), ignore_is_drum=True)
    assert len(track) > 32
    return track


def reference():
    """drums_rnn_model.default_configs["drum_kit"].encoder_decoder, as Magenta builds it."""
    return note_seq.LookbackEventSequenceEncoderDecoder(
        note_seq.MultiDrumOneHotEncoding(), lookback_distances=[], binary_counter_bits=6
    )


def events_of(track) -> np.ndarray:
    one_hot = note_seq.MultiDrumOneHotEncoding()
    return np.array([one_hot.encode_event(event) for event in track])


@pytest.fixture(scope="module")
def tracks(render_groove):
    return [magenta_track(render_groove(file, name)) for file, name in GROOVES]


def test_drum_kit_is_magentas_config():
    assert CONFIGS["drum_kit"] == DRUM_KIT
    assert (DRUM_KIT.layer_sizes, DRUM_KIT.attn_length) == ((256, 256, 256), 32)
    assert DRUM_KIT.binary_counter_bits == 6 and DRUM_KIT.steps_per_quarter == 4
    encoder = DrumEncoder(DRUM_KIT)
    assert (encoder.input_size, encoder.num_classes) == (518, 512)


def test_inputs_and_labels_match_note_seq(tracks):
    magenta, encoder = reference(), DrumEncoder(DRUM_KIT)
    assert (encoder.input_size, encoder.num_classes) == (magenta.input_size, magenta.num_classes)
    for track in tracks:
        inputs, labels = encoder.encode(events_of(track))
        magenta_inputs, magenta_labels = magenta.encode(track)
        np.testing.assert_array_equal(inputs, np.array(magenta_inputs, dtype=np.float32))
        np.testing.assert_array_equal(labels, magenta_labels)


def test_every_class_decodes_like_note_seq(tracks):
    magenta, encoder = reference(), DrumEncoder(DRUM_KIT)
    one_hot = note_seq.MultiDrumOneHotEncoding()
    for track in tracks:
        for length in (1, 20, len(track)):
            events = events_of(track)[:length]
            decoded = encoder.start(events[None, :]).class_events()[0]
            expected = [
                one_hot.encode_event(magenta.class_index_to_event(c, list(track)[:length]))
                for c in range(encoder.num_classes)
            ]
            np.testing.assert_array_equal(decoded, expected)


def test_incremental_inputs_equal_whole_track_inputs(tracks):
    encoder = DrumEncoder(DRUM_KIT)
    events = events_of(tracks[0])
    whole = encoder.start(events[None, :]).all_inputs[0]
    state = encoder.start(events[None, :1], capacity=2)  # grows past its capacity
    stepped = [state.all_inputs[0, 0]] + [
        state.advance(events[None, t])[0] for t in range(1, len(events))
    ]
    np.testing.assert_array_equal(np.stack(stepped), whole)
