"""Continue a performance on a real chorale excerpt: length rules, timing, velocities, errors.

The models are the PerformanceRNN parity fixtures: magenta's `performance` and
`performance_with_dynamics` (3x128 LSTM), trained briefly by magenta itself, loaded natively.
"""

from dataclasses import replace
from pathlib import Path

import pytest

from bridge.models.events_rnn.sampling import SamplingOptions
from bridge.models.performance_rnn.generator import continue_performance
from bridge.models.performance_rnn.model import PerformanceRnn
from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi
from bridge.music.performance import MAX_NOTE_STEPS, bin_velocity
from bridge.music.scales import parse_key

FIXTURES = Path(__file__).parents[2] / "fixtures" / "performance_rnn"


@pytest.fixture(scope="module")
def models() -> dict[str, PerformanceRnn]:
    return {
        name: PerformanceRnn.load(FIXTURES / f"{name}.mag", "cpu")
        for name in ("performance", "performance_with_dynamics")
    }


@pytest.fixture(scope="module")
def excerpt(chorale_midi) -> Clip:
    """Two bars of BWV 99.6 (96 qpm, 4/4), cut at the second barline."""
    chorale = read_midi(chorale_midi("bach/bwv99.6.mxl"))
    notes = [
        replace(note, duration=min(note.end, 8.0) - note.start)
        for note in chorale.notes
        if note.start < 8.0
    ]
    return Clip(tuple(notes), 8.0, chorale.qpm, chorale.time_signature)


def test_continuations_have_the_asked_shape(models, excerpt):
    model = models["performance"]
    options = SamplingOptions(seed=1)
    results = continue_performance(model, excerpt, 2, 3, options)
    assert len(results) == 3
    seconds = 8 * 60 / excerpt.qpm
    for result in results:
        assert result.notes, "a continuation has notes"
        assert (result.length, result.qpm, result.time_signature) == (8.0, 96.0, (4, 4))
        for note in result.notes:
            assert 0 <= note.start < note.end <= result.length + 1e-9
            assert note.velocity == 100  # Magenta's, without velocity events
            assert note.duration <= MAX_NOTE_STEPS / 100 * excerpt.qpm / 60 + 1e-9
        # Magenta's generate section starts one 10 ms step after the clip's end.
        assert min(note.start for note in result.notes) >= 0.01 * excerpt.qpm / 60 - 1e-9
        assert max(note.end for note in result.notes) <= seconds * excerpt.qpm / 60 + 1e-9
    assert continue_performance(model, excerpt, 2, 3, options) == results, "same seed"
    assert len({result.notes for result in results}) == 3


def test_the_model_keeps_its_own_timing_unless_asked_to_quantize(models, excerpt):
    model = models["performance"]
    options = SamplingOptions(seed=7)
    (free,) = continue_performance(model, excerpt, 1, 1, options)
    (snapped,) = continue_performance(model, excerpt, 1, 1, options, quantize=True)
    assert any(not (note.start * 4).is_integer() for note in free.notes)
    for note in snapped.notes:
        assert (note.start * 4).is_integer() and (note.end * 4).is_integer()
        assert 0 <= note.start < note.end <= snapped.length + 1e-9
    assert {note.pitch for note in snapped.notes} <= {note.pitch for note in free.notes}


def test_dynamics_give_velocities_from_the_bins(models, excerpt):
    model = models["performance_with_dynamics"]
    results = continue_performance(model, excerpt, 2, 2, SamplingOptions(seed=3))
    velocities = {note.velocity for result in results for note in result.notes}
    assert velocities <= {bin_velocity(b, 32) for b in range(1, 33)}
    assert len(velocities) > 1


def test_seconds_count_as_magentas_generator_counts_them(models, excerpt):
    model = models["performance"]
    (result,) = continue_performance(
        model, excerpt, 1.5, sampling_options=SamplingOptions(seed=2), unit="seconds"
    )
    assert result.length == pytest.approx(1.5 * excerpt.qpm / 60)
    assert all(note.end <= result.length + 1e-9 for note in result.notes)


def test_muted_notes_and_notes_past_the_end_are_not_heard(models, excerpt):
    model = models["performance"]
    options = SamplingOptions(seed=4)
    noisy = replace(
        excerpt,
        notes=(*excerpt.notes, Note(30, 1.0, 2.0, mute=True), Note(31, 8.0, 1.0)),
    )
    assert continue_performance(model, noisy, 1, 1, options) == continue_performance(
        model, excerpt, 1, 1, options
    )


@pytest.mark.parametrize(
    ("amount", "unit", "variations", "message"),
    [
        (0, "bars", 1, "bars must be a whole number of at least 1"),
        (1.5, "bars", 1, "bars must be a whole number"),
        (1, "bars", 0, "variations must"),
        (0.0, "seconds", 1, "seconds must be above 0"),
        (float("nan"), "seconds", 1, "seconds must be above 0"),
        (0.01, "seconds", 1, "shorter than one 10 ms step"),
        (1, "beats", 1, "unit must be"),
        (601, "seconds", 1, "at most 600 s"),
        (300, "bars", 1, "300 bars last 750 s"),
    ],
)
def test_bad_requests_are_refused(models, excerpt, amount, unit, variations, message):
    with pytest.raises(ClipError, match=message):
        continue_performance(models["performance"], excerpt, amount, variations, unit=unit)


def test_a_clip_without_notes_is_refused(models):
    silent = Clip((Note(60, 0.0, 1.0, mute=True),), 4.0)
    with pytest.raises(ClipError, match="no notes to continue"):
        continue_performance(models["performance"], silent)


def test_a_clip_ending_short_of_the_bar_continues_from_the_bar_line(models, excerpt):
    notes = tuple(
        replace(note, duration=min(note.end, 7.5) - note.start)
        for note in excerpt.notes
        if note.start < 7.5
    )
    options = SamplingOptions(seed=3)
    short, whole = (Clip(notes, length, excerpt.qpm) for length in (7.5, 8.0))
    for model in models.values():
        results = continue_performance(model, short, 1, 2, options)
        assert results == continue_performance(model, whole, 1, 2, options)


@pytest.mark.parametrize("name", ["performance", "performance_with_dynamics"])
def test_a_key_and_range_mask_every_note_the_model_starts(models, excerpt, name):
    key = parse_key("Eb:major")  # the chorale is in G major: a strict test
    allowed = {pitch for pitch in range(50, 80) if pitch % 12 in key.pitch_classes}
    options = SamplingOptions(temperature=1.2, seed=3)
    free = continue_performance(models[name], excerpt, 2, 3, options)
    locked = continue_performance(models[name], excerpt, 2, 3, options, allowed_pitches=allowed)
    assert any(n.pitch not in allowed for r in free for n in r.notes), "unlocked, notes stray"
    notes = [note for result in locked for note in result.notes]
    assert notes and all(note.pitch in allowed for note in notes)
