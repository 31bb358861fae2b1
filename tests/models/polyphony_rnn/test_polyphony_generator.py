"""Continue polyphony on real chorale excerpts: shape, grid, velocity, seeds and clear errors.

The model is the PolyphonyRNN parity fixture: magenta's polyphony config at its default
size, trained briefly by magenta itself on other chorales, loaded natively.
"""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bridge.models.events_rnn.sampling import SamplingOptions
from bridge.models.polyphony_rnn.generator import continue_polyphony
from bridge.models.polyphony_rnn.model import PolyphonyRnn
from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi
from bridge.music.polyphony import (
    CONTINUED_NOTE,
    NEW_NOTE,
    STEP_END,
    PolyphonicSequence,
    extract_polyphonic_sequence,
)
from bridge.music.scales import parse_key

BUNDLE = Path(__file__).parents[2] / "fixtures" / "polyphony_rnn" / "polyphony.mag"
BUNDLED = Path(__file__).parents[3] / "models" / "pretrained" / "bach_polyphony.safetensors"


@pytest.fixture(scope="module")
def model() -> PolyphonyRnn:
    return PolyphonyRnn.load(BUNDLE, "cpu")


def excerpt(midi: bytes, bars: int) -> Clip:
    """The chorale's first bars as a clip, each voice at its own velocity."""
    chorale = read_midi(midi)
    length = bars * chorale.beats_per_bar
    velocities = {}
    notes = []
    for note in chorale.notes:
        if note.start < length:
            velocity = velocities.setdefault(note.pitch % 4, 60 + 10 * (note.pitch % 4))
            notes.append(Note(note.pitch, note.start, note.duration, velocity))
    return Clip(tuple(notes), length, chorale.qpm, chorale.time_signature)


@pytest.fixture(scope="module")
def chorale(chorale_midi) -> Clip:
    return excerpt(chorale_midi("bach/bwv99.6.mxl"), 2)  # 4/4 at 96 qpm


def test_continuations_have_the_asked_shape(model, chorale):
    options = SamplingOptions(seed=1)
    results = continue_polyphony(model, chorale, bars=2, variations=3, sampling_options=options)
    assert len(results) == 3
    velocity = round(sum(n.velocity for n in chorale.notes) / len(chorale.notes))
    for result in results:
        assert result.notes, "a continuation has notes"
        assert result.length == 8.0
        assert (result.qpm, result.time_signature) == (96.0, (4, 4))
        for note in result.notes:
            assert 0 <= note.start < result.length and note.end <= result.length
            assert (note.start * 4).is_integer() and (note.duration * 4).is_integer()
            assert note.velocity == velocity
    assert any(max(Counter(n.start for n in r.notes).values()) > 1 for r in results), "chords"
    assert continue_polyphony(model, chorale, 2, 3, options) == results, "same seed, same result"
    assert len({result.notes for result in results}) == 3


def test_three_four_time_keeps_its_bars(model, chorale_midi):
    clip = excerpt(chorale_midi("bach/bwv65.2.mxl"), 3)
    assert clip.time_signature == (3, 4)
    (result,) = continue_polyphony(model, clip, bars=1, sampling_options=SamplingOptions(seed=4))
    assert result.length == 3.0 and result.time_signature == (3, 4)
    assert all(note.end <= 3.0 for note in result.notes)


def test_bad_requests_are_refused(model, chorale):
    with pytest.raises(ClipError, match="no audible notes"):
        continue_polyphony(model, Clip((Note(60, 0, 1, mute=True),), 4))
    with pytest.raises(ClipError, match="bars must be"):
        continue_polyphony(model, chorale, bars=0)
    with pytest.raises(ClipError, match="variations must be"):
        continue_polyphony(model, chorale, variations=True)


def test_a_pitch_started_twice_on_a_step_is_one_note(model, chorale, monkeypatch):
    """Magenta's decoding allows NEW_NOTE 60 twice in one step; a clip gets one note."""
    primer = extract_polyphonic_sequence(chorale, model.config.steps_per_quarter)
    doubled = [*primer.events, NEW_NOTE + 60, NEW_NOTE + 60, STEP_END]
    doubled += [CONTINUED_NOTE + 60, STEP_END] + [STEP_END] * 30

    def generate(primer_sequence, steps, variations, options, progress, **constraints):
        return [PolyphonicSequence(np.asarray(doubled), primer_sequence.steps_per_quarter)]

    monkeypatch.setattr(model, "generate", generate)
    (result,) = continue_polyphony(model, chorale, bars=2)
    assert [(n.pitch, n.start, n.duration) for n in result.notes] == [(60, 0.0, 0.5)]


def test_a_held_chord_goes_on_from_the_bar_line():
    """The bundled Bach model, nearly greedy, mostly holds a chord held through the clip:
    the results hold it from beat 0 instead of coming back empty."""
    model = PolyphonyRnn.load(BUNDLED, "cpu")
    chord = (48, 55, 64, 72)
    clip = Clip(tuple(Note(pitch, 0.0, 8.0, 80) for pitch in chord), 8.0, 96.0)
    for seed in range(6):
        options = SamplingOptions(temperature=0.2, seed=seed)
        (result,) = continue_polyphony(model, clip, bars=2, sampling_options=options)
        assert result.notes, f"seed {seed}: an empty continuation"
        held = sorted(n.pitch for n in result.notes if n.start == 0.0)
        assert held == list(chord), f"seed {seed}"
        assert all(n.duration >= 1.0 and n.velocity == 80 for n in result.notes if n.start == 0)


def test_a_clip_ending_short_of_the_bar_continues_from_the_bar_line(chorale):
    model = PolyphonyRnn.load(BUNDLED, "cpu")
    notes = tuple(note for note in chorale.notes if note.start < 7.5)
    options = SamplingOptions(seed=4)
    short, whole = (Clip(notes, length, 96.0) for length in (7.5, 8.0))
    results = continue_polyphony(model, short, 2, 2, options)
    assert results == continue_polyphony(model, whole, 2, 2, options)


def test_a_key_and_range_mask_every_note_the_model_plays(chorale_midi):
    """The issue's chord clip: at temperature 1 a chorale's continuation drifts out of key;
    locked to the key, every new note is in it, by construction, and inside the range."""
    bundled = PolyphonyRnn.load(BUNDLED, "cpu")
    clip = excerpt(chorale_midi("bach/bwv99.6.mxl"), 2)
    key = parse_key("Bb:major")  # the chorale's own key is G major: a strict test
    options = SamplingOptions(temperature=1.0, seed=4)
    free = continue_polyphony(bundled, clip, 4, 4, options)
    locked = continue_polyphony(bundled, clip, 4, 4, options, None, allowed(key, 48, 76))
    out_of_key = [n for r in free for n in r.notes if n.pitch % 12 not in key.pitch_classes]
    assert out_of_key, "unlocked, some notes leave B-flat major"
    for result in locked:
        assert result.notes
        assert all(n.pitch % 12 in key.pitch_classes and 48 <= n.pitch <= 76 for n in result.notes)


def allowed(key, low: int, high: int) -> set[int]:
    return {pitch for pitch in range(low, high + 1) if pitch % 12 in key.pitch_classes}
