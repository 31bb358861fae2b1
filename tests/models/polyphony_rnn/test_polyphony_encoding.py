"""The native polyphony encoding must reproduce Magenta's events, inputs, labels and notes.

Real polyphony: Bach chorales from music21's corpus, all voices. The encoder is checked
in-process against note_seq's OneHotEventSequenceEncoderDecoder (the class PolyphonyRNN
uses); the extraction of primers, the encoder and the way events become notes again are
checked against magenta's own polyphony_lib, which needs TensorFlow and so runs in the
magenta environment (models/reference/polyphony_lib_probe.py), skipped when it is missing.
"""

from __future__ import annotations

import base64
import json
import random
import subprocess
from pathlib import Path

import note_seq
import numpy as np
import pytest

from bridge.models.magenta_backend.backend import MagentaBackendError, magenta_python
from bridge.models.polyphony_rnn.config import CONFIGS, PolyphonyRnnConfig
from bridge.models.polyphony_rnn.encoding import PolyphonyEncoder
from bridge.music.clip import Clip
from bridge.music.midi import read_midi
from bridge.music.polyphony import (
    CONTINUED_NOTE,
    END,
    NEW_NOTE,
    NUM_POLYPHONIC_EVENTS,
    START,
    STEP_END,
    PolyphonicSequence,
    extract_polyphonic_sequence,
    polyphonic_events,
)
from bridge.music.quantize import quantize

PROBE = Path(__file__).parents[3] / "models" / "reference" / "polyphony_lib_probe.py"
# Five voices at 76 qpm; a repeated time signature; 3/4; and a fourth chorale.
CHORALES = ["bach/bwv1.6.mxl", "bach/bwv103.6.mxl", "bach/bwv79.6.mxl", "bach/bwv337.mxl"]
# (start step, steps); None: the whole chorale. Notes starting before the start are left out.
SPANS = [(0, None), (16, 64), (5, 30)]
POLYPHONY = PolyphonyRnnConfig()


class _Classes(note_seq.OneHotEncoding):
    """PolyphonyOneHotEncoding for events that are their classes already."""

    num_classes = NUM_POLYPHONIC_EVENTS
    default_event = STEP_END

    def encode_event(self, event):
        return event

    def decode_event(self, index):
        return index


def native_primer(midi: bytes, start: int, steps: int | None) -> PolyphonicSequence:
    clip = read_midi(midi)
    if steps is None:
        steps = quantize(clip).total_steps
    if start == 0:  # the clip as the tool reads it: from step 0 to its end
        cut = Clip(clip.notes, steps / 4, clip.qpm, clip.time_signature)
        return extract_polyphonic_sequence(cut)
    events = polyphonic_events(quantize(clip), start, steps)
    return PolyphonicSequence(np.array(events))


@pytest.fixture(scope="module")
def primers(chorale_midi) -> list[tuple[str, int, int, bytes, PolyphonicSequence]]:
    cases = []
    for chorale in CHORALES:
        midi = chorale_midi(chorale)
        for start, steps in SPANS:
            primer = native_primer(midi, start, steps)
            cases.append((chorale, start, primer.num_steps, midi, primer))
    return cases


def random_sequences(count: int, seed: int = 7) -> list[dict]:
    """Event soups a model might sample: repeated and unheld pitches, stray START and END,
    unfinished last steps, and lengths cut or padded by set_length."""
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        events = [START]
        for _ in range(rng.randint(0, 120)):
            kind = rng.random()
            pitch = rng.choice([60, 62, 64, 67, 127, 0])
            if kind < 0.3:
                events.append(STEP_END)
            elif kind < 0.6:
                events.append(NEW_NOTE + pitch)
            elif kind < 0.9:
                events.append(CONTINUED_NOTE + pitch)
            else:
                events.append(rng.choice([START, END]))
        steps = max(0, events.count(STEP_END) + rng.randint(-5, 5))
        cases.append({"events": events, "steps": steps})
    return cases


@pytest.fixture(scope="module")
def magenta(primers) -> dict:
    """magenta's polyphony_lib on the chorale primers and on event soups, in one run."""
    try:
        python = magenta_python()
    except MagentaBackendError as error:
        pytest.skip(f"Google's magenta environment is missing: {error}")
    decode = [
        {"events": primer.events.tolist(), "steps": primer.num_steps + extra}
        for extra, (*_, primer) in enumerate(primers)
    ] + random_sequences(60)
    request = {
        "extract": [
            {"midi": base64.b64encode(midi).decode("ascii"), "start_step": start, "steps": steps}
            for _, start, steps, midi, _ in primers
        ],
        "decode": decode,
    }
    done = subprocess.run(
        [str(python), str(PROBE)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    reply = json.loads(done.stdout)
    reply["decode_requests"] = decode
    return reply


def test_polyphony_is_magentas_config():
    assert CONFIGS["polyphony"] == POLYPHONY
    assert POLYPHONY.layer_sizes == (256, 256, 256) and POLYPHONY.attn_length == 0
    assert (POLYPHONY.batch_size, POLYPHONY.clip_norm, POLYPHONY.dropout_keep_prob) == (
        64,
        5.0,
        0.5,
    )
    encoder = PolyphonyEncoder(POLYPHONY)
    assert (encoder.input_size, encoder.num_classes) == (259, 259)


def test_inputs_and_labels_match_note_seq(primers):
    magenta, encoder = (
        note_seq.OneHotEventSequenceEncoderDecoder(_Classes()),
        PolyphonyEncoder(POLYPHONY),
    )
    assert (encoder.input_size, encoder.num_classes) == (magenta.input_size, magenta.num_classes)
    for *_, primer in primers:
        events = primer.events.tolist()
        inputs, labels = encoder.encode(primer.events)
        magenta_inputs, magenta_labels = magenta.encode(events)
        np.testing.assert_array_equal(inputs, np.array(magenta_inputs, dtype=np.float32))
        np.testing.assert_array_equal(labels, magenta_labels)
        full = magenta.get_inputs_batch([events], full_length=True)[0]
        np.testing.assert_array_equal(encoder.start(primer.events[None]).all_inputs[0], full)


def test_every_class_decodes_to_its_event():
    encoder = PolyphonyEncoder(POLYPHONY)
    state = encoder.start(np.array([[START, STEP_END]] * 3))
    np.testing.assert_array_equal(state.class_events(), np.tile(np.arange(259), (3, 1)))


def test_incremental_inputs_equal_whole_sequence_inputs(primers):
    encoder = PolyphonyEncoder(POLYPHONY)
    events = primers[0][-1].events
    whole = encoder.start(events[None, :]).all_inputs[0]
    state = encoder.start(events[None, :1], capacity=2)  # grows past its capacity
    stepped = [state.all_inputs[0, 0]] + [
        state.advance(events[None, t])[0] for t in range(1, len(events))
    ]
    np.testing.assert_array_equal(np.stack(stepped), whole)
    np.testing.assert_array_equal(state.melodies()[0], events)
    state.select(np.array([0, 0]))
    assert state.melodies().shape == (2, len(events))


def test_primers_are_extracted_as_magenta_does(magenta, primers):
    assert len(magenta["extract"]) == len(primers)
    for reference, (chorale, start, steps, _, primer) in zip(
        magenta["extract"], primers, strict=True
    ):
        assert primer.events.tolist() == reference["events"], f"{chorale} from step {start}"
        assert primer.num_steps == steps
    longest = max(len(primer) for *_, primer in primers)
    assert longest > 1000, "whole chorales, thousands of events"


def test_encoder_matches_magentas_on_chorales(magenta, primers):
    encoder = PolyphonyEncoder(POLYPHONY)
    for reference, (*_, primer) in zip(magenta["extract"], primers, strict=True):
        inputs, labels = encoder.encode(primer.events)
        assert np.all(inputs.sum(axis=1) == 1)
        assert inputs.argmax(axis=1).tolist() == reference["inputs"]
        assert labels.tolist() == reference["labels"]


def test_events_become_notes_as_magenta_makes_them(magenta):
    requests, replies = magenta["decode_requests"], magenta["decode"]
    assert len(requests) == len(replies) > 60
    for request, reply in zip(requests, replies, strict=True):
        sequence = PolyphonicSequence(np.array(request["events"])).set_length(request["steps"])
        assert sequence.events.tolist() == reply["events"]
        notes = sorted((n.pitch, round(n.start * 4), round(n.end * 4)) for n in sequence.to_notes())
        assert notes == sorted(tuple(note) for note in reply["notes"]), request
