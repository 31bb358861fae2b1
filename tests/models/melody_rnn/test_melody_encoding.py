"""The native encoders must reproduce note_seq's (Magenta's) inputs, labels and decoding."""

import note_seq
import numpy as np
import pytest

from bridge.models.melody_rnn.config import CONFIGS
from bridge.models.melody_rnn.encoding import MelodyEncoder

REFERENCES = {
    "basic_rnn": lambda: note_seq.OneHotEventSequenceEncoderDecoder(
        note_seq.MelodyOneHotEncoding(48, 84)
    ),
    "lookback_rnn": lambda: note_seq.LookbackEventSequenceEncoderDecoder(
        note_seq.MelodyOneHotEncoding(48, 84)
    ),
    "attention_rnn": lambda: note_seq.KeyMelodyEncoderDecoder(48, 84),
}


def random_melodies(seed: int, count: int = 12) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    melodies = []
    for trial in range(count):
        events = rng.choice([-2, -2, -2, -1, *range(48, 84)], size=int(rng.integers(2, 90)))
        if trial % 3 == 0 and len(events) > 16:  # bar repeats exercise the lookback classes
            for t in range(16, len(events)):
                events[t] = events[t - 16]
        melodies.append(np.array(list(note_seq.Melody(list(events)))))
    return melodies


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_inputs_labels_and_sizes_match_note_seq(name):
    reference, encoder = REFERENCES[name](), MelodyEncoder(CONFIGS[name])
    assert (encoder.input_size, encoder.num_classes) == (
        reference.input_size,
        reference.num_classes,
    )
    for events in random_melodies(seed=len(name)):
        inputs, labels = encoder.encode(events)
        ref_inputs, ref_labels = reference.encode(note_seq.Melody(list(events)))
        np.testing.assert_array_equal(
            inputs, np.array(ref_inputs, dtype=np.float32).reshape(inputs.shape)
        )
        np.testing.assert_array_equal(labels, ref_labels)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_every_class_decodes_like_note_seq(name):
    reference, encoder = REFERENCES[name](), MelodyEncoder(CONFIGS[name])
    for events in random_melodies(seed=7, count=6):
        decoded = encoder.start(events[None, :]).class_events()[0]
        expected = [
            reference.class_index_to_event(c, list(events)) for c in range(encoder.num_classes)
        ]
        np.testing.assert_array_equal(decoded, expected)


def test_incremental_inputs_equal_whole_sequence_inputs():
    encoder = MelodyEncoder(CONFIGS["attention_rnn"])
    events = random_melodies(seed=3, count=1)[0]
    whole = encoder.start(events[None, :]).all_inputs[0]
    state = encoder.start(events[None, :1])
    stepped = [state.all_inputs[0, 0]] + [
        state.advance(events[None, t])[0] for t in range(1, len(events))
    ]
    np.testing.assert_array_equal(np.stack(stepped), whole)
